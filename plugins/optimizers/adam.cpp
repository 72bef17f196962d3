#include "adam.hpp"

namespace plexus::plugins {

void Adam::step(sdk::StepContext& ctx) { detail::adam_update(ctx, name, 0.0); }

}  // namespace plexus::plugins
