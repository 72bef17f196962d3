// plexus-optimizers: the built-in optimizers, one per file.
#include "sgd.hpp"

PLEXUS_PLUGIN("plexus-optimizers", PLEXUS_SDK_VERSION, plexus::plugins::Sgd)
