// sigmoid: dst = 1 / (1 + exp(-src)) elementwise (oneDNN eltwise_logistic_use_dst_for_bwd).
#ifndef PLEXUS_PLUGINS_ACTIVATIONS_SIGMOID_HPP
#define PLEXUS_PLUGINS_ACTIVATIONS_SIGMOID_HPP

#include "common/dnnl_util.hpp"

namespace plexus::plugins {

struct Sigmoid : sdk::OpDefaults {
  static constexpr const char* name = "sigmoid";
  static constexpr int32_t kind = PLX_KIND_ACTIVATION;
  static constexpr uint32_t flags = PLX_OP_SAVES_DST;  // the derivative is a function of dst
  static constexpr const char* doc =
      "Logistic sigmoid: dst = 1 / (1 + exp(-src)); diff_src = diff_dst * dst * (1 - dst). Any "
      "shape; computed from dst, so the tape keeps dst only.";

  static void infer(sdk::InferContext& ctx);
  explicit Sigmoid(const sdk::InstanceContext& ctx);
  void forward(sdk::ForwardContext& ctx) const;
  void backward(sdk::BackwardContext& ctx) const;

 private:
  Eltwise fn_;
};

}  // namespace plexus::plugins

#endif
