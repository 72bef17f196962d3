// momentum: heavy-ball momentum, optionally with Nesterov's look-ahead.
#ifndef PLEXUS_PLUGINS_OPTIMIZERS_MOMENTUM_HPP
#define PLEXUS_PLUGINS_OPTIMIZERS_MOMENTUM_HPP

#include <plexus/sdk/plugin.hpp>

#include <array>

namespace plexus::plugins {

struct Momentum : sdk::OptimizerDefaults {
  static constexpr const char* name = "momentum";
  static constexpr uint32_t flags = PLX_OPT_ELEMENTWISE;
  static constexpr const char* doc =
      "Heavy-ball momentum: m <- rho m + (1 - dampening) g; theta <- theta - lr m, or with nesterov "
      "theta <- theta - lr (g + rho m) using the updated m. m starts at 0 (PyTorch starts it at g, which is "
      "the same when dampening = 0); dampening = rho gives the exponential average m <- rho m + (1 - rho) g. "
      "g already includes weight decay and clipping; computed in f32 like PyTorch.";
  static constexpr std::array<sdk::Attr, 3> hparams{
      sdk::Attr::f64("rho", 0.9, "momentum coefficient rho in [0, 1): the weight of the previous m"),
      sdk::Attr::f64("dampening", 0.0,
                     "in [0, 1]: m receives (1 - dampening) g; set it to rho for an exponential average"),
      sdk::Attr::boolean("nesterov", false,
                         "Nesterov step theta <- theta - lr (g + rho m) instead of theta <- theta - lr m"),
  };
  static constexpr std::array<sdk::State, 1> states{
      sdk::State{"m", PLX_STATE_LIKE_PARAM, 0.0},
  };

  static void step(sdk::StepContext& ctx);
};

}  // namespace plexus::plugins

#endif
