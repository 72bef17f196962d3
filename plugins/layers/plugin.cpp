// plexus-layers: the built-in layer kernels, one per file.
#include "linear.hpp"

PLEXUS_PLUGIN("plexus-layers", PLEXUS_SDK_VERSION, plexus::plugins::Linear)
