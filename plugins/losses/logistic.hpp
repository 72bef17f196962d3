// logistic: the logistic (log) loss for labels in {-1, +1}.
#ifndef PLEXUS_PLUGINS_LOSSES_LOGISTIC_HPP
#define PLEXUS_PLUGINS_LOSSES_LOGISTIC_HPP

#include <plexus/sdk/plugin.hpp>

#include <array>

namespace plexus::plugins {

struct Logistic : sdk::OpDefaults {
  static constexpr const char* name = "logistic";
  static constexpr int32_t kind = PLX_KIND_LOSS;
  static constexpr uint32_t flags = PLX_OP_SAVES_SRC;
  static constexpr std::array<const char*, 2> inputs{"src", "target"};
  static constexpr const char* doc =
      "Logistic loss: dst = 1/N sum_n log(1 + exp(-b_n s_n)) for scores s (src, [N] or [N, 1]) "
      "and labels b (target, [N], each -1 or +1; anything else is an error); dst is [1]. "
      "Computed stably as softplus(z) = max(z, 0) + log1p(exp(-|z|)) with z = -b s. "
      "diff_src = -diff_dst b sigmoid(-b s) / N. Labels are discrete: a requested diff_target "
      "is zero. Metric: a sample is right when sign(s) == b, with sign(s) = +1 iff s > 0.";

  static void infer(sdk::InferContext& ctx);
  explicit Logistic(const sdk::InstanceContext& ctx);
  void forward(sdk::ForwardContext& ctx) const;
  void backward(sdk::BackwardContext& ctx) const;
  void metric(sdk::MetricContext& ctx) const;

 private:
  int64_t batch_;
};

}  // namespace plexus::plugins

#endif
