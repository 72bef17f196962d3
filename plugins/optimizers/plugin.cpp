// plexus-optimizers: the built-in optimizers, one per file.
#include "adagrad.hpp"
#include "adam.hpp"
#include "adamw.hpp"
#include "momentum.hpp"
#include "rmsprop.hpp"
#include "sgd.hpp"

PLEXUS_PLUGIN("plexus-optimizers", PLEXUS_SDK_VERSION, plexus::plugins::Sgd, plexus::plugins::Momentum,
              plexus::plugins::Adagrad, plexus::plugins::Rmsprop, plexus::plugins::Adam, plexus::plugins::Adamw)
