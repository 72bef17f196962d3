// tanh: dst = tanh(src) elementwise (oneDNN eltwise_tanh_use_dst_for_bwd).
#ifndef PLEXUS_PLUGINS_ACTIVATIONS_TANH_HPP
#define PLEXUS_PLUGINS_ACTIVATIONS_TANH_HPP

#include "common/dnnl_util.hpp"

namespace plexus::plugins {

struct Tanh : sdk::OpDefaults {
  static constexpr const char* name = "tanh";
  static constexpr int32_t kind = PLX_KIND_ACTIVATION;
  static constexpr uint32_t flags = PLX_OP_SAVES_DST | PLX_OP_LAYOUTS;  // the derivative is a function of dst
  static constexpr const char* doc =
      "Hyperbolic tangent: dst = tanh(src); diff_src = diff_dst * (1 - dst^2). Any shape; "
      "computed from dst, so the tape keeps dst only.";

  static void infer(sdk::InferContext& ctx);
  explicit Tanh(const sdk::InstanceContext& ctx);
  void forward(sdk::ForwardContext& ctx) const;
  void backward(sdk::BackwardContext& ctx) const;

 private:
  dnnl_memory_desc_t layout_{};  // src's and dst's blocked layout, if any (before fn_)
  Eltwise fn_;
};

}  // namespace plexus::plugins

#endif
