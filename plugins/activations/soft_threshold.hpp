// soft_threshold: the shrinkage of ISTA/LISTA, dst = sign(src) max(|src| - theta, 0), theta learned.
#ifndef PLEXUS_PLUGINS_ACTIVATIONS_SOFT_THRESHOLD_HPP
#define PLEXUS_PLUGINS_ACTIVATIONS_SOFT_THRESHOLD_HPP

#include <plexus/sdk/plugin.hpp>

#include <array>

namespace plexus::plugins {

// Kind LAYER although it lives with the activations: only layers carry
// parameters in the ABI, and theta is learned (LISTA). Its own loops, cloned
// for AVX-512/AVX2 (common/clones.hpp): the op is memory bound.
struct SoftThreshold : sdk::OpDefaults {
  static constexpr const char* name = "soft_threshold";
  static constexpr int32_t kind = PLX_KIND_LAYER;
  // Backward reads src for the mask |src| > theta and for sign(src).
  static constexpr uint32_t flags = PLX_OP_SAVES_SRC;
  static constexpr const char* doc =
      "Soft threshold (shrinkage of ISTA/LISTA) with a learned threshold: "
      "dst = sign(src) max(|src| - theta, 0), elementwise. src is [N, D] or [N, d1, d2, ...] with "
      "D = d1*d2*...; dst has src's shape. theta is [1] (one threshold) or, with per_unit=true, [D] "
      "(theta[j] for column j of the flattened [N, D] src). Gradients: diff_src = diff_dst where "
      "|src| > theta, else 0; diff_theta = sum over the batch (and, for a scalar theta, over every "
      "element; per unit, over each column) of -sign(src) diff_dst where |src| > theta. A negative "
      "theta is not an error: the formula then gives dst = sign(src) (|src| - theta), which moves "
      "nonzero values away from 0. Default init: constant 0.1 (set another in the model file).";
  static constexpr std::array<sdk::Attr, 1> attrs{
      sdk::Attr::boolean("per_unit", false, "false: one scalar theta [1]; true: one theta per unit, [D]"),
  };
  static constexpr std::array<sdk::Param, 1> params{{
      {"theta", PLX_INIT_CONSTANT, 0.1, "[1], or [D] when per_unit=true"},
  }};

  static void infer(sdk::InferContext& ctx);
  explicit SoftThreshold(const sdk::InstanceContext& ctx);
  void forward(sdk::ForwardContext& ctx) const;
  void backward(sdk::BackwardContext& ctx) const;

 private:
  int64_t batch_, units_;  // src seen as [batch_, units_]
  bool per_unit_;
};

}  // namespace plexus::plugins

#endif
