#include "add.hpp"

#include <cstring>

namespace plexus::plugins {

void Add::infer(sdk::InferContext& ctx) {
  const sdk::Shape a = ctx.input(0), b = ctx.input(1);
  if (!(a == b))
    ctx.fail("add needs src_0 and src_1 of identical shape (no broadcasting), got " + a.str() + " and " + b.str());
  ctx.set_dst(a);
}

void Add::forward(sdk::ForwardContext& ctx) const {
  const float* a = ctx.src(0).data();
  const float* b = ctx.src(1).data();
  float* dst = ctx.dst().data();
  const int64_t n = ctx.dst().numel();
  for (int64_t i = 0; i < n; ++i) dst[i] = a[i] + b[i];
}

void Add::backward(sdk::BackwardContext& ctx) const {
  const sdk::Tensor diff_dst = ctx.diff_dst();
  for (uint32_t i = 0; i < 2; ++i) {
    const sdk::Tensor diff_src = ctx.diff_src(i);
    if (!diff_src.present() || diff_src.numel() == 0) continue;
    std::memcpy(diff_src.data(), diff_dst.data(), static_cast<size_t>(diff_src.numel()) * sizeof(float));
  }
}

}  // namespace plexus::plugins
