// relu: dst = max(src, 0) elementwise (oneDNN eltwise); backward from dst by
// common/relu_mask.
#ifndef PLEXUS_PLUGINS_ACTIVATIONS_RELU_HPP
#define PLEXUS_PLUGINS_ACTIVATIONS_RELU_HPP

#include "common/dnnl_util.hpp"

namespace plexus::plugins {

struct Relu : sdk::OpDefaults {
  static constexpr const char* name = "relu";
  static constexpr int32_t kind = PLX_KIND_ACTIVATION;
  static constexpr uint32_t flags = PLX_OP_SAVES_DST | PLX_OP_LAYOUTS;  // the derivative is a function of dst
  static constexpr const char* doc =
      "Rectified linear unit: dst = max(src, 0); diff_src = diff_dst where dst > 0, else 0 (the"
      " derivative at 0 is taken as 0). Any shape; computed from dst, so the tape keeps dst "
      "only.";

  static void infer(sdk::InferContext& ctx);
  explicit Relu(const sdk::InstanceContext& ctx);
  void forward(sdk::ForwardContext& ctx) const;
  void backward(sdk::BackwardContext& ctx) const;

 private:
  dnnl_memory_desc_t layout_{};  // src's and dst's blocked layout, if any (before fn_)
  Eltwise fn_;
};

}  // namespace plexus::plugins

#endif
