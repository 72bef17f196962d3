# The batch_norm test builds oneDNN memory descriptors (blocked layouts), so it
# links oneDNN; it loads libplexus_norm from the build's plugin folder, and its
# model test also runs conv2d, flatten, linear, softmax_cross_entropy and sgd.
target_link_libraries(batch_norm_test PRIVATE DNNL::dnnl)
foreach(plugin plexus_norm plexus_layers plexus_shape plexus_losses plexus_optimizers)
  if(TARGET ${plugin})
    add_dependencies(batch_norm_test ${plugin})
  endif()
endforeach()
