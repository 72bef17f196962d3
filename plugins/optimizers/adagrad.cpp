#include "adagrad.hpp"

#include "step_checks.hpp"

#include <cmath>

namespace plexus::plugins {

void Adagrad::step(sdk::StepContext& ctx) {
  detail::check_step(ctx, name, {"r"});
  const double delta = ctx.hparams().f64("delta");
  detail::check_hparam(delta > 0.0, name, "delta", "> 0", delta);

  const float delta_f = static_cast<float>(delta);
  const float lr = static_cast<float>(ctx.lr());
  float* theta = ctx.param().data();
  const float* g = ctx.grad().data();
  float* r = ctx.state("r").data();
  for (int64_t i = ctx.begin(); i < ctx.end(); ++i) {
    r[i] += g[i] * g[i];
    theta[i] -= lr * (g[i] / (delta_f + std::sqrt(r[i])));
  }
}

}  // namespace plexus::plugins
