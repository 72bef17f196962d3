#include "concat.hpp"

#include <cstring>
#include <string>

namespace plexus::plugins {

namespace {
int64_t per_sample(const sdk::Shape& s) {
  int64_t n = 1;
  for (int i = 1; i < s.ndim(); ++i) n *= s[i];
  return n;
}
}  // namespace

void Concat::infer(sdk::InferContext& ctx) {
  const sdk::Shape a = ctx.input(0), b = ctx.input(1);
  const std::string got = ", got src_0 " + a.str() + " and src_1 " + b.str();
  if (a.ndim() < 2 || b.ndim() < 2) ctx.fail("concat needs inputs of rank >= 2 ([N, C, ...])" + got);
  if (a.ndim() != b.ndim()) ctx.fail("concat needs inputs of equal rank" + got);
  for (int i = 0; i < a.ndim(); ++i)
    if (i != 1 && a[i] != b[i])
      ctx.fail("concat (along dim 1) needs equal sizes in every other dim, dim " + std::to_string(i) + " differs" +
               got);
  plx_shape dst = a.raw();
  dst.dims[1] = a[1] + b[1];
  ctx.set_dst(sdk::Shape(dst));
}

Concat::Concat(const sdk::InstanceContext& ctx)
    : batch_(ctx.input(0)[0]), block_{per_sample(ctx.input(0)), per_sample(ctx.input(1))} {}

void Concat::forward(sdk::ForwardContext& ctx) const {
  const float* src[2] = {ctx.src(0).data(), ctx.src(1).data()};
  float* dst = ctx.dst().data();
  for (int64_t n = 0; n < batch_; ++n)
    for (int i = 0; i < 2; ++i) {
      if (block_[i] == 0) continue;
      std::memcpy(dst, src[i] + n * block_[i], static_cast<size_t>(block_[i]) * sizeof(float));
      dst += block_[i];
    }
}

void Concat::backward(sdk::BackwardContext& ctx) const {
  const float* diff_dst = ctx.diff_dst().data();
  const int64_t row = block_[0] + block_[1];
  for (int i = 0; i < 2; ++i) {
    const sdk::Tensor diff_src = ctx.diff_src(static_cast<uint32_t>(i));
    if (!diff_src.present() || block_[i] == 0) continue;
    const int64_t offset = i == 0 ? 0 : block_[0];
    for (int64_t n = 0; n < batch_; ++n)
      std::memcpy(diff_src.data() + n * block_[i], diff_dst + n * row + offset,
                  static_cast<size_t>(block_[i]) * sizeof(float));
  }
}

}  // namespace plexus::plugins
