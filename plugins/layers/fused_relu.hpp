// A relu fused into a weights layer (conv2d, linear): the eltwise post-op of
// the forward primitive, and for backward the layer's own diff_dst, which is
// diff_dst where dst > 0.
#ifndef PLEXUS_PLUGINS_LAYERS_FUSED_RELU_HPP
#define PLEXUS_PLUGINS_LAYERS_FUSED_RELU_HPP

#include "common/dnnl_util.hpp"
#include "common/relu_mask.hpp"

#include <cstdint>
#include <string>
#include <string_view>

namespace plexus::plugins {

class FusedRelu {
 public:
  FusedRelu() = default;
  /// For `numel` floats of dst (a blocked dst's padding included).
  explicit FusedRelu(int64_t numel) : numel_(numel) {}
  /// "none" or "relu" for attribute `activation`; anything else fails naming the node.
  static bool requested(const sdk::InferContext& ctx, const char* op) {
    const std::string_view act = ctx.attrs().str("activation");
    if (act != "none" && act != "relu")
      ctx.fail(std::string(op) + " attribute 'activation' must be none or relu, got '" + std::string(act) + "'");
    return act == "relu";
  }
  /// The forward attributes: user scratchpad plus the relu post-op. A fresh
  /// object: dnnl::primitive_attr copies share one attribute set.
  static dnnl::primitive_attr forward_attr() {
    dnnl::primitive_attr attr = user_scratchpad_attr();
    dnnl::post_ops ops;
    ops.append_eltwise(1.0f, dnnl::algorithm::eltwise_relu, 0.0f, 0.0f);
    attr.set_post_ops(ops);
    return attr;
  }
  explicit operator bool() const { return numel_ > 0; }
  /// out = diff_dst where dst > 0, else +0 (common/relu_mask.hpp), over
  /// the whole buffer: a blocked dst's zero padding gives zero padding.
  void mask(const float* dst, const float* diff_dst, float* out) const {
    relu_mask_parallel(dst, diff_dst, out, numel_);
  }

 private:
  int64_t numel_ = 0;
};

}  // namespace plexus::plugins

#endif  // PLEXUS_PLUGINS_LAYERS_FUSED_RELU_HPP
