// squared_error: half the squared distance to a target, averaged over the batch.
#ifndef PLEXUS_PLUGINS_LOSSES_SQUARED_ERROR_HPP
#define PLEXUS_PLUGINS_LOSSES_SQUARED_ERROR_HPP

#include <plexus/sdk/plugin.hpp>

#include <array>

namespace plexus::plugins {

struct SquaredError : sdk::OpDefaults {
  static constexpr const char* name = "squared_error";
  static constexpr int32_t kind = PLX_KIND_LOSS;
  static constexpr uint32_t flags = PLX_OP_SAVES_SRC;
  static constexpr std::array<const char*, 2> inputs{"src", "target"};
  static constexpr const char* doc =
      "Squared error: dst = 1/N sum_n 1/2 ||src_n - target_n||^2, summed over the features of "
      "each sample and averaged over the batch (dim 0, size N). src and target have the same "
      "shape [N, ...]; dst is [1]. diff_src = diff_dst (src - target) / N and, if asked for, "
      "diff_target = -diff_src. Metric: for [N, C] targets with C > 1 (one-hot or scores), a "
      "sample is right when argmax(src_n) == argmax(target_n); otherwise nothing is counted.";

  static void infer(sdk::InferContext& ctx);
  explicit SquaredError(const sdk::InstanceContext& ctx);
  void forward(sdk::ForwardContext& ctx) const;
  void backward(sdk::BackwardContext& ctx) const;
  void metric(sdk::MetricContext& ctx) const;

 private:
  int64_t batch_;
  int64_t numel_;
};

}  // namespace plexus::plugins

#endif
