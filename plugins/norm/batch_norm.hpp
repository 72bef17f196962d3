// batch_norm: batch normalization (PyTorch nn.BatchNorm1d/2d/3d semantics) on
// oneDNN batch normalization.
#ifndef PLEXUS_PLUGINS_NORM_BATCH_NORM_HPP
#define PLEXUS_PLUGINS_NORM_BATCH_NORM_HPP

#include "common/dnnl_util.hpp"

#include <array>

namespace plexus::plugins {

struct BatchNorm : sdk::OpDefaults {
  static constexpr const char* name = "batch_norm";
  static constexpr int32_t kind = PLX_KIND_LAYER;
  // Backward reads src (with the statistics the forward kept in its
  // workspace). Takes src in oneDNN's blocked layouts; dst follows src.
  static constexpr uint32_t flags = PLX_OP_SAVES_SRC | PLX_OP_LAYOUTS;
  static constexpr const char* doc =
      "dst[n, c, ...] = weights[c] * (src[n, c, ...] - mean[c]) / sqrt(var[c] + eps) + bias[c]; src [N, C] or "
      "[N, C, spatial...]; training: batch mean and biased variance over (n, ...), then running_mean <- "
      "(1 - momentum) running_mean + momentum mean and running_var <- (1 - momentum) running_var + momentum var M/(M-1), "
      "M = N * spatial; eval: mean = running_mean, var = running_var";
  static constexpr std::array<sdk::Attr, 2> attrs{
      sdk::Attr::f64("momentum", 0.1, "running = (1 - momentum) * running + momentum * batch_stat, in [0, 1]"),
      sdk::Attr::f64("eps", 1e-5, "dst = (src - mean) / sqrt(var + eps) * weights + bias, eps > 0"),
  };
  static constexpr std::array<sdk::Param, 4> params{{
      {"weights", PLX_INIT_CONSTANT, 1.0, "gamma [C]: dst = gamma * x_hat + beta"},
      {"bias", PLX_INIT_ZEROS, 0.0, "beta [C]: dst = gamma * x_hat + beta"},
      {"running_mean", PLX_INIT_ZEROS, 0.0, "[C]: (1 - momentum) running_mean + momentum batch_mean", PLX_PARAM_STATE},
      {"running_var", PLX_INIT_CONSTANT, 1.0, "[C]: (1 - momentum) running_var + momentum batch_var M/(M-1)",
       PLX_PARAM_STATE},
  }};

  static void infer(sdk::InferContext& ctx);
  explicit BatchNorm(const sdk::InstanceContext& ctx);
  void forward(sdk::ForwardContext& ctx) const;
  void backward(sdk::BackwardContext& ctx) const;

 private:
  /// The primitives of one mode: batch statistics (training) or the given
  /// running statistics (eval, oneDNN's use_global_stats).
  struct Mode {
    dnnl::batch_normalization_forward::primitive_desc fwd_pd;
    dnnl::batch_normalization_backward::primitive_desc bwd_pd;
    dnnl::batch_normalization_forward fwd;
    dnnl::batch_normalization_backward bwd;
  };
  Mode make_mode(bool global_stats) const;
  void update_running_stats(sdk::ForwardContext& ctx, const float* mean, const float* var) const;

  Dnnl dnnl_;
  int64_t c_;            // channels
  int64_t m_;            // values per channel: N * spatial
  double momentum_;
  float eps_;
  dnnl::memory::desc data_md_;   // src, dst, diff_dst and diff_src: the layout src arrives in
  dnnl::memory::desc channel_md_;  // every per-channel tensor: plain [C]
  dnnl_memory_desc_t dst_layout_{};  // handed to the runtime when dst is blocked
  Mode train_, eval_;
};

}  // namespace plexus::plugins

#endif
