// adamw: Adam with decoupled weight decay.
#ifndef PLEXUS_PLUGINS_OPTIMIZERS_ADAMW_HPP
#define PLEXUS_PLUGINS_OPTIMIZERS_ADAMW_HPP

#include "adam_update.hpp"

namespace plexus::plugins {

struct Adamw : sdk::OptimizerDefaults {
  static constexpr const char* name = "adamw";
  static constexpr uint32_t flags = PLX_OPT_ELEMENTWISE;
  static constexpr const char* doc =
      "AdamW (Adam with decoupled weight decay): theta <- theta - lr wd theta, then the Adam step "
      "m1 <- b1 m1 + (1 - b1) g; m2 <- b2 m2 + (1 - b2) g*g; m1h = m1 / (1 - b1^(t+1)); "
      "m2h = m2 / (1 - b2^(t+1)); theta <- theta - lr m1h / (delta + sqrt(m2h)), with t counting from 0 "
      "and m1, m2 from 0. With amsgrad, v_max <- max(v_max, m2) and m2h = v_max / (1 - b2^(t+1)). "
      "f32 arithmetic like PyTorch, bias-correction powers in double.";
  static constexpr std::array<sdk::Attr, 5> hparams{
      detail::kAdamB1, detail::kAdamB2, detail::kAdamDelta, detail::kAdamAmsgrad,
      sdk::Attr::f64("wd", 0.01, ">= 0, decoupled weight decay: theta shrinks by lr wd theta before each step"),
  };
  static constexpr std::array<sdk::State, 3> states = detail::kAdamStates;

  static void step(sdk::StepContext& ctx);
};

}  // namespace plexus::plugins

#endif
