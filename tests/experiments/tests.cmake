# Each experiment test runs a reduced version of one course experiment through
# the experiments library (models from models/, real plugins, real data).
file(GLOB PLEXUS_EXPERIMENT_TESTS CONFIGURE_DEPENDS ${CMAKE_CURRENT_LIST_DIR}/*_test.cpp)
foreach(src ${PLEXUS_EXPERIMENT_TESTS})
  get_filename_component(name ${src} NAME_WE)
  target_link_libraries(${name} PRIVATE plexus_experiments)
  add_dependencies(${name} plexus)
endforeach()
