// adagrad: per-element step sizes from the sum of squared gradients.
#ifndef PLEXUS_PLUGINS_OPTIMIZERS_ADAGRAD_HPP
#define PLEXUS_PLUGINS_OPTIMIZERS_ADAGRAD_HPP

#include <plexus/sdk/plugin.hpp>

#include <array>

namespace plexus::plugins {

struct Adagrad : sdk::OptimizerDefaults {
  static constexpr const char* name = "adagrad";
  static constexpr uint32_t flags = PLX_OPT_ELEMENTWISE;
  static constexpr const char* doc =
      "AdaGrad: r <- r + g*g; theta <- theta - lr g / (delta + sqrt(r)), elementwise, r starting at 0. "
      "g already includes weight decay and clipping; computed in f32 like PyTorch (without its lr_decay).";
  static constexpr std::array<sdk::Attr, 1> hparams{
      sdk::Attr::f64("delta", 1e-10, "> 0, added to sqrt(r) so that the division stays finite where r = 0"),
  };
  static constexpr std::array<sdk::State, 1> states{
      sdk::State{"r", PLX_STATE_LIKE_PARAM, 0.0},
  };

  static void step(sdk::StepContext& ctx);
};

}  // namespace plexus::plugins

#endif
