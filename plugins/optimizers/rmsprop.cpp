#include "rmsprop.hpp"

#include "step_checks.hpp"

#include <cmath>

namespace plexus::plugins {

void Rmsprop::step(sdk::StepContext& ctx) {
  detail::check_step(ctx, name, {"r"});
  const double tau = ctx.hparams().f64("tau");
  const double delta = ctx.hparams().f64("delta");
  detail::check_hparam(detail::unit_interval_open(tau), name, "tau", "in [0, 1)", tau);
  detail::check_hparam(delta > 0.0, name, "delta", "> 0", delta);

  // (1 - tau) is formed in double: 1 - float(tau) would be off by ~1e-6 relative.
  const float tau_f = static_cast<float>(tau);
  const float fresh = static_cast<float>(1.0 - tau);
  const float delta_f = static_cast<float>(delta);
  const float lr = static_cast<float>(ctx.lr());
  float* theta = ctx.param().data();
  const float* g = ctx.grad().data();
  float* r = ctx.state("r").data();
  for (int64_t i = ctx.begin(); i < ctx.end(); ++i) {
    r[i] = tau_f * r[i] + fresh * (g[i] * g[i]);
    theta[i] -= lr * (g[i] / (delta_f + std::sqrt(r[i])));
  }
}

}  // namespace plexus::plugins
