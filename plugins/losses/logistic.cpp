#include "logistic.hpp"

#include <algorithm>
#include <cmath>
#include <string>

namespace plexus::plugins {

namespace {

/// The label of sample n, checked to be -1 or +1.
float label_at(const float* target, int64_t n) {
  const float b = target[n];
  if (b != 1.0f && b != -1.0f)
    throw sdk::Error(PLX_E_INVALID, "logistic labels must be -1 or +1, but target[" + std::to_string(n) +
                                        "] is " + std::to_string(b));
  return b;
}

void check_labels(const float* target, int64_t batch) {
  bool ok = true;
  for (int64_t n = 0; n < batch; ++n) ok &= target[n] == 1.0f || target[n] == -1.0f;
  if (!ok)
    for (int64_t n = 0; n < batch; ++n) label_at(target, n);  // throws naming the first bad one
}

// In float, as the tensors are: expf and log1pf are within an ulp and take
// about half the time of their double versions (a logistic regression step
// is a few microseconds). Sums over the batch stay in double.
float softplus(float z) { return std::max(z, 0.0f) + std::log1p(std::exp(-std::abs(z))); }

float sigmoid(float z) {
  if (z >= 0) return 1.0f / (1.0f + std::exp(-z));
  const float e = std::exp(z);
  return e / (1.0f + e);
}

}  // namespace

void Logistic::infer(sdk::InferContext& ctx) {
  const sdk::Shape src = ctx.input(0);
  const sdk::Shape target = ctx.input(1);
  const bool src_ok = src.ndim() == 1 || (src.ndim() == 2 && src[1] == 1);
  if (!src_ok) ctx.fail("logistic needs src of shape [N] or [N, 1], got " + src.str());
  if (target.ndim() != 1 || target[0] != src[0])
    ctx.fail("logistic needs target of shape [" + std::to_string(src[0]) + "] (one label per sample), got " +
             target.str());
  ctx.set_dst(sdk::Shape{1});
}

Logistic::Logistic(const sdk::InstanceContext& ctx) : batch_(ctx.input(0)[0]) {}

void Logistic::forward(sdk::ForwardContext& ctx) const {
  const float* s = ctx.src(0).data();
  const float* b = ctx.src(1).data();
  check_labels(b, batch_);
  double sum = 0.0;
  for (int64_t n = 0; n < batch_; ++n) sum += softplus(-b[n] * s[n]);
  ctx.dst().data()[0] = batch_ > 0 ? static_cast<float>(sum / static_cast<double>(batch_)) : 0.0f;
}

void Logistic::backward(sdk::BackwardContext& ctx) const {
  const float* s = ctx.src(0).data();
  const float* b = ctx.src(1).data();
  check_labels(b, batch_);
  const double scale = batch_ > 0 ? static_cast<double>(ctx.diff_dst().data()[0]) / static_cast<double>(batch_) : 0;
  const sdk::Tensor diff_src = ctx.diff_src(0);
  const sdk::Tensor diff_target = ctx.diff_src(1);
  if (diff_src.present()) {
    float* d = diff_src.data();
    for (int64_t n = 0; n < batch_; ++n)
      d[n] = static_cast<float>(-static_cast<double>(b[n]) * sigmoid(-b[n] * s[n]) * scale);
  }
  if (diff_target.present()) std::fill_n(diff_target.data(), batch_, 0.0f);
}

void Logistic::metric(sdk::MetricContext& ctx) const {
  const float* s = ctx.prediction().data();
  const float* b = ctx.target().data();
  const int64_t n = ctx.target().dim(0);
  check_labels(b, n);
  int64_t correct = 0;
  for (int64_t i = 0; i < n; ++i) correct += (s[i] > 0) == (b[i] > 0) ? 1 : 0;
  ctx.set(correct, n);
}

}  // namespace plexus::plugins
