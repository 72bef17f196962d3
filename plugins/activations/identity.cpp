#include "identity.hpp"

#include <cstring>

namespace plexus::plugins {

void Identity::infer(sdk::InferContext& ctx) { ctx.set_dst(ctx.input(0)); }

void Identity::forward(sdk::ForwardContext& ctx) const {
  const sdk::Tensor src = ctx.src(0);
  std::memcpy(ctx.dst().data(), src.data(), static_cast<size_t>(src.numel()) * sizeof(float));
}

void Identity::backward(sdk::BackwardContext& ctx) const {
  const sdk::Tensor diff_src = ctx.diff_src(0);
  if (!diff_src.present()) return;
  std::memcpy(diff_src.data(), ctx.diff_dst().data(), static_cast<size_t>(diff_src.numel()) * sizeof(float));
}

}  // namespace plexus::plugins
