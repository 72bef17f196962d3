# Fixture plugins for the loader tests, the C99 build of the ABI header, and
# their wiring into the test executables of this folder. Each fixture lands in
# its own folder under lib/plexus/fixtures/<case>/ so a test can load one case
# by file or by folder.
set(PLEXUS_FIXTURE_DIR "${CMAKE_BINARY_DIR}/lib/plexus/fixtures")
set(PLEXUS_FIXTURE_SRC "${CMAKE_CURRENT_LIST_DIR}/fixtures")
set(PLEXUS_FIXTURE_TARGETS "")

# Written with the SDK, exactly as a third party would.
foreach(case good throws)
  plexus_add_plugin(fixture_${case}
    SOURCES "${PLEXUS_FIXTURE_SRC}/${case}.cpp"
    OUTPUT_DIR "${PLEXUS_FIXTURE_DIR}/${case}")
  list(APPEND PLEXUS_FIXTURE_TARGETS fixture_${case})
endforeach()

# Reports the OpenMP team size of its calls (serial_team_test).
plexus_add_plugin(fixture_team
  SOURCES "${PLEXUS_FIXTURE_SRC}/team.cpp"
  OUTPUT_DIR "${PLEXUS_FIXTURE_DIR}/team"
  LIBRARIES OpenMP::OpenMP_CXX)
add_dependencies(serial_team_test fixture_team)
target_link_libraries(serial_team_test PRIVATE OpenMP::OpenMP_CXX)

# Optimizers that load but are wrong in one way each, for the conformance
# checker: one library per case of bad_optimizers.cpp.
set(PLEXUS_CONFORMANCE_FIXTURES "")
foreach(case step_throws writes_nan ignores_range ascent swallows_nan hidden_state no_docs)
  string(TOUPPER "${case}" case_macro)
  plexus_add_plugin(fixture_${case}
    SOURCES "${PLEXUS_FIXTURE_SRC}/bad_optimizers.cpp"
    OUTPUT_DIR "${PLEXUS_FIXTURE_DIR}/${case}")
  target_compile_definitions(fixture_${case} PRIVATE FIXTURE_${case_macro})
  list(APPEND PLEXUS_CONFORMANCE_FIXTURES fixture_${case})
endforeach()

# Written in C against plugin.h alone: one library per case of c_cases.c.
foreach(case wrong_major newer_minor bad_hparam_type bad_name missing_fn small_struct
             dup_across dup_within step_error refuses host_probe)
  string(TOUPPER "${case}" case_macro)
  plexus_add_plugin(fixture_${case}
    SOURCES "${PLEXUS_FIXTURE_SRC}/c_cases.c"
    OUTPUT_DIR "${PLEXUS_FIXTURE_DIR}/${case}")
  target_compile_definitions(fixture_${case} PRIVATE FIXTURE_${case_macro})
  list(APPEND PLEXUS_FIXTURE_TARGETS fixture_${case})
endforeach()

# A plugin exactly as built against plugin ABI 1.0 (C99, plugin.h alone): the
# runtime test that feeds it blocked tensors checks they reach it plain.
plexus_add_plugin(fixture_abi10
  SOURCES "${PLEXUS_FIXTURE_SRC}/abi10_op.c"
  OUTPUT_DIR "${PLEXUS_FIXTURE_DIR}/abi10")
set_target_properties(fixture_abi10 PROPERTIES C_STANDARD 99 C_STANDARD_REQUIRED ON C_EXTENSIONS OFF)
target_compile_options(fixture_abi10 PRIVATE -Wall -Wextra -pedantic -Werror)
list(APPEND PLEXUS_FIXTURE_TARGETS fixture_abi10)

# A shared library that is not a plugin: no plexus_plugin_entry, and built
# without the plugin version script.
add_library(fixture_no_entry MODULE "${PLEXUS_FIXTURE_SRC}/no_entry.c")
set_target_properties(fixture_no_entry PROPERTIES
  PREFIX "lib"
  LIBRARY_OUTPUT_DIRECTORY "${PLEXUS_FIXTURE_DIR}/no_entry")
