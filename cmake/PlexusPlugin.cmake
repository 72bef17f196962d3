# plexus_add_plugin(<target> SOURCES src... [LIBRARIES lib...]
#                   [OUTPUT_DIR dir] [INSTALL_DESTINATION dir])
#
# A plugin shared library built only against the SDK headers (Plexus::sdk),
# exactly as a third party builds one: a MODULE library, hidden visibility,
# no undefined symbols (-Wl,--no-undefined), and a linker version script
# (plugin.map, beside this file) that leaves `plexus_plugin_entry` the only
# exported symbol.
#
# This one file serves both the Plexus build tree (cmake/PlexusPlugin.cmake)
# and the installed CMake package (<libdir>/cmake/Plexus/PlexusPlugin.cmake,
# included by PlexusConfig.cmake). In the Plexus build, a plugin without
# OUTPUT_DIR lands in PLEXUS_BUILD_PLUGIN_DIR and is installed into
# PLEXUS_INSTALL_PLUGIN_DIR; elsewhere it lands in the current binary
# directory and is installed only when INSTALL_DESTINATION is given.
# PLEXUS_PLUGIN_VERSION_SCRIPT, when set, overrides the version script.
if(CMAKE_VERSION VERSION_LESS 3.17)
  message(FATAL_ERROR "plexus_add_plugin needs CMake 3.17 or newer (CMAKE_CURRENT_FUNCTION_LIST_DIR)")
endif()

function(plexus_add_plugin target)
  cmake_parse_arguments(ARG "" "OUTPUT_DIR;INSTALL_DESTINATION" "SOURCES;LIBRARIES" ${ARGN})
  if(ARG_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "plexus_add_plugin(${target}): unknown arguments: ${ARG_UNPARSED_ARGUMENTS}")
  endif()
  if(NOT ARG_SOURCES)
    message(FATAL_ERROR "plexus_add_plugin(${target}): no SOURCES given")
  endif()
  if(NOT TARGET Plexus::sdk)
    message(FATAL_ERROR "plexus_add_plugin(${target}): the target Plexus::sdk does not exist; "
                        "call find_package(Plexus REQUIRED) first")
  endif()
  if(DEFINED PLEXUS_PLUGIN_VERSION_SCRIPT)
    set(version_script "${PLEXUS_PLUGIN_VERSION_SCRIPT}")
  else()
    set(version_script "${CMAKE_CURRENT_FUNCTION_LIST_DIR}/plugin.map")
  endif()
  if(NOT EXISTS "${version_script}")
    message(FATAL_ERROR "plexus_add_plugin(${target}): version script ${version_script} is missing")
  endif()

  add_library(${target} MODULE ${ARG_SOURCES})
  target_link_libraries(${target} PRIVATE Plexus::sdk ${ARG_LIBRARIES})
  set_target_properties(${target} PROPERTIES
    PREFIX "lib"
    CXX_VISIBILITY_PRESET hidden
    C_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON
    LINK_DEPENDS "${version_script}")
  target_link_options(${target} PRIVATE
    "LINKER:--no-undefined"
    "LINKER:--version-script=${version_script}")

  if(ARG_OUTPUT_DIR)
    set_target_properties(${target} PROPERTIES LIBRARY_OUTPUT_DIRECTORY "${ARG_OUTPUT_DIR}")
  elseif(DEFINED PLEXUS_BUILD_PLUGIN_DIR)
    set_target_properties(${target} PROPERTIES LIBRARY_OUTPUT_DIRECTORY "${PLEXUS_BUILD_PLUGIN_DIR}")
  endif()

  if(ARG_INSTALL_DESTINATION)
    install(TARGETS ${target} LIBRARY DESTINATION "${ARG_INSTALL_DESTINATION}")
  elseif(NOT ARG_OUTPUT_DIR AND DEFINED PLEXUS_INSTALL_PLUGIN_DIR)
    install(TARGETS ${target} LIBRARY DESTINATION "${PLEXUS_INSTALL_PLUGIN_DIR}")
  endif()
endfunction()
