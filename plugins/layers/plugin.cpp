// plexus-layers: the built-in layer kernels, one per file.
#include "conv2d.hpp"
#include "linear.hpp"

PLEXUS_PLUGIN("plexus-layers", PLEXUS_SDK_VERSION, plexus::plugins::Linear, plexus::plugins::Conv2d)
