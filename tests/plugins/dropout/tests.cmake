# dropout_test loads libplexus_dropout, and its model-level tests train an MLP
# with the layers, activations, losses and optimizers plugins. It sets the
# OpenMP team size itself to show the mask does not depend on it.
if(TARGET dropout_test)
  foreach(builtin ${PLEXUS_BUILTIN_PLUGINS})
    if(TARGET ${builtin})
      add_dependencies(dropout_test ${builtin})
    endif()
  endforeach()
  target_link_libraries(dropout_test PRIVATE OpenMP::OpenMP_CXX)
endif()
