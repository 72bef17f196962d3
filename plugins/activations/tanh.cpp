#include "tanh.hpp"

namespace plexus::plugins {

void Tanh::infer(sdk::InferContext& ctx) { ctx.set_dst(ctx.input(0)); }

Tanh::Tanh(const sdk::InstanceContext& ctx)
    : fn_(ctx, dnnl::algorithm::eltwise_tanh_use_dst_for_bwd, /*use_dst=*/true, same_layout_extent(ctx, layout_)) {}

void Tanh::forward(sdk::ForwardContext& ctx) const { fn_.forward(ctx.src(0).data(), ctx.dst().data()); }

void Tanh::backward(sdk::BackwardContext& ctx) const {
  const sdk::Tensor diff_src = ctx.diff_src(0);
  if (!diff_src.present()) return;
  fn_.backward(ctx.dst().data(), ctx.diff_dst().data(), diff_src.data());
}

}  // namespace plexus::plugins
