// plexus-dropout: random regularization kernels (dropout), one per file.
#include "dropout.hpp"

PLEXUS_PLUGIN("plexus-dropout", "0.1.0", plexus::plugins::Dropout)
