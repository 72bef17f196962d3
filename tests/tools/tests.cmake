# The report and experiment tests drive the libraries directly; some also run
# the real `plexus` binary, hence the dependency.
file(GLOB PLEXUS_TOOLS_TESTS CONFIGURE_DEPENDS ${CMAKE_CURRENT_LIST_DIR}/*_test.cpp)
foreach(src ${PLEXUS_TOOLS_TESTS})
  get_filename_component(name ${src} NAME_WE)
  add_dependencies(${name} plexus)
endforeach()
target_link_libraries(report_test PRIVATE plexus_report)
target_link_libraries(svg_map_test PRIVATE plexus_report)
target_link_libraries(bound_test PRIVATE plexus_bound_lib)
