// linear: fully connected layer on oneDNN inner_product, optionally with a fused relu.
#ifndef PLEXUS_PLUGINS_LAYERS_LINEAR_HPP
#define PLEXUS_PLUGINS_LAYERS_LINEAR_HPP

#include "common/dnnl_util.hpp"
#include "fused_relu.hpp"
#include "linear_direct.hpp"

#include <array>

namespace plexus::plugins {

struct Linear : sdk::OpDefaults {
  static constexpr const char* name = "linear";
  static constexpr int32_t kind = PLX_KIND_LAYER;
  // diff_weights needs src; a fused relu's backward reads dst.
  static constexpr uint32_t flags = PLX_OP_SAVES_SRC | PLX_OP_SAVES_DST;
  static constexpr const char* doc =
      "Fully connected layer: dst[n, o] = sum_i src[n, i] weights[o, i] + bias[o], i.e. "
      "dst = src W^T + b. src is [N, in_features] or [N, d1, d2, ...], flattened to "
      "[N, d1*d2*...]; weights [out_features, in_features]; bias [out_features]; dst "
      "[N, out_features]. Gradients: diff_src = diff_dst W, diff_weights = diff_dst^T src, "
      "diff_bias = sum_n diff_dst[n, :]. With bias=false the bias parameter still exists "
      "(so every linear node has the same parameter roles) but has shape [0] and is ignored. "
      "activation=relu fuses dst = max(src W^T + b, 0) into the same oneDNN primitive; its backward "
      "first zeroes diff_dst where dst <= 0. impl chooses the code: oneDNN's inner product, or the "
      "plugin's own loops (direct), which cost less to call and win for a single sample and for "
      "layers of a few thousand multiply-adds; auto picks direct for those.";
  static constexpr std::array<sdk::Attr, 4> attrs{
      sdk::Attr::i64("out_features", 0, "number of outputs per sample (> 0)").required_value(),
      sdk::Attr::boolean("bias", true, "add a learned bias; false makes the bias parameter shape [0]"),
      sdk::Attr::str("activation", "none", "none, or relu: fused into the inner product (one oneDNN primitive)"),
      sdk::Attr::str("impl", "auto", "auto, onednn or direct: the inner product's code (same results up to rounding)"),
  };
  static constexpr std::array<sdk::Param, 2> params{{
      {"weights", PLX_INIT_XAVIER_UNIFORM, 0.0, "[out_features, in_features]"},
      {"bias", PLX_INIT_ZEROS, 0.0, "[out_features], or [0] when bias=false"},
  }};

  static void infer(sdk::InferContext& ctx);
  explicit Linear(const sdk::InstanceContext& ctx);
  void forward(sdk::ForwardContext& ctx) const;
  void backward(sdk::BackwardContext& ctx) const;

 private:
  void backward_weights(sdk::BackwardContext& ctx, const float* diff_dst) const;
  void direct_backward(sdk::BackwardContext& ctx) const;

  Dnnl dnnl_;
  int64_t batch_, in_, out_;
  bool bias_;
  bool relu_;
  bool direct_ = false;  // linear_direct.hpp's loops instead of oneDNN
  // Whether each direct loop splits over the OpenMP team, by measurement.
  linear_direct::TeamChoice fwd_team_, bwd_data_team_, bwd_weights_team_;
  dnnl::memory::desc src_md_, weights_md_, bias_md_, dst_md_;
  dnnl::memory::desc matmul_weights_md_, matmul_bias_md_;  // the weights as W^T {in, out} 'ba'; bias {1, out}
  FusedRelu fused_relu_;
  dnnl::inner_product_backward_data::primitive_desc bwd_data_pd_;
  dnnl::inner_product_backward_weights::primitive_desc bwd_weights_pd_;
  dnnl::matmul::primitive_desc matmul_pd_;  // the forward (linear.cpp says why not the inner product)
  dnnl::matmul matmul_;
  dnnl::inner_product_backward_data bwd_data_;
  dnnl::inner_product_backward_weights bwd_weights_;
};

}  // namespace plexus::plugins

#endif
