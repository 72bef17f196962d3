#include "sigmoid.hpp"

namespace plexus::plugins {

void Sigmoid::infer(sdk::InferContext& ctx) { ctx.set_dst(ctx.input(0)); }

Sigmoid::Sigmoid(const sdk::InstanceContext& ctx)
    : fn_(ctx, dnnl::algorithm::eltwise_logistic_use_dst_for_bwd, /*use_dst=*/true, ctx.input(0).numel()) {}

void Sigmoid::forward(sdk::ForwardContext& ctx) const { fn_.forward(ctx.src(0).data(), ctx.dst().data()); }

void Sigmoid::backward(sdk::BackwardContext& ctx) const {
  const sdk::Tensor diff_src = ctx.diff_src(0);
  if (!diff_src.present()) return;
  fn_.backward(ctx.dst().data(), ctx.diff_dst().data(), diff_src.data());
}

}  // namespace plexus::plugins
