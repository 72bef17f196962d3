#include "logistic.hpp"

#include <algorithm>
#include <cmath>
#include <string>

namespace plexus::plugins {

namespace {

/// The label of sample n, checked to be -1 or +1.
double label_at(const float* target, int64_t n) {
  const float b = target[n];
  if (b != 1.0f && b != -1.0f)
    throw sdk::Error(PLX_E_INVALID, "logistic labels must be -1 or +1, but target[" + std::to_string(n) +
                                        "] is " + std::to_string(b));
  return b;
}

double softplus(double z) { return std::max(z, 0.0) + std::log1p(std::exp(-std::abs(z))); }

double sigmoid(double z) {
  if (z >= 0) return 1.0 / (1.0 + std::exp(-z));
  const double e = std::exp(z);
  return e / (1.0 + e);
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
  double sum = 0.0;
  for (int64_t n = 0; n < batch_; ++n) sum += softplus(-label_at(b, n) * s[n]);
  ctx.dst().data()[0] = batch_ > 0 ? static_cast<float>(sum / static_cast<double>(batch_)) : 0.0f;
}

void Logistic::backward(sdk::BackwardContext& ctx) const {
  const float* s = ctx.src(0).data();
  const float* b = ctx.src(1).data();
  const double scale = batch_ > 0 ? static_cast<double>(ctx.diff_dst().data()[0]) / static_cast<double>(batch_) : 0;
  const sdk::Tensor diff_src = ctx.diff_src(0);
  const sdk::Tensor diff_target = ctx.diff_src(1);
  for (int64_t n = 0; n < batch_; ++n) {
    const double bn = label_at(b, n);
    if (diff_src.present()) diff_src.data()[n] = static_cast<float>(-bn * sigmoid(-bn * s[n]) * scale);
    if (diff_target.present()) diff_target.data()[n] = 0.0f;
  }
}

void Logistic::metric(sdk::MetricContext& ctx) const {
  const float* s = ctx.prediction().data();
  const float* b = ctx.target().data();
  const int64_t n = ctx.target().dim(0);
  int64_t correct = 0;
  for (int64_t i = 0; i < n; ++i) correct += ((s[i] > 0 ? 1.0 : -1.0) == label_at(b, i)) ? 1 : 0;
  ctx.set(correct, n);
}

}  // namespace plexus::plugins
