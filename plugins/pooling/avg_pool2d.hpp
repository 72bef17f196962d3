// avg_pool2d: 2-D average pooling on plain NCHW, nChw8c or nChw16c, forward and
// backward as our own loops.
#ifndef PLEXUS_PLUGINS_POOLING_AVG_POOL2D_HPP
#define PLEXUS_PLUGINS_POOLING_AVG_POOL2D_HPP

#include "pooling/pool2d.hpp"

#include <array>

namespace plexus::plugins {

/// Plain loops over one (n, channel block) plane at a time, like max_pool2d
/// (one style for both pooling kernels), in src's layout: plain NCHW, nChw8c
/// or nChw16c (PLX_OP_LAYOUTS). Backward reads neither src nor dst.
struct AvgPool2d : sdk::OpDefaults {
  static constexpr const char* name = "avg_pool2d";
  static constexpr int32_t kind = PLX_KIND_LAYER;
  static constexpr uint32_t flags = PLX_OP_LAYOUTS;
  static constexpr const char* doc =
      "2-D average pooling: dst[n, c, y, x] = (1 / d) sum over the k x k window src[n, c, y*s - p + i, "
      "x*s - p + j], 0 <= i, j < k, of the cells inside the image (padded cells count as 0). The divisor "
      "d is k*k with count_include_pad=true (PyTorch's default) and the number of in-image cells of the "
      "window with count_include_pad=false. src [N, C, H, W] (plain NCHW, nChw8c or nChw16c), "
      "dst [N, C, OH, OW] in src's layout, OH = floor((H + 2p - k) / s) + 1, OW likewise. Gradient: "
      "diff_src[n, c, h, w] = sum over the windows containing (h, w) of diff_dst / d. Requires "
      "0 <= p <= k / 2 and k <= H + 2p, W + 2p.";
  static constexpr std::array<sdk::Attr, 4> attrs{
      kPoolKernelAttr, kPoolStrideAttr, kPoolPaddingAttr,
      sdk::Attr::boolean("count_include_pad", true,
                         "divide by k*k (true) or by the number of non-padding cells in the window (false)")};

  static void infer(sdk::InferContext& ctx);
  explicit AvgPool2d(const sdk::InstanceContext& ctx);
  void forward(sdk::ForwardContext& ctx) const;
  void backward(sdk::BackwardContext& ctx) const;

 private:
  Pool2d g_;
  bool include_pad_;
  dnnl_memory_desc_t dst_md_{};  // dst's layout when src is blocked (the runtime holds a pointer to it)
};

}  // namespace plexus::plugins

#endif
