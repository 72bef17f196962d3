#include "momentum.hpp"

#include "common/clones.hpp"
#include "step_checks.hpp"

namespace plexus::plugins {

namespace {

// The element loop, cloned per instruction set (bits do not depend on the
// clone: -ffp-contract=off keeps each multiply and add rounded on its own).
template <bool kNesterov>
PLEXUS_CLONES void momentum_loop(float* __restrict theta, const float* __restrict g, float* __restrict m,
                                 int64_t begin, int64_t end, float rho_f, float keep_g, float lr) {
  for (int64_t i = begin; i < end; ++i) {
    m[i] = rho_f * m[i] + keep_g * g[i];
    const float direction = kNesterov ? g[i] + rho_f * m[i] : m[i];
    theta[i] -= lr * direction;
  }
}

}  // namespace

void Momentum::step(sdk::StepContext& ctx) {
  detail::check_step(ctx, name, {"m"});
  const double rho = ctx.hparams().f64("rho");
  const double dampening = ctx.hparams().f64("dampening");
  detail::check_hparam(detail::unit_interval_open(rho), name, "rho", "in [0, 1)", rho);
  detail::check_hparam(dampening >= 0.0 && dampening <= 1.0, name, "dampening", "in [0, 1]", dampening);
  const bool nesterov = ctx.hparams().boolean("nesterov");

  // Coefficients are formed in double and rounded once to f32, as PyTorch
  // passes its Python-float scalars to f32 kernels.
  const float rho_f = static_cast<float>(rho);
  const float keep_g = static_cast<float>(1.0 - dampening);
  const float lr = static_cast<float>(ctx.lr());
  float* theta = ctx.param().data();
  const float* g = ctx.grad().data();
  float* m = ctx.state("m").data();
  if (nesterov) momentum_loop<true>(theta, g, m, ctx.begin(), ctx.end(), rho_f, keep_g, lr);
  else momentum_loop<false>(theta, g, m, ctx.begin(), ctx.end(), rho_f, keep_g, lr);
}

}  // namespace plexus::plugins
