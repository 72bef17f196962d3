#include "avg_pool2d.hpp"

#include <algorithm>
#include <cstdint>

namespace plexus::plugins {

void AvgPool2d::infer(sdk::InferContext& ctx) {
  ctx.set_dst(Pool2d::from(name, ctx.node_name(), ctx.input(0), ctx.attrs()).dst_shape());
}

AvgPool2d::AvgPool2d(const sdk::InstanceContext& ctx)
    : g_(Pool2d::from(name, ctx.node_name(), ctx.input(0), ctx.attrs())),
      include_pad_(ctx.attrs().boolean("count_include_pad")) {}

void AvgPool2d::forward(sdk::ForwardContext& ctx) const {
  const float* src = ctx.src(0).data();
  float* dst = ctx.dst().data();
  const Pool2d g = g_;  // a local copy: loop bounds stay in registers
  const bool parallel = g.planes() * g.dst_plane() * g.k * g.k >= kPoolParallelWork;
#pragma omp parallel for schedule(static) if (parallel)
  for (int64_t pl = 0; pl < g.planes(); ++pl) {
    const float* in = src + pl * g.src_plane();
    float* out = dst + pl * g.dst_plane();
    for (int64_t y = 0; y < g.oh; ++y)
      for (int64_t x = 0; x < g.ow; ++x) {
        const Window win = g.window(y, x);
        float sum = 0.0f;
        for (int64_t h = win.h0; h < win.h1; ++h)
          for (int64_t w = win.w0; w < win.w1; ++w) sum += in[h * g.w + w];
        out[y * g.ow + x] = sum * inv_divisor(win);
      }
  }
}

void AvgPool2d::backward(sdk::BackwardContext& ctx) const {
  const sdk::Tensor diff_src = ctx.diff_src(0);
  if (!diff_src.present()) return;
  const float* diff_dst = ctx.diff_dst().data();
  float* ds = diff_src.data();
  const Pool2d g = g_;  // a local copy: loop bounds stay in registers
  const bool parallel = g.planes() * g.dst_plane() * g.k * g.k >= kPoolParallelWork;
#pragma omp parallel for schedule(static) if (parallel)
  for (int64_t pl = 0; pl < g.planes(); ++pl) {
    const float* dd = diff_dst + pl * g.dst_plane();
    float* out = ds + pl * g.src_plane();
    std::fill_n(out, g.src_plane(), 0.0f);
    for (int64_t y = 0; y < g.oh; ++y)
      for (int64_t x = 0; x < g.ow; ++x) {
        const Window win = g.window(y, x);
        const float share = dd[y * g.ow + x] * inv_divisor(win);
        for (int64_t h = win.h0; h < win.h1; ++h)
          for (int64_t w = win.w0; w < win.w1; ++w) out[h * g.w + w] += share;
      }
  }
}

}  // namespace plexus::plugins
