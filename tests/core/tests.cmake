# pool_test builds oneDNN memory descriptors of its own.
target_link_libraries(pool_test PRIVATE DNNL::dnnl)
