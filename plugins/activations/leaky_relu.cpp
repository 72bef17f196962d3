#include "leaky_relu.hpp"

#include <cmath>

namespace plexus::plugins {

void LeakyRelu::infer(sdk::InferContext& ctx) {
  const double slope = ctx.attrs().f64("negative_slope");
  if (!std::isfinite(slope)) ctx.fail("attribute 'negative_slope' must be finite, got " + std::to_string(slope));
  ctx.set_dst(ctx.input(0));
}

LeakyRelu::LeakyRelu(const sdk::InstanceContext& ctx)
    : fn_(ctx, dnnl::algorithm::eltwise_relu, /*use_dst=*/false, same_layout_extent(ctx, layout_),
          static_cast<float>(ctx.attrs().f64("negative_slope"))) {}

void LeakyRelu::forward(sdk::ForwardContext& ctx) const { fn_.forward(ctx.src(0).data(), ctx.dst().data()); }

void LeakyRelu::backward(sdk::BackwardContext& ctx) const {
  const sdk::Tensor diff_src = ctx.diff_src(0);
  if (!diff_src.present()) return;
  fn_.backward(ctx.src(0).data(), ctx.diff_dst().data(), diff_src.data());
}

}  // namespace plexus::plugins
