# report_test unit-tests the CLI's own SVG writer too, so that source is compiled
# into it; it also runs the real `plexus` binary, hence the dependency.
target_sources(report_test PRIVATE ${PROJECT_SOURCE_DIR}/tools/plexus/svg_chart.cpp)
target_include_directories(report_test PRIVATE ${PROJECT_SOURCE_DIR}/tools/plexus)
add_dependencies(report_test plexus)
