#include "softmax_cross_entropy.hpp"

#include <algorithm>
#include <cmath>
#include <string>

namespace plexus::plugins {

namespace {

/// The class index of sample n, checked to be a whole number in [0, classes).
int64_t label_at(const float* target, int64_t n, int64_t classes) {
  const float y = target[n];
  if (!(y >= 0.0f && y < static_cast<float>(classes) && std::floor(y) == y))
    throw sdk::Error(PLX_E_INVALID, "softmax_cross_entropy labels must be class indices 0.." +
                                        std::to_string(classes - 1) + ", but target[" + std::to_string(n) +
                                        "] is " + std::to_string(y));
  return static_cast<int64_t>(y);
}

double log_sum_exp(const float* x, int64_t c) {
  double m = x[0];
  for (int64_t k = 1; k < c; ++k) m = std::max(m, static_cast<double>(x[k]));
  double s = 0.0;
  for (int64_t k = 0; k < c; ++k) s += std::exp(x[k] - m);
  return m + std::log(s);
}

}  // namespace

void SoftmaxCrossEntropy::infer(sdk::InferContext& ctx) {
  const sdk::Shape src = ctx.input(0);
  const sdk::Shape target = ctx.input(1);
  if (src.ndim() != 2 || src[1] < 1)
    ctx.fail("softmax_cross_entropy needs src logits of shape [N, C] with C >= 1, got " + src.str());
  if (target.ndim() != 1 || target[0] != src[0])
    ctx.fail("softmax_cross_entropy needs target of shape [" + std::to_string(src[0]) +
             "] (one class index per sample), got " + target.str());
  ctx.set_dst(sdk::Shape{1});
}

SoftmaxCrossEntropy::SoftmaxCrossEntropy(const sdk::InstanceContext& ctx)
    : batch_(ctx.input(0)[0]), classes_(ctx.input(0)[1]) {}

void SoftmaxCrossEntropy::forward(sdk::ForwardContext& ctx) const {
  const float* x = ctx.src(0).data();
  const float* y = ctx.src(1).data();
  double sum = 0.0;
  for (int64_t n = 0; n < batch_; ++n) {
    const float* row = x + n * classes_;
    sum += log_sum_exp(row, classes_) - row[label_at(y, n, classes_)];
  }
  ctx.dst().data()[0] = batch_ > 0 ? static_cast<float>(sum / static_cast<double>(batch_)) : 0.0f;
}

void SoftmaxCrossEntropy::backward(sdk::BackwardContext& ctx) const {
  const float* x = ctx.src(0).data();
  const float* y = ctx.src(1).data();
  const double scale = batch_ > 0 ? static_cast<double>(ctx.diff_dst().data()[0]) / static_cast<double>(batch_) : 0;
  const sdk::Tensor diff_src = ctx.diff_src(0);
  const sdk::Tensor diff_target = ctx.diff_src(1);
  for (int64_t n = 0; n < batch_; ++n) {
    const int64_t label = label_at(y, n, classes_);
    if (diff_target.present()) diff_target.data()[n] = 0.0f;
    if (!diff_src.present()) continue;
    const float* row = x + n * classes_;
    float* d = diff_src.data() + n * classes_;
    const double lse = log_sum_exp(row, classes_);
    for (int64_t k = 0; k < classes_; ++k)
      d[k] = static_cast<float>((std::exp(row[k] - lse) - (k == label ? 1.0 : 0.0)) * scale);
  }
}

void SoftmaxCrossEntropy::metric(sdk::MetricContext& ctx) const {
  const sdk::Tensor x = ctx.prediction();
  const float* y = ctx.target().data();
  const int64_t n = x.dim(0), c = x.dim(1);
  int64_t correct = 0;
  for (int64_t i = 0; i < n; ++i) {
    const float* row = x.data() + i * c;
    int64_t best = 0;
    for (int64_t k = 1; k < c; ++k)
      if (row[k] > row[best]) best = k;
    correct += best == label_at(y, i, c) ? 1 : 0;
  }
  ctx.set(correct, n);
}

}  // namespace plexus::plugins
