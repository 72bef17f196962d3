// plexus-norm: the built-in normalization kernels, one per file.
#include "batch_norm.hpp"

PLEXUS_PLUGIN("plexus-norm", "0.1.0", plexus::plugins::BatchNorm)
