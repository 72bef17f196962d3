// softmax_cross_entropy: fused softmax + negative log-likelihood of class indices.
#ifndef PLEXUS_PLUGINS_LOSSES_SOFTMAX_CROSS_ENTROPY_HPP
#define PLEXUS_PLUGINS_LOSSES_SOFTMAX_CROSS_ENTROPY_HPP

#include <plexus/sdk/plugin.hpp>

#include <array>

namespace plexus::plugins {

/// A fused primitive rather than softmax followed by a log loss: the
/// log-sum-exp form never takes the log of an underflowed probability, and the
/// gradient softmax - onehot needs no division.
struct SoftmaxCrossEntropy : sdk::OpDefaults {
  static constexpr const char* name = "softmax_cross_entropy";
  static constexpr int32_t kind = PLX_KIND_LOSS;
  static constexpr uint32_t flags = PLX_OP_SAVES_SRC;
  static constexpr std::array<const char*, 2> inputs{"src", "target"};
  static constexpr const char* doc =
      "Softmax cross-entropy on logits: dst = 1/N sum_n (logsumexp(x_n) - x_n[y_n]) for logits "
      "x (src, [N, C]) and class indices y (target, [N], whole numbers 0..C-1 stored as floats; "
      "anything else is an error); dst is [1]. logsumexp(x) = m + log sum_c exp(x_c - m), "
      "m = max_c x_c. diff_src[n, c] = diff_dst (softmax(x_n)[c] - [c == y_n]) / N. Labels are "
      "discrete: a requested diff_target is zero. Metric: right when argmax_c x_n[c] == y_n.";

  static void infer(sdk::InferContext& ctx);
  explicit SoftmaxCrossEntropy(const sdk::InstanceContext& ctx);
  void forward(sdk::ForwardContext& ctx) const;
  void backward(sdk::BackwardContext& ctx) const;
  void metric(sdk::MetricContext& ctx) const;

 private:
  int64_t batch_;
  int64_t classes_;
};

}  // namespace plexus::plugins

#endif
