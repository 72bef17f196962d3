// Shared by the pooling tests: case geometry, the naive double-precision
// reference (written independently of the plugin), and oneDNN's own pooling
// forward as a second, independent implementation.
#ifndef PLEXUS_TESTS_PLUGINS_POOLING_POOL2D_REF_HPP
#define PLEXUS_TESTS_PLUGINS_POOLING_POOL2D_REF_HPP

#include "support/gradcheck.hpp"

#include <oneapi/dnnl/dnnl.hpp>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <vector>

namespace plexus::test {

/// One pooling configuration; stride 0 leaves the attribute unset (stride = kernel).
struct PoolGeom {
  int64_t kernel = 2, stride = 0, padding = 0;
  int64_t eff_stride() const { return stride == 0 ? kernel : stride; }
  AttrMap attrs() const {
    AttrMap a{{"kernel", AttrValue(kernel)}, {"padding", AttrValue(padding)}};
    if (stride != 0) a["stride"] = AttrValue(stride);
    return a;
  }
  int64_t out(int64_t in) const { return (in + 2 * padding - kernel) / eff_stride() + 1; }
};

enum class PoolKind { kMax, kAvgIncludePad, kAvgExcludePad };

/// dst of 2-D pooling over src [N, C, H, W], in double, by the textbook loops.
inline std::vector<double> pool2d_ref(PoolKind kind, const PoolGeom& g, const Shape& s, const std::vector<double>& x) {
  const int64_t n = s[0], c = s[1], h = s[2], w = s[3], oh = g.out(h), ow = g.out(w);
  std::vector<double> dst;
  dst.reserve(static_cast<size_t>(n * c * oh * ow));
  for (int64_t plane = 0; plane < n * c; ++plane)
    for (int64_t y = 0; y < oh; ++y)
      for (int64_t xo = 0; xo < ow; ++xo) {
        double best = -std::numeric_limits<double>::infinity(), sum = 0;
        int64_t count = 0;
        for (int64_t i = 0; i < g.kernel; ++i)
          for (int64_t j = 0; j < g.kernel; ++j) {
            const int64_t hh = y * g.eff_stride() - g.padding + i, ww = xo * g.eff_stride() - g.padding + j;
            if (hh < 0 || hh >= h || ww < 0 || ww >= w) continue;  // padding
            const double v = x[static_cast<size_t>((plane * h + hh) * w + ww)];
            best = std::max(best, v);
            sum += v;
            ++count;
          }
        const double div = kind == PoolKind::kAvgIncludePad ? static_cast<double>(g.kernel * g.kernel) : count;
        dst.push_back(kind == PoolKind::kMax ? best : sum / div);
      }
  return dst;
}

/// oneDNN 2.x pooling_forward (forward_inference) on plain NCHW f32.
inline std::vector<float> dnnl_pool2d(PoolKind kind, const PoolGeom& g, const Shape& s, std::vector<float> src) {
  using dt = dnnl::memory::data_type;
  using tag = dnnl::memory::format_tag;
  const dnnl::memory::dims src_dims{s[0], s[1], s[2], s[3]}, dst_dims{s[0], s[1], g.out(s[2]), g.out(s[3])};
  const dnnl::algorithm alg = kind == PoolKind::kMax             ? dnnl::algorithm::pooling_max
                              : kind == PoolKind::kAvgIncludePad ? dnnl::algorithm::pooling_avg_include_padding
                                                                 : dnnl::algorithm::pooling_avg_exclude_padding;
  dnnl::engine eng(dnnl::engine::kind::cpu, 0);
  const dnnl::memory::desc src_md(src_dims, dt::f32, tag::nchw), dst_md(dst_dims, dt::f32, tag::nchw);
  const dnnl::pooling_forward::desc d(dnnl::prop_kind::forward_inference, alg, src_md, dst_md,
                                      {g.eff_stride(), g.eff_stride()}, {g.kernel, g.kernel},
                                      {g.padding, g.padding}, {g.padding, g.padding});
  const dnnl::pooling_forward::primitive_desc pd(d, eng);
  std::vector<float> dst(static_cast<size_t>(dst_md.get_size() / sizeof(float)));
  dnnl::memory src_mem(src_md, eng, src.data()), dst_mem(dst_md, eng, dst.data());
  dnnl::stream strm(eng);
  dnnl::pooling_forward(pd).execute(strm, {{DNNL_ARG_SRC, src_mem}, {DNNL_ARG_DST, dst_mem}});
  strm.wait();
  return dst;
}

/// The plugin's forward on `x` (a fresh instance per call).
inline Tensor run_pool(const std::string& op, const AttrMap& attrs, const Tensor& x, bool training = false) {
  const OpKernel& k = builtin_registry().op(op);
  const Shape in[] = {x.shape()};
  return k.create("pool", k.resolve_attrs(attrs, "pool"), in)->forward(std::vector<Tensor>{x}, {}, training);
}

}  // namespace plexus::test

#endif
