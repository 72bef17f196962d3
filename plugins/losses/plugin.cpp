// plexus-losses: the built-in loss kernels, one per file.
#include "logistic.hpp"
#include "softmax_cross_entropy.hpp"
#include "squared_error.hpp"

namespace plx = plexus::plugins;

PLEXUS_PLUGIN("plexus-losses", PLEXUS_SDK_VERSION, plx::SquaredError, plx::Logistic, plx::SoftmaxCrossEntropy)
