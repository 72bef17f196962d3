// The Adam update shared by adam and adamw (internal to this plugin): their
// common hyperparameter and state declarations and the element loop.
#ifndef PLEXUS_PLUGINS_OPTIMIZERS_ADAM_UPDATE_HPP
#define PLEXUS_PLUGINS_OPTIMIZERS_ADAM_UPDATE_HPP

#include <plexus/sdk/plugin.hpp>

#include "common/clones.hpp"
#include "step_checks.hpp"

#include <algorithm>
#include <array>
#include <cmath>

namespace plexus::plugins::detail {

inline constexpr sdk::Attr kAdamB1 =
    sdk::Attr::f64("b1", 0.9, "decay rate in [0, 1) of the first-moment average m1");
inline constexpr sdk::Attr kAdamB2 =
    sdk::Attr::f64("b2", 0.999, "decay rate in [0, 1) of the second-moment average m2");
inline constexpr sdk::Attr kAdamDelta =
    sdk::Attr::f64("delta", 1e-8, "> 0, added to sqrt(m2h) so that the division stays finite where m2 = 0");
inline constexpr sdk::Attr kAdamAmsgrad =
    sdk::Attr::boolean("amsgrad", false, "AMSGrad: divide by the running maximum v_max of m2 instead of m2");

/// v_max is declared even without amsgrad, so the state layout does not depend
/// on a hyperparameter (and a checkpoint can switch it on).
inline constexpr std::array<sdk::State, 3> kAdamStates{
    sdk::State{"m1", PLX_STATE_LIKE_PARAM, 0.0},
    sdk::State{"m2", PLX_STATE_LIKE_PARAM, 0.0},
    sdk::State{"v_max", PLX_STATE_LIKE_PARAM, 0.0},
};

/// The element loop, cloned per instruction set. It vectorizes because the
/// plugin is built with -fno-math-errno (sqrt needs no errno call) and
/// -ffp-contract=off: vector sqrt, division and the separate multiplies and
/// adds round exactly as the scalar ones, so every split and every clone
/// gives the same bits. The flags branch once, outside the loop.
template <bool kDecay, bool kAmsgrad>
PLEXUS_CLONES_FLATTEN void adam_loop(float* __restrict theta, const float* __restrict g, float* __restrict m1,
                                     float* __restrict m2, float* __restrict v_max, int64_t begin, int64_t end,
                                     float decay, float b1_f, float fresh1, float b2_f, float fresh2,
                                     float correction2_sqrt, float delta_f, float step_size) {
  for (int64_t i = begin; i < end; ++i) {
    if (kDecay) theta[i] *= decay;
    m1[i] = b1_f * m1[i] + fresh1 * g[i];
    m2[i] = b2_f * m2[i] + fresh2 * (g[i] * g[i]);
    float second = m2[i];
    if (kAmsgrad) {
      v_max[i] = std::max(m2[i], v_max[i]);  // this argument order keeps a NaN in m2
      second = v_max[i];
    }
    const float denom = std::sqrt(second) / correction2_sqrt + delta_f;
    theta[i] -= step_size * (m1[i] / denom);
  }
}

/// One Adam step over [begin, end): theta <- theta (1 - lr wd) first when wd != 0
/// (decoupled weight decay), then the Adam update with bias correction.
/// Arithmetic per element is f32 as in PyTorch's single-tensor Adam; scalars
/// (1 - b, lr / (1 - b1^(t+1)), sqrt(1 - b2^(t+1)), 1 - lr wd) are formed in
/// double and rounded once, so results do not depend on the range split.
inline void adam_update(const sdk::StepContext& ctx, const char* kernel, double wd) {
  check_step(ctx, kernel, {"m1", "m2", "v_max"});
  const double b1 = ctx.hparams().f64("b1");
  const double b2 = ctx.hparams().f64("b2");
  const double delta = ctx.hparams().f64("delta");
  check_hparam(unit_interval_open(b1), kernel, "b1", "in [0, 1)", b1);
  check_hparam(unit_interval_open(b2), kernel, "b2", "in [0, 1)", b2);
  check_hparam(delta > 0.0, kernel, "delta", "> 0", delta);
  const bool amsgrad = ctx.hparams().boolean("amsgrad");

  const double t1 = static_cast<double>(ctx.step()) + 1.0;
  const double correction1 = 1.0 - std::pow(b1, t1);
  const double correction2 = 1.0 - std::pow(b2, t1);
  const float b1_f = static_cast<float>(b1), fresh1 = static_cast<float>(1.0 - b1);
  const float b2_f = static_cast<float>(b2), fresh2 = static_cast<float>(1.0 - b2);
  const float step_size = static_cast<float>(ctx.lr() / correction1);
  const float correction2_sqrt = static_cast<float>(std::sqrt(correction2));
  const float delta_f = static_cast<float>(delta);
  const float decay = static_cast<float>(1.0 - ctx.lr() * wd);

  float* theta = ctx.param().data();
  const float* g = ctx.grad().data();
  float* m1 = ctx.state("m1").data();
  float* m2 = ctx.state("m2").data();
  float* v_max = ctx.state("v_max").data();
  const int64_t b = ctx.begin(), e = ctx.end();
  const auto run = [&](auto loop) {
    loop(theta, g, m1, m2, v_max, b, e, decay, b1_f, fresh1, b2_f, fresh2, correction2_sqrt, delta_f, step_size);
  };
  if (wd != 0.0) {
    if (amsgrad) run(adam_loop<true, true>);
    else run(adam_loop<true, false>);
  } else {
    if (amsgrad) run(adam_loop<false, true>);
    else run(adam_loop<false, false>);
  }
}

}  // namespace plexus::plugins::detail

#endif
