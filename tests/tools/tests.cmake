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

# compare_torch.py's parent logic (standard library only; torch is imported by
# its workers alone) against the real `plexus bench --json`.
find_package(Python3 COMPONENTS Interpreter)
if(Python3_Interpreter_FOUND)
  add_test(NAME CompareTorch.ParentLogic COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_LIST_DIR}/compare_torch_test.py)
  set_tests_properties(CompareTorch.ParentLogic PROPERTIES
    ENVIRONMENT "PLEXUS_BIN=$<TARGET_FILE:plexus>;PLEXUS_SOURCE_DIR=${PROJECT_SOURCE_DIR}" TIMEOUT 300)
else()
  message(WARNING "python3 not found: CompareTorch.ParentLogic (tools/bench/compare_torch.py) is not tested")
endif()
