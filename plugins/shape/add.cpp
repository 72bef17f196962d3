#include "add.hpp"

#include <oneapi/dnnl/dnnl.h>

#include <cstring>

namespace plexus::plugins {

void Add::infer(sdk::InferContext& ctx) {
  const sdk::Shape a = ctx.input(0), b = ctx.input(1);
  if (!(a == b))
    ctx.fail("add needs src_0 and src_1 of identical shape (no broadcasting), got " + a.str() + " and " + b.str());
  ctx.set_dst(a);
}

Add::Add(const sdk::InstanceContext& ctx) : extent_(ctx.input(0).numel()) {
  const void* a = ctx.src_layout(0);
  const void* b = ctx.src_layout(1);
  if (a == nullptr && b == nullptr) return;
  const auto* ma = static_cast<const dnnl_memory_desc_t*>(a);
  const auto* mb = static_cast<const dnnl_memory_desc_t*>(b);
  if (a == nullptr || b == nullptr || !dnnl_memory_desc_equal(ma, mb) || !ctx.layouts_enabled())
    throw sdk::Error(PLX_E_UNSUPPORTED, "add takes two inputs in one layout; asking for plain inputs");
  layout_ = *ma;
  ctx.set_dst_layout(&layout_);
  extent_ = static_cast<int64_t>(dnnl_memory_desc_get_size(&layout_) / sizeof(float));
}

void Add::forward(sdk::ForwardContext& ctx) const {
  const float* a = ctx.src(0).data();
  const float* b = ctx.src(1).data();
  float* dst = ctx.dst().data();
  for (int64_t i = 0; i < extent_; ++i) dst[i] = a[i] + b[i];
}

void Add::backward(sdk::BackwardContext& ctx) const {
  const sdk::Tensor diff_dst = ctx.diff_dst();
  for (uint32_t i = 0; i < 2; ++i) {
    const sdk::Tensor diff_src = ctx.diff_src(i);
    if (!diff_src.present() || extent_ == 0) continue;
    std::memcpy(diff_src.data(), diff_dst.data(), static_cast<size_t>(extent_) * sizeof(float));
  }
}

}  // namespace plexus::plugins
