# install_test installs this build, so every installed target must be built
# before it (ctest is meant to run after the full build anyway, as
# tools/quickstart.sh does). It also needs cmake and the compiler of this
# build, and the install layout.
add_dependencies(install_test plexus plexus_runtime plexus_core)
foreach(builtin plexus_layers plexus_activations plexus_losses plexus_optimizers)
  if(TARGET ${builtin})
    add_dependencies(install_test ${builtin})
  endif()
endforeach()
target_compile_definitions(install_test PRIVATE
  PLEXUS_CMAKE_COMMAND="${CMAKE_COMMAND}"
  PLEXUS_CXX_COMPILER="${CMAKE_CXX_COMPILER}"
  PLEXUS_INSTALL_LIBDIR="${CMAKE_INSTALL_LIBDIR}"
  PLEXUS_INSTALL_BINDIR="${CMAKE_INSTALL_BINDIR}"
  PLEXUS_INSTALL_DATADIR="${CMAKE_INSTALL_DATADIR}")

# ctest label "install" (`ctest -L install`, `ctest -LE install`) for the
# tests gtest_discover_tests finds in install_test. ctest reads this file
# after the discovered tests' own, which leaves their names in
# install_test_TESTS.
file(WRITE "${CMAKE_CURRENT_BINARY_DIR}/install_test_labels.cmake"
  "if(install_test_TESTS)\n"
  "  set_tests_properties(\${install_test_TESTS} PROPERTIES LABELS install TIMEOUT 600)\n"
  "endif()\n")
set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES "${CMAKE_CURRENT_BINARY_DIR}/install_test_labels.cmake")
