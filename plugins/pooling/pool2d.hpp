// Shared geometry of the 2-D pooling kernels (max_pool2d, avg_pool2d): the
// attributes they both declare, their validation, the src layouts they take,
// the window of one output cell and the loop over planes. Header-only;
// compiled into the pooling plugin.
//
//   Pool2d g = Pool2d::from("max_pool2d", node, src_shape, attrs);
//   adopt_src_layout("max_pool2d", ctx, g, dst_md_);  // g.b: 1 plain, 8 nChw8c, 16 nChw16c (or nhwc, C = b)
//   const Window win = g.window(oh, ow);        // in-bounds rows [h0, h1), cols [w0, w1)
//   for_each_plane(g, [&](int64_t pl) { ... });  // (n, channel block) planes, OpenMP
//
// Layouts: plain NCHW is the channel-blocked layout with block b = 1, so one
// loop nest serves all three. A plane is one (n, channel block); its pixel
// (h, w) holds b consecutive floats, one per channel of the block ("lanes"):
//   src[(((n * CB + cb) * H + h) * W + w) * b + lane],  CB = ceil(C / b).
#ifndef PLEXUS_PLUGINS_POOLING_POOL2D_HPP
#define PLEXUS_PLUGINS_POOLING_POOL2D_HPP

#include <plexus/sdk/plugin.hpp>

#include <oneapi/dnnl/dnnl.hpp>

#include <algorithm>
#include <cstdint>
#include <string>
#include <type_traits>

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

/// Shapes, window parameters and channel block of one pooling node (src [N, C, H, W], floor mode).
struct Pool2d {
  int64_t n = 0, c = 0, h = 0, w = 0;  // src
  int64_t k = 1, s = 1, p = 0;         // kernel, stride, padding
  int64_t oh = 0, ow = 0;              // dst spatial size
  int64_t b = 1;                       // channel block (lanes per pixel): 1 = plain NCHW
  int64_t ob = 1;                      // dst lanes per pixel: b, or C for an nhwc dst (see adopt_src_layout)

  int64_t blocks() const { return (c + b - 1) / b; }  // CB
  int64_t planes() const { return n * blocks(); }
  int64_t src_plane() const { return h * w * b; }     // floats per plane
  int64_t dst_plane() const { return oh * ow * ob; }
  int64_t lanes_plane() const { return oh * ow * b; }  // one entry per dst pixel and src lane
  sdk::Shape dst_shape() const { return sdk::Shape{n, c, oh, ow}; }

