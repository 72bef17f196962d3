# The install tests install this build, so every installed target must be
# built before them (ctest is meant to run after the full build anyway, as
# tools/quickstart.sh does). They also need cmake, the compilers of this
# build, pkg-config, and the install layout.
find_program(PLEXUS_PKG_CONFIG_COMMAND pkg-config)
if(NOT PLEXUS_PKG_CONFIG_COMMAND)
  set(PLEXUS_PKG_CONFIG_COMMAND pkg-config)  # the test then says it is missing
endif()
set(PLEXUS_INSTALL_TESTS install_test host_examples_test)
foreach(t ${PLEXUS_INSTALL_TESTS})
  add_dependencies(${t} plexus plexus_runtime plexus_core)
  foreach(builtin ${PLEXUS_BUILTIN_PLUGINS})
    if(TARGET ${builtin})
      add_dependencies(${t} ${builtin})
    endif()
  endforeach()
  target_compile_definitions(${t} PRIVATE
    PLEXUS_CMAKE_COMMAND="${CMAKE_COMMAND}"
    PLEXUS_CXX_COMPILER="${CMAKE_CXX_COMPILER}"
    PLEXUS_C_COMPILER="${CMAKE_C_COMPILER}"
    PLEXUS_PKG_CONFIG_COMMAND="${PLEXUS_PKG_CONFIG_COMMAND}"
    PLEXUS_PKGCONFIG_RPATH=$<BOOL:${PLEXUS_PKGCONFIG_RPATH}>
    PLEXUS_VERSION_STRING="${PROJECT_VERSION}"
    PLEXUS_SOVERSION="${PROJECT_VERSION_MAJOR}"
    PLEXUS_INSTALL_LIBDIR="${CMAKE_INSTALL_LIBDIR}"
    PLEXUS_INSTALL_BINDIR="${CMAKE_INSTALL_BINDIR}"
    PLEXUS_INSTALL_DATADIR="${CMAKE_INSTALL_DATADIR}")

  # ctest label "install" (`ctest -L install`, `ctest -LE install`) for the
  # tests gtest_discover_tests finds in ${t}. ctest reads this file after the
  # discovered tests' own, which leaves their names in ${t}_TESTS.
  file(WRITE "${CMAKE_CURRENT_BINARY_DIR}/${t}_labels.cmake"
    "if(${t}_TESTS)\n"
    "  set_tests_properties(\${${t}_TESTS} PROPERTIES LABELS install TIMEOUT 600)\n"
    "endif()\n")
  set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES "${CMAKE_CURRENT_BINARY_DIR}/${t}_labels.cmake")
endforeach()
