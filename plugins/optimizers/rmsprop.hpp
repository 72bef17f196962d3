// rmsprop: per-element step sizes from an exponential average of squared gradients.
#ifndef PLEXUS_PLUGINS_OPTIMIZERS_RMSPROP_HPP
#define PLEXUS_PLUGINS_OPTIMIZERS_RMSPROP_HPP

#include <plexus/sdk/plugin.hpp>

#include <array>

namespace plexus::plugins {

struct Rmsprop : sdk::OptimizerDefaults {
  static constexpr const char* name = "rmsprop";
  static constexpr uint32_t flags = PLX_OPT_ELEMENTWISE;
  static constexpr const char* doc =
      "RMSProp: r <- tau r + (1 - tau) g*g; theta <- theta - lr g / (delta + sqrt(r)), elementwise, r starting "
      "at 0. g already includes weight decay and clipping; computed in f32 like PyTorch (tau is its alpha).";
  static constexpr std::array<sdk::Attr, 2> hparams{
      sdk::Attr::f64("tau", 0.99, "decay rate in [0, 1) of the average of squared gradients r"),
      sdk::Attr::f64("delta", 1e-8, "> 0, added to sqrt(r) so that the division stays finite where r = 0"),
  };
  static constexpr std::array<sdk::State, 1> states{
      sdk::State{"r", PLX_STATE_LIKE_PARAM, 0.0},
  };

  static void step(sdk::StepContext& ctx);
};

}  // namespace plexus::plugins

#endif
