// gelu: dst = src Phi(src), exact (erf) or tanh-approximated, as PyTorch's GELU(approximate=...).
#ifndef PLEXUS_PLUGINS_ACTIVATIONS_GELU_HPP
#define PLEXUS_PLUGINS_ACTIVATIONS_GELU_HPP

#include "common/dnnl_util.hpp"

#include <array>

namespace plexus::plugins {

struct Gelu : sdk::OpDefaults {
  static constexpr const char* name = "gelu";
  static constexpr int32_t kind = PLX_KIND_ACTIVATION;
  static constexpr uint32_t flags = PLX_OP_SAVES_SRC | PLX_OP_LAYOUTS;  // GELU is not invertible: backward needs src
  static constexpr const char* doc =
      "Gaussian error linear unit (PyTorch GELU). approximate=\"none\": dst = 0.5 src (1 + "
      "erf(src / sqrt(2))) (oneDNN eltwise_gelu_erf); approximate=\"tanh\": dst = 0.5 src (1 + "
      "tanh(sqrt(2 / pi) (src + 0.044715 src^3))) (oneDNN eltwise_gelu_tanh). diff_src = "
      "diff_dst d(dst)/d(src), computed from src. Any shape.";
  static constexpr std::array<sdk::Attr, 1> attrs{
      sdk::Attr::str("approximate", "none", "\"none\" (exact, erf) or \"tanh\" (tanh approximation)"),
  };

  static void infer(sdk::InferContext& ctx);
  explicit Gelu(const sdk::InstanceContext& ctx);
  void forward(sdk::ForwardContext& ctx) const;
  void backward(sdk::BackwardContext& ctx) const;

 private:
  dnnl_memory_desc_t layout_{};  // src's and dst's blocked layout, if any (before fn_)
  Eltwise fn_;
};

}  // namespace plexus::plugins

#endif
