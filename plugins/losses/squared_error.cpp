#include "squared_error.hpp"

namespace plexus::plugins {

void SquaredError::infer(sdk::InferContext& ctx) {
  const sdk::Shape src = ctx.input(0);
  const sdk::Shape target = ctx.input(1);
  if (src.ndim() < 1) ctx.fail("squared_error needs src of rank >= 1 ([N, ...]), got a scalar");
  if (!(src == target))
    ctx.fail("squared_error needs target of the same shape as src: src is " + src.str() + ", target is " +
             target.str());
  ctx.set_dst(sdk::Shape{1});
}

SquaredError::SquaredError(const sdk::InstanceContext& ctx)
    : batch_(ctx.input(0)[0]), numel_(ctx.input(0).numel()) {}

void SquaredError::forward(sdk::ForwardContext& ctx) const {
  const float* y = ctx.src(0).data();
  const float* t = ctx.src(1).data();
  double sum = 0.0;
  for (int64_t i = 0; i < numel_; ++i) {
    const double d = static_cast<double>(y[i]) - t[i];
    sum += d * d;
  }
  ctx.dst().data()[0] = batch_ > 0 ? static_cast<float>(0.5 * sum / static_cast<double>(batch_)) : 0.0f;
}

void SquaredError::backward(sdk::BackwardContext& ctx) const {
  if (batch_ == 0) return;  // no elements to write
  const float* y = ctx.src(0).data();
  const float* t = ctx.src(1).data();
  const double scale = static_cast<double>(ctx.diff_dst().data()[0]) / static_cast<double>(batch_);
  const sdk::Tensor diff_src = ctx.diff_src(0);
  const sdk::Tensor diff_target = ctx.diff_src(1);
  for (int64_t i = 0; i < numel_; ++i) {
    const double g = (static_cast<double>(y[i]) - t[i]) * scale;
    if (diff_src.present()) diff_src.data()[i] = static_cast<float>(g);
    if (diff_target.present()) diff_target.data()[i] = static_cast<float>(-g);
  }
}

void SquaredError::metric(sdk::MetricContext& ctx) const {
  const sdk::Tensor y = ctx.prediction();
  const sdk::Tensor t = ctx.target();
  if (t.ndim() != 2 || t.dim(1) < 2) {
    ctx.set(0, 0);
    return;
  }
  const int64_t n = t.dim(0), c = t.dim(1);
  int64_t correct = 0;
  for (int64_t i = 0; i < n; ++i) {
    const float* yr = y.data() + i * c;
    const float* tr = t.data() + i * c;
    int64_t ay = 0, at = 0;
    for (int64_t k = 1; k < c; ++k) {
      if (yr[k] > yr[ay]) ay = k;
      if (tr[k] > tr[at]) at = k;
    }
    correct += ay == at ? 1 : 0;
  }
  ctx.set(correct, n);
}

}  // namespace plexus::plugins
