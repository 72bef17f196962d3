#include "gelu.hpp"

#include <string>
#include <string_view>

namespace plexus::plugins {

namespace {
// The oneDNN algorithm for an `approximate` value; throws on an unknown one.
dnnl::algorithm gelu_algorithm(std::string_view approximate, const char* node) {
  if (approximate == "none") return dnnl::algorithm::eltwise_gelu_erf;
  if (approximate == "tanh") return dnnl::algorithm::eltwise_gelu_tanh;
  throw sdk::Error(PLX_E_INVALID, "node '" + std::string(node) + "': attribute 'approximate' is '" +
                                      std::string(approximate) + "' (known: none, tanh)");
}
}  // namespace

void Gelu::infer(sdk::InferContext& ctx) {
  gelu_algorithm(ctx.attrs().str("approximate"), ctx.node_name());
  ctx.set_dst(ctx.input(0));
}

Gelu::Gelu(const sdk::InstanceContext& ctx)
    : fn_(ctx, gelu_algorithm(ctx.attrs().str("approximate"), ctx.node_name()), /*use_dst=*/false,
          same_layout_extent(ctx, layout_)) {}

void Gelu::forward(sdk::ForwardContext& ctx) const { fn_.forward(ctx.src(0).data(), ctx.dst().data()); }

void Gelu::backward(sdk::BackwardContext& ctx) const {
  const sdk::Tensor diff_src = ctx.diff_src(0);
  if (!diff_src.present()) return;
  fn_.backward(ctx.src(0).data(), ctx.diff_dst().data(), diff_src.data());
}

}  // namespace plexus::plugins
