# team_choice_test compiles the linear plugin's direct loops in (TeamChoice is
# internal to the plugin, not part of the SDK).
target_sources(team_choice_test PRIVATE ${PROJECT_SOURCE_DIR}/plugins/layers/linear_direct.cpp)
target_include_directories(team_choice_test PRIVATE ${PROJECT_SOURCE_DIR}/plugins)
target_link_libraries(team_choice_test PRIVATE OpenMP::OpenMP_CXX)
