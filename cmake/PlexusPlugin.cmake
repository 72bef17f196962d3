# plexus_add_plugin(<target> SOURCES ...): a plugin shared library built only
# against the SDK headers, exactly as a third party builds one: hidden
# visibility, no undefined symbols, and `plexus_plugin_entry` the only export.
set(PLEXUS_PLUGIN_VERSION_SCRIPT "${CMAKE_CURRENT_LIST_DIR}/plugin.map")

function(plexus_add_plugin target)
  cmake_parse_arguments(ARG "" "OUTPUT_DIR" "SOURCES;LIBRARIES" ${ARGN})
  add_library(${target} MODULE ${ARG_SOURCES})
  target_link_libraries(${target} PRIVATE plexus_sdk ${ARG_LIBRARIES})
  set_target_properties(${target} PROPERTIES
    PREFIX "lib"
    CXX_VISIBILITY_PRESET hidden
    C_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON)
  target_link_options(${target} PRIVATE
    "LINKER:--no-undefined"
    "LINKER:--version-script=${PLEXUS_PLUGIN_VERSION_SCRIPT}")
  if(ARG_OUTPUT_DIR)
    set_target_properties(${target} PROPERTIES LIBRARY_OUTPUT_DIRECTORY "${ARG_OUTPUT_DIR}")
  else()
    set_target_properties(${target} PROPERTIES LIBRARY_OUTPUT_DIRECTORY "${PLEXUS_BUILD_PLUGIN_DIR}")
    install(TARGETS ${target} LIBRARY DESTINATION "${PLEXUS_INSTALL_PLUGIN_DIR}")
  endif()
endfunction()
