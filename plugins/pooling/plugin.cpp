// plexus-pooling: the built-in pooling kernels, one per file.
#include "avg_pool2d.hpp"
#include "max_pool2d.hpp"

PLEXUS_PLUGIN("plexus-pooling", PLEXUS_SDK_VERSION, plexus::plugins::MaxPool2d, plexus::plugins::AvgPool2d)
