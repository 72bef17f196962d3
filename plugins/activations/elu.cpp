#include "elu.hpp"

#include <cmath>

namespace plexus::plugins {

void Elu::infer(sdk::InferContext& ctx) {
  const double alpha = ctx.attrs().f64("alpha");
  if (!std::isfinite(alpha) || alpha < 0)
    ctx.fail("attribute 'alpha' must be finite and >= 0 (the backward pass reads dst, which only determines "
             "the sign of src when alpha >= 0), got " + std::to_string(alpha));
  ctx.set_dst(ctx.input(0));
}

Elu::Elu(const sdk::InstanceContext& ctx)
    : fn_(ctx, dnnl::algorithm::eltwise_elu_use_dst_for_bwd, /*use_dst=*/true, same_layout_extent(ctx, layout_),
          static_cast<float>(ctx.attrs().f64("alpha"))) {}

void Elu::forward(sdk::ForwardContext& ctx) const { fn_.forward(ctx.src(0).data(), ctx.dst().data()); }

void Elu::backward(sdk::BackwardContext& ctx) const {
  const sdk::Tensor diff_src = ctx.diff_src(0);
  if (!diff_src.present()) return;
  fn_.backward(ctx.dst().data(), ctx.diff_dst().data(), diff_src.data());
}

}  // namespace plexus::plugins
