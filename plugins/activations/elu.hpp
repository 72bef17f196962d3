// elu: dst = src if src > 0, else alpha (exp(src) - 1) (oneDNN eltwise_elu_use_dst_for_bwd).
#ifndef PLEXUS_PLUGINS_ACTIVATIONS_ELU_HPP
#define PLEXUS_PLUGINS_ACTIVATIONS_ELU_HPP

#include "common/dnnl_util.hpp"

#include <array>

namespace plexus::plugins {

struct Elu : sdk::OpDefaults {
  static constexpr const char* name = "elu";
  static constexpr int32_t kind = PLX_KIND_ACTIVATION;
  // The derivative is a function of dst (dst + alpha where dst <= 0), so the
  // tape keeps dst only. oneDNN documents the dst variant for alpha >= 0 only
  // (with alpha < 0 the sign of src cannot be told from dst), hence the check
  // in infer().
  static constexpr uint32_t flags = PLX_OP_SAVES_DST | PLX_OP_LAYOUTS;
  static constexpr const char* doc =
      "Exponential linear unit (PyTorch ELU): dst = src if src > 0, else alpha (exp(src) - 1); "
      "diff_src = diff_dst if dst > 0, else diff_dst (dst + alpha). Any shape; alpha >= 0; "
      "computed from dst, so the tape keeps dst only.";
  static constexpr std::array<sdk::Attr, 1> attrs{
      sdk::Attr::f64("alpha", 1.0, "scale of the negative part (>= 0)"),
  };

  static void infer(sdk::InferContext& ctx);
  explicit Elu(const sdk::InstanceContext& ctx);
  void forward(sdk::ForwardContext& ctx) const;
  void backward(sdk::BackwardContext& ctx) const;

 private:
  dnnl_memory_desc_t layout_{};  // src's and dst's blocked layout, if any (before fn_)
  Eltwise fn_;
};

}  // namespace plexus::plugins

#endif
