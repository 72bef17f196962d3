#include "flatten.hpp"

#include <cstring>
#include <string>

namespace plexus::plugins {

void Flatten::infer(sdk::InferContext& ctx) {
  const sdk::Shape src = ctx.input(0);
  const int64_t given = ctx.attrs().i64("start_dim");
  const int64_t start = given < 0 ? given + src.ndim() : given;
  if (src.ndim() < 2)
    ctx.fail("flatten needs src of rank >= 2 ([N, d1, ...]), got " + src.str());
  if (start < 1 || start >= src.ndim())
    ctx.fail("attribute 'start_dim' is " + std::to_string(given) + " but src " + src.str() +
             " allows 1.." + std::to_string(src.ndim() - 1) + " (or -" + std::to_string(src.ndim() - 1) +
             "..-1); dim 0 is the batch");
  plx_shape dst{};
  dst.ndim = static_cast<int32_t>(start + 1);
  for (int i = 0; i < start; ++i) dst.dims[i] = src[i];
  dst.dims[start] = 1;
  for (int i = static_cast<int>(start); i < src.ndim(); ++i) dst.dims[start] *= src[i];
  ctx.set_dst(sdk::Shape(dst));
}

void Flatten::forward(sdk::ForwardContext& ctx) const {
  const sdk::Tensor src = ctx.src(0);
  if (src.numel() > 0)
    std::memcpy(ctx.dst().data(), src.data(), static_cast<size_t>(src.numel()) * sizeof(float));
}

void Flatten::backward(sdk::BackwardContext& ctx) const {
  const sdk::Tensor diff_src = ctx.diff_src(0);
  if (!diff_src.present() || diff_src.numel() == 0) return;
  std::memcpy(diff_src.data(), ctx.diff_dst().data(), static_cast<size_t>(diff_src.numel()) * sizeof(float));
}

}  // namespace plexus::plugins