list(APPEND PLEXUS_FIXTURE_TARGETS fixture_no_entry)

# A plugin with an unresolved symbol (so also without --no-undefined): the
# system loader must refuse it at load, not at first call.
add_library(fixture_unresolved MODULE "${PLEXUS_FIXTURE_SRC}/unresolved.c")
target_link_libraries(fixture_unresolved PRIVATE plexus_sdk)
set_target_properties(fixture_unresolved PROPERTIES
  PREFIX "lib"
  LIBRARY_OUTPUT_DIRECTORY "${PLEXUS_FIXTURE_DIR}/unresolved")
list(APPEND PLEXUS_FIXTURE_TARGETS fixture_unresolved)

# A text file with a shared-library name.
file(WRITE "${PLEXUS_FIXTURE_DIR}/fake/libfake.so" "This is a text file, not a shared library.\n")

add_dependencies(loader_test ${PLEXUS_FIXTURE_TARGETS})
add_dependencies(exports_test fixture_good fixture_no_entry)
target_compile_definitions(loader_test PRIVATE PLEXUS_TEST_VERSION="${PROJECT_VERSION}")
# Both also read the built-in plugin folder.
foreach(builtin ${PLEXUS_BUILTIN_PLUGINS})
  if(TARGET ${builtin})
    add_dependencies(loader_test ${builtin})
    add_dependencies(exports_test ${builtin})
  endif()
endforeach()

# The conformance checker's tests run the fixtures and every built-in plugin;
# the CLI one also runs the plexus binary.
foreach(t conformance_test check_cli_test)
  add_dependencies(${t} ${PLEXUS_CONFORMANCE_FIXTURES} fixture_good fixture_step_error fixture_wrong_major
                   fixture_throws)
  foreach(builtin ${PLEXUS_BUILTIN_PLUGINS})
    if(TARGET ${builtin})
      add_dependencies(${t} ${builtin})
    endif()
  endforeach()
endforeach()
add_dependencies(check_cli_test plexus)

# The ABI header compiled as strict C99; its layout table is linked into the
# test that compares it with the C++ view.
add_library(plexus_abi_c99 OBJECT "${CMAKE_CURRENT_LIST_DIR}/abi_c99.c")
target_include_directories(plexus_abi_c99 PRIVATE "${PROJECT_SOURCE_DIR}/core/include")
set_target_properties(plexus_abi_c99 PROPERTIES C_STANDARD 99 C_STANDARD_REQUIRED ON C_EXTENSIONS OFF)
target_compile_options(plexus_abi_c99 PRIVATE -Wall -Wextra -pedantic -Werror)
target_sources(abi_c99_test PRIVATE $<TARGET_OBJECTS:plexus_abi_c99>)
target_include_directories(abi_c99_test PRIVATE "${CMAKE_CURRENT_LIST_DIR}")

# The ABI 1.0 plugin in a network of built-in ones, blocked layouts on and off
# (the runtime loads every built-in plugin, so all must be current).
add_dependencies(abi10_plugin_test fixture_abi10)
foreach(builtin ${PLEXUS_BUILTIN_PLUGINS})
  if(TARGET ${builtin})
    add_dependencies(abi10_plugin_test ${builtin})
  endif()
endforeach()

# Trainer tests with broken optimizer plugins.
add_dependencies(misbehaving_optimizer_test fixture_step_error fixture_step_throws fixture_writes_nan plexus_optimizers
                 plexus_layers plexus_losses plexus_activations)

# Build pieces of the per-family folders below this one
# (tests/plugins/<family>/tests.cmake); tests/CMakeLists.txt includes only one
# level down.
file(GLOB PLEXUS_PLUGIN_FAMILY_TEST_CMAKE CONFIGURE_DEPENDS ${CMAKE_CURRENT_LIST_DIR}/*/tests.cmake)
foreach(f ${PLEXUS_PLUGIN_FAMILY_TEST_CMAKE})
  include(${f})
endforeach()

# linear_test sets the OpenMP team size to compare the direct loops at 1 and 2 threads.
target_link_libraries(linear_test PRIVATE OpenMP::OpenMP_CXX)
