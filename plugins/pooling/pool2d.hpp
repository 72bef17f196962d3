// Shared geometry of the 2-D pooling kernels (max_pool2d, avg_pool2d): the
// attributes they both declare, their validation, and the window of one
// output cell. Header-only; compiled into the pooling plugin.
//
//   const Pool2d g = Pool2d::from("max_pool2d", node, src_shape, attrs);
//   const Window win = g.window(oh, ow);   // in-bounds rows [h0, h1), cols [w0, w1)
#ifndef PLEXUS_PLUGINS_POOLING_POOL2D_HPP
#define PLEXUS_PLUGINS_POOLING_POOL2D_HPP

#include <plexus/sdk/plugin.hpp>

#include <algorithm>
#include <cstdint>
#include <string>

namespace plexus::plugins {

/// Attributes common to both kernels, in declaration order.
inline constexpr sdk::Attr kPoolKernelAttr =
    sdk::Attr::i64("kernel", 0, "window size k (square window k x k), >= 1").required_value();
inline constexpr sdk::Attr kPoolStrideAttr =
    sdk::Attr::i64("stride", 0, "step between windows (square); 0 (the default) means stride = kernel, as in PyTorch");
inline constexpr sdk::Attr kPoolPaddingAttr =
    sdk::Attr::i64("padding", 0, "implicit padding p on every side, 0 <= p <= kernel / 2 (as in PyTorch)");

/// The in-bounds part of one window: rows [h0, h1), columns [w0, w1).
struct Window {
  int64_t h0, h1, w0, w1;
  int64_t count() const { return (h1 - h0) * (w1 - w0); }
};

/// Shapes and window parameters of one pooling node (src [N, C, H, W], floor mode).
struct Pool2d {
  int64_t n = 0, c = 0, h = 0, w = 0;  // src
  int64_t k = 1, s = 1, p = 0;         // kernel, stride, padding
  int64_t oh = 0, ow = 0;              // dst spatial size

  int64_t planes() const { return n * c; }
  int64_t src_plane() const { return h * w; }
  int64_t dst_plane() const { return oh * ow; }
  sdk::Shape dst_shape() const { return sdk::Shape{n, c, oh, ow}; }

  /// The window of output cell (y, x), clipped to the input. With
  /// p <= k / 2 and floor mode it is never empty.
  Window window(int64_t y, int64_t x) const {
    const int64_t hs = y * s - p, ws = x * s - p;
    return {std::max<int64_t>(hs, 0), std::min(hs + k, h), std::max<int64_t>(ws, 0), std::min(ws + k, w)};
  }

  /// Validates src and the attributes; errors name the node, the op and what was found.
  static Pool2d from(const char* op, const char* node, const sdk::Shape& src, const sdk::Attrs& attrs) {
    const auto fail = [&](const std::string& what) {
      throw sdk::Error(PLX_E_INVALID, "node '" + std::string(node) + "': " + op + " " + what);
    };
    const auto num = [](int64_t v) { return std::to_string(v); };
    if (src.ndim() != 4) fail("needs src of rank 4 [N, C, H, W] (plain NCHW), got " + src.str());
    Pool2d g;
    g.n = src[0], g.c = src[1], g.h = src[2], g.w = src[3];
    g.k = attrs.i64("kernel");
    g.p = attrs.i64("padding");
    const int64_t stride = attrs.i64("stride");
    g.s = stride == 0 ? g.k : stride;
    if (g.k < 1) fail("attribute 'kernel' must be >= 1, got " + num(g.k));
    if (g.s < 1) fail("attribute 'stride' must be >= 1 (or 0 for stride = kernel), got " + num(stride));
    if (g.p < 0 || g.p > g.k / 2)
      fail("attribute 'padding' must be in [0, kernel / 2] = [0, " + num(g.k / 2) + "] (as in PyTorch), got " +
           num(g.p) + " with kernel " + num(g.k));
    if (g.h < 1 || g.w < 1) fail("needs a non-empty image (H, W >= 1), got src " + src.str());
    if (g.h + 2 * g.p < g.k || g.w + 2 * g.p < g.k)
      fail("kernel " + num(g.k) + " is larger than the padded input " + num(g.h + 2 * g.p) + "x" +
           num(g.w + 2 * g.p) + " (src " + src.str() + ", padding " + num(g.p) + ")");
    g.oh = (g.h + 2 * g.p - g.k) / g.s + 1;
    g.ow = (g.w + 2 * g.p - g.k) / g.s + 1;
    return g;
  }
};

/// Below this many window reads a call stays on the calling thread.
inline constexpr int64_t kPoolParallelWork = int64_t{1} << 15;

}  // namespace plexus::plugins

#endif  // PLEXUS_PLUGINS_POOLING_POOL2D_HPP