  /// Lanes of plane `pl` that hold real channels; the rest are padding
  /// (C not a multiple of b), which the layout requires to stay zero.
  int64_t valid_lanes(int64_t pl) const { return std::min(b, c - (pl % blocks()) * b); }

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
    if (src.ndim() != 4) fail("needs src of rank 4 [N, C, H, W], got " + src.str());
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

/// oneDNN's descriptor of an f32 [N, C, H, W] tensor in channel block `b`
/// (1: nchw, 8: nChw8c, 16: nChw16c).
inline dnnl::memory::desc blocked_md(int64_t n, int64_t c, int64_t h, int64_t w, int64_t b) {
  using tag = dnnl::memory::format_tag;
  const tag t = b == 16 ? tag::nChw16c : b == 8 ? tag::nChw8c : tag::nchw;
  return dnnl::memory::desc({n, c, h, w}, dnnl::memory::data_type::f32, t);
}

/// oneDNN's nhwc descriptor of an f32 [N, C, H, W] tensor. With C = 8 or 16
/// its bytes are those of nChw8c / nChw16c (one channel block per pixel).
inline dnnl::memory::desc nhwc_md(int64_t n, int64_t c, int64_t h, int64_t w) {
  return dnnl::memory::desc({n, c, h, w}, dnnl::memory::data_type::f32, dnnl::memory::format_tag::nhwc);
}

/// The channel block of the layout src arrives in: 1 for plain, 8 for
/// nChw8c, 16 for nChw16c, and C for nhwc when C is 8 or 16 (conv2d's nhwc
/// kernels write it). Anything else is PLX_E_UNSUPPORTED, and so is a
/// blocked src when layouts are disabled (dst must then be plain, which our
/// loops do not write from blocked src): the runtime retries with plain src.
inline int64_t channel_block(const char* op, const sdk::InstanceContext& ctx, const Pool2d& g) {
  const void* layout = ctx.src_layout(0);
  if (layout == nullptr) return 1;
  const dnnl::memory::desc given(*static_cast<const dnnl_memory_desc_t*>(layout));
  const bool nhwc = (g.c == 8 || g.c == 16) && given == nhwc_md(g.n, g.c, g.h, g.w);
  for (int64_t b : {1, 8, 16}) {
    if (!(given == blocked_md(g.n, g.c, g.h, g.w, b)) && !(nhwc && b == g.c)) continue;
    if (b > 1 && !ctx.layouts_enabled())
      throw sdk::Error(PLX_E_UNSUPPORTED, std::string("node '") + ctx.node_name() + "': " + op +
                                              " writes dst in src's blocked layout, but layouts are disabled");
    if (b > 1 && g.h * g.w > INT32_MAX)  // the blocked loops index a plane's pixels with int32
      throw sdk::Error(PLX_E_UNSUPPORTED, std::string("node '") + ctx.node_name() + "': " + op +
                                              " takes blocked planes of fewer than 2^31 pixels");
    return b;
  }
  throw sdk::Error(PLX_E_UNSUPPORTED, std::string("node '") + ctx.node_name() + "': " + op +
                                          " takes src as plain NCHW, nChw8c, nChw16c, or nhwc with 8 or 16 channels; got another layout");
}

/// Sets g.b from src's layout and, for a blocked src, makes dst the same
/// layout; `dst_md` belongs to the instance: the runtime reads it through a
/// pointer for as long as the instance lives. With `nhwc_for_one_block`, a
/// src whose channels fill part of one block (LeNet's 6 channels in
/// nChw16c) gets an nhwc dst instead: the C real channels per pixel and no
/// padding, which conv2d's nhwc kernels read as they are (g.ob = C).
inline void adopt_src_layout(const char* op, const sdk::InstanceContext& ctx, Pool2d& g, dnnl_memory_desc_t& dst_md,
                             bool nhwc_for_one_block = false) {
  g.b = channel_block(op, ctx, g);
  g.ob = g.b;
  if (g.b == 1) return;
  const dnnl::memory::desc given(*static_cast<const dnnl_memory_desc_t*>(ctx.src_layout(0)));
  const bool nhwc = given == nhwc_md(g.n, g.c, g.h, g.w);  // dst keeps src's descriptor
  if (nhwc_for_one_block && !nhwc && g.c < g.b) {
    g.ob = g.c;
    dst_md = nhwc_md(g.n, g.c, g.oh, g.ow).data;
  } else {
    dst_md = (nhwc ? nhwc_md(g.n, g.c, g.oh, g.ow) : blocked_md(g.n, g.c, g.oh, g.ow, g.b)).data;
  }
  ctx.set_dst_layout(&dst_md);
}

/// Calls f(std::integral_constant<int, B>{}) for the channel block b, so a
/// kernel's loop over the B lanes of a pixel has a compile-time trip count
/// (it vectorizes for 8 and 16, and disappears for plain).
template <class F>
void with_block(int64_t b, F&& f) {
  if (b == 16) f(std::integral_constant<int, 16>{});
  else if (b == 8) f(std::integral_constant<int, 8>{});
  else f(std::integral_constant<int, 1>{});
}

/// Sets the padded lanes (channels >= C) of every pixel of one plane to zero.
inline void zero_padded_lanes(const Pool2d& g, int64_t pl, float* plane, int64_t pixels) {
  const int64_t valid = g.valid_lanes(pl);
  if (valid == g.b) return;
  for (int64_t i = 0; i < pixels; ++i) std::fill(plane + i * g.b + valid, plane + (i + 1) * g.b, 0.0f);
}

/// Below this many window reads a call stays on the calling thread.
inline constexpr int64_t kPoolParallelWork = int64_t{1} << 15;

/// Runs f(pl) for every (n, channel block) plane, split over the OpenMP team
/// (whose size the runtime sets per call) when the call is big enough.
template <class F>
void for_each_plane(const Pool2d& g, F&& f) {
  const int64_t planes = g.planes();
  const bool parallel = planes * g.dst_plane() * g.k * g.k >= kPoolParallelWork;
#pragma omp parallel for schedule(static) if (parallel)
  for (int64_t pl = 0; pl < planes; ++pl) f(pl);
}

}  // namespace plexus::plugins

#endif  // PLEXUS_PLUGINS_POOLING_POOL2D_HPP
