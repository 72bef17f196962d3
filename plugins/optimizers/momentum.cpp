#include "momentum.hpp"

#include "step_checks.hpp"

namespace plexus::plugins {

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
  for (int64_t i = ctx.begin(); i < ctx.end(); ++i) {
    m[i] = rho_f * m[i] + keep_g * g[i];
    const float direction = nesterov ? g[i] + rho_f * m[i] : m[i];
    theta[i] -= lr * direction;
  }
}

}  // namespace plexus::plugins
