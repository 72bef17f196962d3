// softmax over the last axis (oneDNN softmax_forward / softmax_backward).
#ifndef PLEXUS_PLUGINS_ACTIVATIONS_SOFTMAX_HPP
#define PLEXUS_PLUGINS_ACTIVATIONS_SOFTMAX_HPP

#include "common/dnnl_util.hpp"

namespace plexus::plugins {

struct Softmax : sdk::OpDefaults {
  static constexpr const char* name = "softmax";
  static constexpr int32_t kind = PLX_KIND_ACTIVATION;
  static constexpr uint32_t flags = PLX_OP_SAVES_DST;  // backward reads dst only
  static constexpr const char* doc =
      "Softmax over the last axis: dst_i = exp(src_i) / sum_j exp(src_j) for every row "
      "(all leading dims are rows); diff_src_i = dst_i * (diff_dst_i - sum_j diff_dst_j dst_j). "
      "src has rank >= 1; dst has the shape of src. For a classifier loss prefer "
      "softmax_cross_entropy on the logits: it is fused and numerically better.";

  static void infer(sdk::InferContext& ctx);
  explicit Softmax(const sdk::InstanceContext& ctx);
  void forward(sdk::ForwardContext& ctx) const;
  void backward(sdk::BackwardContext& ctx) const;

 private:
  Dnnl dnnl_;
  bool empty_ = true;
  dnnl::memory::desc md_;
  dnnl::softmax_forward::primitive_desc fwd_pd_;
  dnnl::softmax_backward::primitive_desc bwd_pd_;
  dnnl::softmax_forward fwd_;
  dnnl::softmax_backward bwd_;
};

}  // namespace plexus::plugins

#endif
