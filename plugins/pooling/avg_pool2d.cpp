#include "avg_pool2d.hpp"

#include <algorithm>
#include <cstdint>

namespace plexus::plugins {

namespace {

/// 1 / divisor of a window: k*k, or its in-image cell count without count_include_pad.
inline float inv_divisor(const Pool2d& g, bool include_pad, const Window& win) {
  return 1.0f / static_cast<float>(include_pad ? g.k * g.k : win.count());
}

/// Per lane (channel of the block), the window's sum times `inv`. Each lane
/// adds its cells in row-major window order, whatever the block size, so
/// every layout gives the same bits.
template <int B>
inline void window_mean(const float* plane, int64_t width, const Window& win, float inv, float* out) {
  float sum[B];
  for (int l = 0; l < B; ++l) sum[l] = 0.0f;
  for (int64_t h = win.h0; h < win.h1; ++h)
    for (int64_t w = win.w0; w < win.w1; ++w) {
      const float* v = plane + (h * width + w) * B;
#pragma omp simd
      for (int l = 0; l < B; ++l) sum[l] += v[l];
    }
  for (int l = 0; l < B; ++l) out[l] = sum[l] * inv;
}

/// Adds diff_dst * inv, per lane, to every cell of the window.
template <int B>
inline void spread(float* plane, int64_t width, const Window& win, float inv, const float* diff_dst) {
  float share[B];
  for (int l = 0; l < B; ++l) share[l] = diff_dst[l] * inv;
  for (int64_t h = win.h0; h < win.h1; ++h)
    for (int64_t w = win.w0; w < win.w1; ++w) {
      float* v = plane + (h * width + w) * B;
#pragma omp simd
      for (int l = 0; l < B; ++l) v[l] += share[l];
    }
}

// The plane functions take g by value: its loop bounds then stay in registers.
template <int B>
void forward_plane(const Pool2d g, bool include_pad, const float* in, float* out) {
  for (int64_t y = 0; y < g.oh; ++y)
    for (int64_t x = 0; x < g.ow; ++x) {
      const Window win = g.window(y, x);
      window_mean<B>(in, g.w, win, inv_divisor(g, include_pad, win), out + (y * g.ow + x) * B);
    }
}

template <int B>
void backward_plane(const Pool2d g, bool include_pad, const float* diff_dst, float* diff_src) {
  std::fill_n(diff_src, g.src_plane(), 0.0f);
  for (int64_t y = 0; y < g.oh; ++y)
    for (int64_t x = 0; x < g.ow; ++x) {
      const Window win = g.window(y, x);
      spread<B>(diff_src, g.w, win, inv_divisor(g, include_pad, win), diff_dst + (y * g.ow + x) * B);
    }
}

}  // namespace

void AvgPool2d::infer(sdk::InferContext& ctx) {
  ctx.set_dst(Pool2d::from(name, ctx.node_name(), ctx.input(0), ctx.attrs()).dst_shape());
}

AvgPool2d::AvgPool2d(const sdk::InstanceContext& ctx)
    : g_(Pool2d::from(name, ctx.node_name(), ctx.input(0), ctx.attrs())),
      include_pad_(ctx.attrs().boolean("count_include_pad")) {
  adopt_src_layout(name, ctx, g_, dst_md_);
}

void AvgPool2d::forward(sdk::ForwardContext& ctx) const {
  const float* src = ctx.src(0).data();
  float* dst = ctx.dst().data();
  with_block(g_.b, [&](auto block) {
    constexpr int B = decltype(block)::value;
    for_each_plane(g_, [&](int64_t pl) {
      float* out = dst + pl * g_.dst_plane();
      forward_plane<B>(g_, include_pad_, src + pl * g_.src_plane(), out);
      zero_padded_lanes(g_, pl, out, g_.oh * g_.ow);
    });
  });
}

void AvgPool2d::backward(sdk::BackwardContext& ctx) const {
  const sdk::Tensor diff_src = ctx.diff_src(0);
  if (!diff_src.present()) return;
  const float* diff_dst = ctx.diff_dst().data();
  float* ds = diff_src.data();
  with_block(g_.b, [&](auto block) {
    constexpr int B = decltype(block)::value;
    for_each_plane(g_, [&](int64_t pl) {
      float* out = ds + pl * g_.src_plane();
      backward_plane<B>(g_, include_pad_, diff_dst + pl * g_.dst_plane(), out);
      zero_padded_lanes(g_, pl, out, g_.h * g_.w);  // diff_dst's padding need not be zero
    });
  });
}

}  // namespace plexus::plugins
