#include "relu.hpp"

#include "common/relu_mask.hpp"

namespace plexus::plugins {

void Relu::infer(sdk::InferContext& ctx) { ctx.set_dst(ctx.input(0)); }

Relu::Relu(const sdk::InstanceContext& ctx)
    : fn_(Eltwise::ForwardOnly{}, ctx, dnnl::algorithm::eltwise_relu_use_dst_for_bwd,
          same_layout_extent(ctx, layout_)) {}

void Relu::forward(sdk::ForwardContext& ctx) const { fn_.forward(ctx.src(0).data(), ctx.dst().data()); }

void Relu::backward(sdk::BackwardContext& ctx) const {
  const sdk::Tensor diff_src = ctx.diff_src(0);
  if (!diff_src.present()) return;
  // Not oneDNN's eltwise backward: its diff_dst * 0 on dead units passes
  // NaN and gives -0 (see common/relu_mask.hpp).
  relu_mask_parallel(ctx.dst().data(), ctx.diff_dst().data(), diff_src.data(), fn_.numel());
}

}  // namespace plexus::plugins
