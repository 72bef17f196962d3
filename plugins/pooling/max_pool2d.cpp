#include "max_pool2d.hpp"

#include <cstdint>
#include <limits>

namespace plexus::plugins {

namespace {

/// The window's maximum, or NaN if the window holds one. Branch-free: on
/// random data a compare-and-branch per cell mispredicts about half the time.
inline float window_max(const float* plane, int64_t width, const Window& win) {
  float m = -std::numeric_limits<float>::infinity();
  bool nan = false;
  for (int64_t y = win.h0; y < win.h1; ++y) {
    const float* row = plane + y * width;
    for (int64_t x = win.w0; x < win.w1; ++x) {
      const float v = row[x];
      m = v > m ? v : m;
      nan |= v != v;
    }
  }
  return nan ? std::numeric_limits<float>::quiet_NaN() : m;
}

/// Index (within the plane) of the window's maximum: the first cell in
/// row-major scan order that holds it, as PyTorch picks ties; with NaNs, the
/// first NaN (PyTorch takes the last; either is a NaN of the window).
/// Scanning backwards and keeping the last match is that first cell, without
/// a data-dependent branch.
inline int64_t argmax(const float* plane, int64_t width, const Window& win) {
  const float m = window_max(plane, width, win);
  const bool nan = m != m;
  int64_t best = 0;
  for (int64_t y = win.h1 - 1; y >= win.h0; --y) {
    const float* row = plane + y * width;
    for (int64_t x = win.w1 - 1; x >= win.w0; --x) {
      const bool hit = nan ? row[x] != row[x] : row[x] == m;
      best = hit ? y * width + x : best;
    }
  }
  return best;
}

}  // namespace

void MaxPool2d::infer(sdk::InferContext& ctx) {
  ctx.set_dst(Pool2d::from(name, ctx.node_name(), ctx.input(0), ctx.attrs()).dst_shape());
}

MaxPool2d::MaxPool2d(const sdk::InstanceContext& ctx)
    : g_(Pool2d::from(name, ctx.node_name(), ctx.input(0), ctx.attrs())) {}

void MaxPool2d::forward(sdk::ForwardContext& ctx) const {
  const float* src = ctx.src(0).data();
  float* dst = ctx.dst().data();
  const Pool2d g = g_;  // a local copy: loop bounds stay in registers
  const bool parallel = g.planes() * g.dst_plane() * g.k * g.k >= kPoolParallelWork;
#pragma omp parallel for schedule(static) if (parallel)
  for (int64_t pl = 0; pl < g.planes(); ++pl) {
    const float* in = src + pl * g.src_plane();
    float* out = dst + pl * g.dst_plane();
    for (int64_t y = 0; y < g.oh; ++y)
      for (int64_t x = 0; x < g.ow; ++x) out[y * g.ow + x] = window_max(in, g.w, g.window(y, x));
  }
}

void MaxPool2d::backward(sdk::BackwardContext& ctx) const {
  const sdk::Tensor diff_src = ctx.diff_src(0);
  if (!diff_src.present()) return;
  const float* src = ctx.src(0).data();
  const float* diff_dst = ctx.diff_dst().data();
  float* ds = diff_src.data();
  const Pool2d g = g_;  // a local copy: loop bounds stay in registers
  const bool parallel = g.planes() * g.dst_plane() * g.k * g.k >= kPoolParallelWork;
#pragma omp parallel for schedule(static) if (parallel)
  for (int64_t pl = 0; pl < g.planes(); ++pl) {
    const float* in = src + pl * g.src_plane();
    const float* dd = diff_dst + pl * g.dst_plane();
    float* out = ds + pl * g.src_plane();
    std::fill_n(out, g.src_plane(), 0.0f);
    for (int64_t y = 0; y < g.oh; ++y)
      for (int64_t x = 0; x < g.ow; ++x) out[argmax(in, g.w, g.window(y, x))] += dd[y * g.ow + x];
  }
}

}  // namespace plexus::plugins
