// sgd: plain stochastic gradient descent.
#ifndef PLEXUS_PLUGINS_OPTIMIZERS_SGD_HPP
#define PLEXUS_PLUGINS_OPTIMIZERS_SGD_HPP

#include <plexus/sdk/plugin.hpp>

namespace plexus::plugins {

struct Sgd : sdk::OptimizerDefaults {
  static constexpr const char* name = "sgd";
  static constexpr uint32_t flags = PLX_OPT_ELEMENTWISE;
  static constexpr const char* doc =
      "Stochastic gradient descent: theta_i <- theta_i - lr g_i for every element i in "
      "[begin, end), where lr is the learning rate after the schedule and g the gradient "
      "(clipping and weight decay already applied by the runtime). No state, no hyperparameters; "
      "the update is computed in double and rounded once to f32.";

  static void step(sdk::StepContext& ctx);
};

}  // namespace plexus::plugins

#endif
