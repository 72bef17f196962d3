#include "adamw.hpp"

namespace plexus::plugins {

void Adamw::step(sdk::StepContext& ctx) {
  const double wd = ctx.hparams().f64("wd");
  detail::check_hparam(wd >= 0.0, name, "wd", ">= 0", wd);
  detail::adam_update(ctx, name, wd);
}

}  // namespace plexus::plugins
