// conv2d: 2-D convolution (PyTorch nn.Conv2d semantics) on oneDNN convolution.
#ifndef PLEXUS_PLUGINS_LAYERS_CONV2D_HPP
#define PLEXUS_PLUGINS_LAYERS_CONV2D_HPP

#include "common/dnnl_util.hpp"
#include "fused_relu.hpp"

#include <array>

namespace plexus::plugins {

/// Sizes of one conv2d node, derived from src [N, C, H, W] and the attributes.
struct Conv2dGeometry {
  int64_t n, c, h, w;         // src
  int64_t oc, k, groups;      // weights [oc, c / groups, k, k]
  int64_t stride, padding, dilation;  // dilation in PyTorch's sense: 1 = dense
  int64_t oh, ow;             // dst [n, oc, oh, ow]
};

struct Conv2d : sdk::OpDefaults {
  static constexpr const char* name = "conv2d";
  static constexpr int32_t kind = PLX_KIND_LAYER;
  // diff_weights needs src; a fused relu's backward reads dst. Takes and makes
  // oneDNN's blocked layouts.
  static constexpr uint32_t flags = PLX_OP_SAVES_SRC | PLX_OP_SAVES_DST | PLX_OP_LAYOUTS;
  static constexpr const char* doc =
      "2-D convolution as PyTorch's nn.Conv2d (cross-correlation): dst[n, o, y, x] = bias[o] + "
      "sum_{j < C/g, ky, kx} src[n, G(o)*C/g + j, y*s - p + ky*d, x*s - p + kx*d] weights[o, j, ky, kx], "
      "with G(o) = floor(o / (OC/g)) the group of o and src zero outside its bounds. src [N, C, H, W] (NCHW); weights [OC, C/groups, K, K] (square kernel); bias [OC], "
      "or [0] when bias=false; dst [N, OC, OH, OW] with OH = floor((H + 2p - d(K-1) - 1)/s) + 1, same for OW. "
      "Channels are split into `groups` independent groups (C and OC divisible by groups). Gradients: "
      "diff_src is the transposed convolution of diff_dst, diff_weights the correlation of src with diff_dst, "
      "diff_bias = sum over n, y, x of diff_dst. Weights default to he_normal (fan_in = C/groups*K*K), "
      "bias to zeros. activation=relu fuses dst = max(conv, 0) into the same oneDNN primitive.";
  static constexpr std::array<sdk::Attr, 8> attrs{
      sdk::Attr::i64("out_channels", 0, "number of output channels OC (> 0, divisible by groups)").required_value(),
      sdk::Attr::i64("kernel", 0, "kernel height and width K (> 0; square kernels only)").required_value(),
      sdk::Attr::i64("stride", 1, "step between output positions, both axes (> 0)"),
      sdk::Attr::i64("padding", 0, "zeros added on every side, both axes (>= 0)"),
      sdk::Attr::i64("dilation", 1, "spacing between kernel taps, PyTorch meaning: 1 = dense (> 0)"),
      sdk::Attr::i64("groups", 1, "channel groups; C and out_channels must be divisible by it (> 0)"),
      sdk::Attr::boolean("bias", true, "add a learned bias; false makes the bias parameter shape [0]"),
      sdk::Attr::str("activation", "none", "none, or relu: fused into the convolution (one oneDNN primitive)"),
  };
  static constexpr std::array<sdk::Param, 2> params{{
      {"weights", PLX_INIT_HE_NORMAL, 0.0, "[out_channels, C/groups, kernel, kernel]"},
      {"bias", PLX_INIT_ZEROS, 0.0, "[out_channels], or [0] when bias=false"},
  }};

  static void infer(sdk::InferContext& ctx);
  explicit Conv2d(const sdk::InstanceContext& ctx);
  void forward(sdk::ForwardContext& ctx) const;
  void backward(sdk::BackwardContext& ctx) const;

 private:
  // How the primitives are laid out (see build()).
  enum class Mode { kBlocked, kNhwc, kPlain };
  bool build(const sdk::InstanceContext& ctx, Mode mode);  // false: a reference kernel
  void finish(const sdk::InstanceContext& ctx);
  float* src_copy(const void* workspace) const;  // the nhwc copy of src in the workspace
  void backward_data(sdk::BackwardContext& ctx, const float* diff_dst) const;
  void backward_weights(sdk::BackwardContext& ctx, const float* diff_dst) const;

  Dnnl dnnl_;
  Conv2dGeometry g_;
  bool bias_;
  bool relu_;
  // given_src_md_ is the layout src arrives in, src_md_ the one the
  // primitives take (the same, except in Mode::kNhwc, where src_in_ makes an
  // nhwc copy in the workspace at src_offset_ and diff_src_out_ brings
  // diff_src back); dst_md_ is the one oneDNN chose for dst.
  // user_weights_md_ is the parameter as stored (plain); weights_md_ what the
  // forward primitive wants, bwd_weights_md_ what backward-data wants and
  // diff_weights_md_ what backward-weights writes.
  dnnl::memory::desc given_src_md_, src_md_, user_weights_md_, weights_md_, bwd_weights_md_, diff_weights_md_, bias_md_, dst_md_;
  dnnl::memory::desc bwd_diff_dst_md_;  // dst_md_, or plain when backward-data runs on plain data
  Reorder diff_dst_to_plain_;
  Reorder src_in_, diff_src_out_;
  int64_t src_offset_ = 0;  // bytes into the workspace
  dnnl_memory_desc_t dst_layout_{};  // handed to the runtime when dst is blocked
  Reorder weights_to_fwd_, weights_to_bwd_, diff_weights_to_user_;
  FusedRelu fused_relu_;
  dnnl::convolution_forward::primitive_desc fwd_pd_;
  dnnl::convolution_backward_data::primitive_desc bwd_data_pd_;
  dnnl::convolution_backward_weights::primitive_desc bwd_weights_pd_;
  dnnl::convolution_forward fwd_;
  dnnl::convolution_backward_data bwd_data_;
  dnnl::convolution_backward_weights bwd_weights_;
};

}  // namespace plexus::plugins

#endif
