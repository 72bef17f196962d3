#include "max_pool2d.hpp"

#include "common/clones.hpp"

#include <algorithm>
#include <bit>
#include <cstdint>
#include <limits>
#include <type_traits>

namespace plexus::plugins {

namespace {

constexpr int64_t kCodesOffset = 64;  // bytes of workspace before the argmax codes

/// Per lane (channel of the block), the window's maximum, or NaN where the
/// window holds one. Branch-free (`v > m ? v : m` is one maxss/maxps): on
/// random data a compare-and-branch per cell mispredicts about half the time.
template <int B>
inline void window_max(const float* plane, int64_t width, const Window& win, float* m) {
  float best[B];
  int32_t nan[B];  // not bool: GCC vectorizes int lanes, not bool ones
  for (int l = 0; l < B; ++l) best[l] = -std::numeric_limits<float>::infinity(), nan[l] = 0;
  for (int64_t y = win.h0; y < win.h1; ++y)
    for (int64_t x = win.w0; x < win.w1; ++x) {
      const float* v = plane + (y * width + x) * B;
#pragma omp simd
      for (int l = 0; l < B; ++l) {
        best[l] = v[l] > best[l] ? v[l] : best[l];
        nan[l] |= v[l] != v[l];
      }
    }
  for (int l = 0; l < B; ++l) m[l] = nan[l] ? std::numeric_limits<float>::quiet_NaN() : best[l];
}

/// The pixel of the first NaN of lane `l` in the window (row-major order).
template <int B>
int64_t first_nan(const float* plane, int64_t width, const Window& win, int l) {
  for (int64_t y = win.h0; y < win.h1; ++y)
    for (int64_t x = win.w0; x < win.w1; ++x)
      if (float v = plane[(y * width + x) * B + l]; v != v) return y * width + x;
  return 0;  // not reached: the lane's maximum is NaN only if it holds one
}

/// A pixel index for B lanes. One lane (plain NCHW) keeps the scalar
/// int64 select (a cmov; int32 measured 2.5x slower there); 8 or 16 lanes
/// use int32, as wide as the floats, so the select vectorizes (int64 lanes
/// do not). channel_block() refuses blocked planes of 2^31 pixels or more.
template <int B>
using Pixel = std::conditional_t<B == 1, int64_t, int32_t>;

/// Per lane, the pixel (h * width + w within the plane) of the window's
/// maximum: the first cell in row-major scan order that holds it, as PyTorch
/// picks ties; with NaNs, the first NaN (PyTorch takes the last; either is a
/// NaN of the window). Scanning backwards and keeping the last match is that
/// first cell, without a data-dependent branch; a NaN maximum matches no
/// cell and is looked up apart (rare, so its branch predicts well).
template <int B>
inline void argmax(const float* plane, int64_t width, const Window& win, Pixel<B>* pixel) {
  float m[B];
  window_max<B>(plane, width, win, m);
  for (int l = 0; l < B; ++l) pixel[l] = 0;
  for (int64_t y = win.h1 - 1; y >= win.h0; --y)
    for (int64_t x = win.w1 - 1; x >= win.w0; --x) {
      const float* v = plane + (y * width + x) * B;
      const auto here = static_cast<Pixel<B>>(y * width + x);
#pragma omp simd
      for (int l = 0; l < B; ++l) pixel[l] = v[l] == m[l] ? here : pixel[l];
    }
  for (int l = 0; l < B; ++l)
    if (m[l] != m[l]) pixel[l] = static_cast<Pixel<B>>(first_nan<B>(plane, width, win, l));
}

/// The B lanes of one diff_dst pixel of `ob` lanes: the pixel itself when
/// ob = B, else a copy in `buf` with the lanes past ob zero (an nhwc dst
/// has no padding to read them from).
template <int B>
inline const float* lanes_of(const float* pixel, int64_t ob, float* buf) {
  if (ob == B) return pixel;
  for (int l = 0; l < B; ++l) buf[l] = l < ob ? pixel[l] : 0.0f;
  return buf;
}

/// Stores the first `ob` of B lanes (all of them, one vector store, when ob = B).
template <int B>
inline void store_lanes(const float* m, float* pixel, int64_t ob) {
  if (ob == B) {
#pragma omp simd
    for (int l = 0; l < B; ++l) pixel[l] = m[l];
  } else {
    for (int64_t l = 0; l < ob; ++l) pixel[l] = m[l];
  }
}

// The plane functions take g by value: its loop bounds then stay in registers.
// dst pixels hold g.ob lanes (B, or C for an nhwc dst); codes and the
// windows' lanes are always B wide.
template <int B>
void forward_plane(const Pool2d g, const float* in, float* out) {
  for (int64_t y = 0; y < g.oh; ++y)
    for (int64_t x = 0; x < g.ow; ++x) {
      float m[B];
      window_max<B>(in, g.w, g.window(y, x), m);
      store_lanes<B>(m, out + (y * g.ow + x) * g.ob, g.ob);
    }
}

// Training forward: also records, per lane, where in the window its argmax is
// (argmax()'s rule), as the code dy * k + dx from the window's unclipped
// corner, so backward need not read src again.
template <int B>
void forward_plane_codes(const Pool2d g, const float* in, float* out, uint8_t* codes) {
  for (int64_t y = 0; y < g.oh; ++y)
    for (int64_t x = 0; x < g.ow; ++x) {
      const Window win = g.window(y, x);
      const int64_t hs = y * g.s - g.p, ws = x * g.s - g.p;
      float m[B];
      window_max<B>(in, g.w, win, m);
      store_lanes<B>(m, out + (y * g.ow + x) * g.ob, g.ob);
      int32_t code[B];
      for (int l = 0; l < B; ++l) code[l] = 0;
      for (int64_t yy = win.h1 - 1; yy >= win.h0; --yy)
        for (int64_t xx = win.w1 - 1; xx >= win.w0; --xx) {
          const float* v = in + (yy * g.w + xx) * B;
          const auto here = static_cast<int32_t>((yy - hs) * g.k + (xx - ws));
#pragma omp simd
          for (int l = 0; l < B; ++l) code[l] = v[l] == m[l] ? here : code[l];
        }
      uint8_t* c = codes + (y * g.ow + x) * B;
      for (int l = 0; l < B; ++l) {
        if (m[l] != m[l]) {  // a NaN maximum matches no cell: the first NaN
          const int64_t px = first_nan<B>(in, g.w, win, l);
          code[l] = static_cast<int32_t>((px / g.w - hs) * g.k + (px % g.w - ws));
        }
        c[l] = static_cast<uint8_t>(code[l]);
      }
    }
}

// Backward from the recorded codes. Non-overlapping windows write their
// cells directly (lanes >= `valid`, channel padding, get 0); overlapping ones
// add into a zeroed plane.
template <int B>
void backward_plane_codes(const Pool2d g, const uint8_t* codes, const float* diff_dst, float* diff_src,
                          int64_t valid) {
  const bool direct = g.p == 0 && g.s >= g.k;  // disjoint windows
  if (!direct || g.oh * g.s != g.h || g.ow * g.s != g.w || g.s != g.k) std::fill_n(diff_src, g.src_plane(), 0.0f);
  int32_t real[B];
  for (int l = 0; l < B; ++l) real[l] = l < valid ? -1 : 0;
  float dl[B];
  for (int64_t y = 0; y < g.oh; ++y)
    for (int64_t x = 0; x < g.ow; ++x) {
      const Window win = g.window(y, x);
      const int64_t hs = y * g.s - g.p, ws = x * g.s - g.p;
      const uint8_t* c = codes + (y * g.ow + x) * B;
      const float* d = lanes_of<B>(diff_dst + (y * g.ow + x) * g.ob, g.ob, dl);
      if (!direct) {
        for (int l = 0; l < B; ++l) {
          const int64_t px = (hs + c[l] / g.k) * g.w + (ws + c[l] % g.k);
          diff_src[px * B + l] += d[l];
        }
        continue;
      }
      for (int64_t yy = win.h0; yy < win.h1; ++yy)
        for (int64_t xx = win.w0; xx < win.w1; ++xx) {
          const auto here = static_cast<int32_t>((yy - hs) * g.k + (xx - ws));
          float* o = diff_src + (yy * g.w + xx) * B;
#pragma omp simd
          for (int l = 0; l < B; ++l) o[l] = ((static_cast<int32_t>(c[l]) == here) & (real[l] != 0)) ? d[l] : 0.0f;
        }
    }
}

/// True for 2x2 windows at stride 2 without padding over an even plane
/// (LeNet's pools, and most CNNs'): the windows tile src exactly.
bool tiles_2x2(const Pool2d& g) { return g.k == 2 && g.s == 2 && g.p == 0 && g.h == 2 * g.oh && g.w == 2 * g.ow; }

// The training forward on tiles_2x2 planes. A window is four cells at fixed
// offsets, so each output pixel is straight-line vector code over its B
// lanes: the maximum in forward_plane_codes' order (a strict > from the first
// cell, so ties keep the first), the code of the first cell equal to it, and
// where a lane holds a NaN, NaN and the code of the first NaN. The codes are
// forward_plane_codes' (dy * 2 + dx), so either backward reads them.
template <int B>
void forward_2x2_codes(const Pool2d g, const float* in, float* out, uint8_t* codes) {
  const int64_t row = g.w * B;
  for (int64_t y = 0; y < g.oh; ++y) {
    const float* r0 = in + 2 * y * row;
    const float* r1 = r0 + row;
    for (int64_t x = 0; x < g.ow; ++x) {
      const float *a = r0 + 2 * x * B, *b = a + B, *c = r1 + 2 * x * B, *d = c + B;
      float m[B];
      int32_t code[B];
#pragma omp simd
      for (int l = 0; l < B; ++l) {
        const float va = a[l], vb = b[l], vc = c[l], vd = d[l];
        float mx = va;
        mx = vb > mx ? vb : mx;
        mx = vc > mx ? vc : mx;
        mx = vd > mx ? vd : mx;
        int32_t at = 3, nan_at = 3;
        at = vc == mx ? 2 : at;
        at = vb == mx ? 1 : at;
        at = va == mx ? 0 : at;
        nan_at = vc != vc ? 2 : nan_at;
        nan_at = vb != vb ? 1 : nan_at;
        nan_at = va != va ? 0 : nan_at;
        const bool nan = (va != va) | (vb != vb) | (vc != vc) | (vd != vd);
        m[l] = nan ? std::numeric_limits<float>::quiet_NaN() : mx;
        code[l] = nan ? nan_at : at;
      }
      store_lanes<B>(m, out + (y * g.ow + x) * g.ob, g.ob);
      uint8_t* cp = codes + (y * g.ow + x) * B;
#pragma omp simd
      for (int l = 0; l < B; ++l) cp[l] = static_cast<uint8_t>(code[l]);
    }
  }
}

// Backward from forward_2x2_codes' codes: every src cell belongs to one
// window and gets diff_dst where it is the code's cell, 0 elsewhere (and 0
// in the padded lanes >= `valid`). An nhwc diff_dst (ob < B lanes a pixel)
// is first staged into B-lane pixels a chunk of a row at a time: padding
// each pixel just before its vector loads (lanes_of) stalls them on the
// scalar stores, which perf put at 60% of this loop.
template <int B>
void backward_2x2_codes(const Pool2d g, const uint8_t* codes, const float* diff_dst, float* diff_src, int64_t valid) {
  constexpr int64_t kChunk = 32;  // pixels staged at once
  int32_t real[B];
  for (int l = 0; l < B; ++l) real[l] = l < valid ? -1 : 0;
  const int64_t row = g.w * B;
  float stage[kChunk * B];
  for (int64_t y = 0; y < g.oh; ++y) {
    float* r0 = diff_src + 2 * y * row;
    float* r1 = r0 + row;
    const float* drow = diff_dst + y * g.ow * g.ob;
    for (int64_t x0 = 0; x0 < g.ow; x0 += kChunk) {
      const int64_t x1 = std::min(g.ow, x0 + kChunk);
      const float* dd = drow + x0 * B;
      if (g.ob != B) {
        for (int64_t x = x0; x < x1; ++x)
          for (int l = 0; l < B; ++l) stage[(x - x0) * B + l] = l < g.ob ? drow[x * g.ob + l] : 0.0f;
        dd = stage;
      }
      for (int64_t x = x0; x < x1; ++x) {
        const uint8_t* cp = codes + (y * g.ow + x) * B;
        const float* d = dd + (x - x0) * B;
        float *a = r0 + 2 * x * B, *b = a + B, *c = r1 + 2 * x * B, *e = c + B;
        // Selects as bit masks: written as `at == 0 ? v : 0.0f`, GCC 12
        // turns the four stores into masked stores and reloads.
#pragma omp simd
        for (int l = 0; l < B; ++l) {
          const int32_t at = cp[l];
          const int32_t v = std::bit_cast<int32_t>(d[l]) & real[l];
          a[l] = std::bit_cast<float>(v & -static_cast<int32_t>(at == 0));
          b[l] = std::bit_cast<float>(v & -static_cast<int32_t>(at == 1));
          c[l] = std::bit_cast<float>(v & -static_cast<int32_t>(at == 2));
          e[l] = std::bit_cast<float>(v & -static_cast<int32_t>(at == 3));
        }
      }
    }
  }
}

// Windows that do not overlap (stride >= kernel, no padding; LeNet's 2x2
// stride 2): every cell gets its gradient from at most one window, so each
// window writes its cells directly, d where the cell is the window's argmax
// and 0 elsewhere, a vector select per cell instead of zero-filling the plane
// and scattering one lane at a time. The argmax rule is argmax()'s: the first
// cell in row-major order equal to the maximum, or the first NaN.
// Lanes >= `valid` are channel padding: they are written 0 here, whatever
// src and diff_dst hold there.
template <int B>
void backward_plane_disjoint(const Pool2d g, const float* in, const float* diff_dst, float* diff_src, int64_t valid) {
  int32_t real[B];
  for (int l = 0; l < B; ++l) real[l] = l < valid ? -1 : 0;
  if (g.oh * g.s != g.h || g.ow * g.s != g.w || g.s != g.k)
    std::fill_n(diff_src, g.src_plane(), 0.0f);  // cells between or after the windows get no gradient
  for (int64_t y = 0; y < g.oh; ++y)
    for (int64_t x = 0; x < g.ow; ++x) {
      const Window win = g.window(y, x);
      float m[B];
      window_max<B>(in, g.w, win, m);
      int32_t nan_max[B], taken[B];
      for (int l = 0; l < B; ++l) nan_max[l] = m[l] != m[l], taken[l] = 0;
      float dl[B];
      const float* d = lanes_of<B>(diff_dst + (y * g.ow + x) * g.ob, g.ob, dl);
      for (int64_t yy = win.h0; yy < win.h1; ++yy)
        for (int64_t xx = win.w0; xx < win.w1; ++xx) {
          const float* v = in + (yy * g.w + xx) * B;
          float* o = diff_src + (yy * g.w + xx) * B;
#pragma omp simd
          for (int l = 0; l < B; ++l) {
            const int32_t hit = static_cast<int32_t>(v[l] == m[l] || (nan_max[l] && v[l] != v[l])) & ~taken[l];
            o[l] = (hit & real[l]) ? d[l] : 0.0f;
            taken[l] |= -hit;
          }
        }
    }
}

/// True when backward takes backward_plane_disjoint, which also zeroes the
/// padded lanes.
bool disjoint(const Pool2d& g) { return g.p == 0 && g.s >= g.k; }

template <int B>
void backward_plane(const Pool2d g, const float* in, const float* diff_dst, float* diff_src, int64_t valid) {
  if (disjoint(g)) return backward_plane_disjoint<B>(g, in, diff_dst, diff_src, valid);
  std::fill_n(diff_src, g.src_plane(), 0.0f);
  Pixel<B> pixel[B];
  for (int64_t y = 0; y < g.oh; ++y)
    for (int64_t x = 0; x < g.ow; ++x) {
      argmax<B>(in, g.w, g.window(y, x), pixel);
      float dl[B];
      const float* d = lanes_of<B>(diff_dst + (y * g.ow + x) * g.ob, g.ob, dl);
      for (int l = 0; l < B; ++l) diff_src[int64_t{pixel[l]} * B + l] += d[l];
    }
}

// The plane loops for each channel block, cloned per instruction set: a
// 16-lane block is one AVX-512 vector, four SSE ones.
template <int B>
PLEXUS_CLONES_FLATTEN void forward_plane_cloned(const Pool2d g, const float* in, float* out) {
  forward_plane<B>(g, in, out);
}

template <int B>
PLEXUS_CLONES_FLATTEN void forward_plane_codes_cloned(const Pool2d g, const float* in, float* out, uint8_t* codes) {
  if (tiles_2x2(g)) return forward_2x2_codes<B>(g, in, out, codes);
  forward_plane_codes<B>(g, in, out, codes);
}

template <int B>
PLEXUS_CLONES_FLATTEN void backward_plane_codes_cloned(const Pool2d g, const uint8_t* codes, const float* diff_dst,
                                                       float* diff_src, int64_t valid) {
  if (tiles_2x2(g)) return backward_2x2_codes<B>(g, codes, diff_dst, diff_src, valid);
  backward_plane_codes<B>(g, codes, diff_dst, diff_src, valid);
}

template <int B>
PLEXUS_CLONES_FLATTEN void backward_plane_cloned(const Pool2d g, const float* in, const float* diff_dst,
                                                 float* diff_src, int64_t valid) {
  backward_plane<B>(g, in, diff_dst, diff_src, valid);
}

}  // namespace

void MaxPool2d::infer(sdk::InferContext& ctx) {
  ctx.set_dst(Pool2d::from(name, ctx.node_name(), ctx.input(0), ctx.attrs()).dst_shape());
}

MaxPool2d::MaxPool2d(const sdk::InstanceContext& ctx)
    : g_(Pool2d::from(name, ctx.node_name(), ctx.input(0), ctx.attrs())) {
  adopt_src_layout(name, ctx, g_, dst_md_, /*nhwc_for_one_block=*/true);
  // The workspace: a flag (64 bytes, so the codes stay aligned) saying whether
  // forward recorded the codes, then one byte per dst lane. A window of more
  // than 256 cells has no byte code: backward then recomputes from src.
  if (g_.k * g_.k <= 256) ctx.set_workspace_bytes(kCodesOffset + g_.planes() * g_.lanes_plane());
}

void MaxPool2d::forward(sdk::ForwardContext& ctx) const {
  const float* src = ctx.src(0).data();
  float* dst = ctx.dst().data();
  // Codes only in training: an inference forward (no backward expected) does
  // not pay for them, and a backward after one recomputes from src.
  auto* ws = static_cast<uint8_t*>(ctx.workspace());
  const bool codes = ws != nullptr && ctx.training();
  if (ws != nullptr) ws[0] = codes ? 1 : 0;
  with_block(g_.b, [&](auto block) {
    constexpr int B = decltype(block)::value;
    for_each_plane(g_, [&](int64_t pl) {
      float* out = dst + pl * g_.dst_plane();
      if (codes)
        forward_plane_codes_cloned<B>(g_, src + pl * g_.src_plane(), out, ws + kCodesOffset + pl * g_.lanes_plane());
      else
        forward_plane_cloned<B>(g_, src + pl * g_.src_plane(), out);
      if (g_.ob == g_.b) zero_padded_lanes(g_, pl, out, g_.oh * g_.ow);  // an nhwc dst has no padding
    });
  });
}

void MaxPool2d::backward(sdk::BackwardContext& ctx) const {
  const sdk::Tensor diff_src = ctx.diff_src(0);
  if (!diff_src.present()) return;
  const float* src = ctx.src(0).data();
  const float* diff_dst = ctx.diff_dst().data();
  float* ds = diff_src.data();
  const auto* ws = static_cast<const uint8_t*>(ctx.workspace());
  if (ws != nullptr && ws[0] == 1) {
    with_block(g_.b, [&](auto block) {
      constexpr int B = decltype(block)::value;
      for_each_plane(g_, [&](int64_t pl) {
        float* out = ds + pl * g_.src_plane();
        backward_plane_codes_cloned<B>(g_, ws + kCodesOffset + pl * g_.lanes_plane(), diff_dst + pl * g_.dst_plane(),
                                       out, g_.valid_lanes(pl));
        if (!disjoint(g_)) zero_padded_lanes(g_, pl, out, g_.h * g_.w);
      });
    });
    return;
  }
  with_block(g_.b, [&](auto block) {
    constexpr int B = decltype(block)::value;
    for_each_plane(g_, [&](int64_t pl) {
      float* out = ds + pl * g_.src_plane();
      backward_plane_cloned<B>(g_, src + pl * g_.src_plane(), diff_dst + pl * g_.dst_plane(), out,
                               g_.valid_lanes(pl));
      if (!disjoint(g_)) zero_padded_lanes(g_, pl, out, g_.h * g_.w);  // diff_dst's padding need not be zero
    });
  });
}

}  // namespace plexus::plugins
