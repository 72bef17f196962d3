// plexus-activations: the built-in activation kernels, one per file.
#include "elu.hpp"
#include "gelu.hpp"
#include "identity.hpp"
#include "leaky_relu.hpp"
#include "relu.hpp"
#include "sigmoid.hpp"
#include "soft_threshold.hpp"
#include "softmax.hpp"
#include "tanh.hpp"

namespace plx = plexus::plugins;

PLEXUS_PLUGIN("plexus-activations", PLEXUS_SDK_VERSION, plx::Identity, plx::Relu, plx::Tanh, plx::Sigmoid,
              plx::Softmax, plx::LeakyRelu, plx::Elu, plx::Gelu,
              plx::SoftThreshold)
