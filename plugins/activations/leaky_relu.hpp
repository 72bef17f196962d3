// leaky_relu: dst = src if src > 0, else negative_slope * src (oneDNN eltwise_relu with alpha).
#ifndef PLEXUS_PLUGINS_ACTIVATIONS_LEAKY_RELU_HPP
#define PLEXUS_PLUGINS_ACTIVATIONS_LEAKY_RELU_HPP

#include "common/dnnl_util.hpp"

#include <array>

namespace plexus::plugins {

struct LeakyRelu : sdk::OpDefaults {
  static constexpr const char* name = "leaky_relu";
  static constexpr int32_t kind = PLX_KIND_ACTIVATION;
  // Backward reads src: with a negative slope the sign of src cannot be told
  // from dst, so oneDNN's relu_use_dst_for_bwd (alpha >= 0 only) would not
  // cover every slope PyTorch accepts.
  static constexpr uint32_t flags = PLX_OP_SAVES_SRC | PLX_OP_LAYOUTS;
  static constexpr const char* doc =
      "Leaky rectified linear unit (PyTorch LeakyReLU): dst = src if src > 0, else "
      "negative_slope * src; diff_src = diff_dst if src > 0, else negative_slope * diff_dst (the "
      "derivative at 0 is taken as negative_slope). Any shape.";
  static constexpr std::array<sdk::Attr, 1> attrs{
      sdk::Attr::f64("negative_slope", 0.01, "slope for src <= 0 (any finite value)"),
  };

  static void infer(sdk::InferContext& ctx);
  explicit LeakyRelu(const sdk::InstanceContext& ctx);
  void forward(sdk::ForwardContext& ctx) const;
  void backward(sdk::BackwardContext& ctx) const;

 private:
  dnnl_memory_desc_t layout_{};  // src's and dst's blocked layout, if any (before fn_)
  Eltwise fn_;
};

}  // namespace plexus::plugins

#endif
