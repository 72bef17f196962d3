// max_pool2d: 2-D max pooling on plain NCHW, nChw8c or nChw16c, forward and
// backward as our own loops.
#ifndef PLEXUS_PLUGINS_POOLING_MAX_POOL2D_HPP
#define PLEXUS_PLUGINS_POOLING_MAX_POOL2D_HPP

#include "pooling/pool2d.hpp"

#include <array>

namespace plexus::plugins {

/// Our own loops rather than oneDNN's pooling: on plain NCHW oneDNN's stride-1
/// path is slow (~8x slower than this loop at 112x112, k3 s1). On blocked
/// layouts with stride = kernel oneDNN is faster (measured on AVX-512, 2x2 on
/// [64,6,28,28] nChw8c: 130 us against our 646 us, forward + backward); moving
/// those cases to oneDNN, with its argmax in the ABI 1.1 workspace, is open.
/// Forward is a branch-free max per window; in training it also records
/// each window's argmax (a byte per lane) in the workspace, which backward
/// reads; after an inference forward, backward recomputes it from the saved
/// src. Takes oneDNN's
/// channel-blocked layouts (PLX_OP_LAYOUTS) so a convolution's nChw8c/16c
/// output needs no reorder; dst then has src's layout.
struct MaxPool2d : sdk::OpDefaults {
  static constexpr const char* name = "max_pool2d";
  static constexpr int32_t kind = PLX_KIND_LAYER;
  // src: for a backward after an inference forward, which records no argmax
  static constexpr uint32_t flags = PLX_OP_SAVES_SRC | PLX_OP_LAYOUTS;
  static constexpr const char* doc =
      "2-D max pooling: dst[n, c, y, x] = max over the k x k window src[n, c, y*s - p + i, x*s - p + j], "
      "0 <= i, j < k, of the cells inside the image (padded cells never win). src [N, C, H, W] "
      "(plain NCHW, nChw8c or nChw16c), dst [N, C, OH, OW] in src's layout, OH = floor((H + 2p - k) / s) + 1, "
      "OW likewise. Gradient: diff_dst[n, c, y, x] goes to the window's argmax and gradients of overlapping "
      "windows add up. "
      "Ties go to the first maximum in row-major scan order of the window (as in PyTorch); a NaN in a "
      "window is its maximum (the gradient goes to the first NaN). Requires 0 <= p <= k / 2 and k <= H + 2p, W + 2p.";
  static constexpr std::array<sdk::Attr, 3> attrs{kPoolKernelAttr, kPoolStrideAttr, kPoolPaddingAttr};

  static void infer(sdk::InferContext& ctx);
  explicit MaxPool2d(const sdk::InstanceContext& ctx);
  void forward(sdk::ForwardContext& ctx) const;
  void backward(sdk::BackwardContext& ctx) const;

 private:
  Pool2d g_;
  dnnl_memory_desc_t dst_md_{};  // dst's layout when src is blocked (the runtime holds a pointer to it)
};

}  // namespace plexus::plugins

#endif
