# The pooling tests compare against oneDNN's own pooling primitive, so they
# link oneDNN; and they load libplexus_pooling from the build's plugin folder.
foreach(t max_pool2d_test avg_pool2d_test blocked_pool2d_test)
  target_link_libraries(${t} PRIVATE DNNL::dnnl)
  if(TARGET plexus_pooling)
    add_dependencies(${t} plexus_pooling)
  endif()
endforeach()
