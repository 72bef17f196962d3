#include "soft_threshold.hpp"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

namespace plexus::plugins {

namespace {
int64_t flat_units(const sdk::Shape& s) {
  int64_t n = 1;
  for (int i = 1; i < s.ndim(); ++i) n *= s[i];
  return n;
}
}  // namespace

void SoftThreshold::infer(sdk::InferContext& ctx) {
  const sdk::Shape src = ctx.input(0);
  if (src.ndim() < 2) ctx.fail("soft_threshold needs src of rank >= 2 ([N, D] or [N, d1, ...]), got " + src.str());
  const int64_t units = flat_units(src);
  ctx.set_dst(src);
  ctx.set_param(0, ctx.attrs().boolean("per_unit") ? sdk::Shape{units} : sdk::Shape{1}, units, units);
}

SoftThreshold::SoftThreshold(const sdk::InstanceContext& ctx)
    : batch_(ctx.input(0)[0]), units_(flat_units(ctx.input(0))), per_unit_(ctx.attrs().boolean("per_unit")) {}

void SoftThreshold::forward(sdk::ForwardContext& ctx) const {
  const float* src = ctx.src(0).data();
  const float* theta = ctx.param(0).data();
  float* dst = ctx.dst().data();
  for (int64_t n = 0; n < batch_; ++n) {
    const float* v = src + n * units_;
    float* d = dst + n * units_;
    for (int64_t j = 0; j < units_; ++j) {
      const float t = theta[per_unit_ ? j : 0];
      // As written, also for t < 0: then m > 0 always and dst = sign(v) (|v| - t).
      const float m = std::abs(v[j]) - t;
      d[j] = m > 0.0f ? (v[j] > 0.0f ? m : (v[j] < 0.0f ? -m : 0.0f)) : 0.0f;
    }
  }
}

void SoftThreshold::backward(sdk::BackwardContext& ctx) const {
  const float* src = ctx.src(0).data();
  const float* theta = ctx.param(0).data();
  const float* diff_dst = ctx.diff_dst().data();
  const sdk::Tensor diff_src = ctx.diff_src(0);
  const sdk::Tensor diff_theta = ctx.diff_param(0);
  // Sums in double: a scalar theta collects N*D terms.
  std::vector<double> acc(diff_theta.present() ? static_cast<size_t>(diff_theta.numel()) : 0, 0.0);
  for (int64_t n = 0; n < batch_; ++n) {
    const float* v = src + n * units_;
    const float* dd = diff_dst + n * units_;
    float* ds = diff_src.present() ? diff_src.data() + n * units_ : nullptr;
    for (int64_t j = 0; j < units_; ++j) {
      const float t = theta[per_unit_ ? j : 0];
      const bool pass = std::abs(v[j]) > t;
      if (ds != nullptr) ds[j] = pass ? dd[j] : 0.0f;
      if (acc.empty() || !pass) continue;
      const double sign = v[j] > 0.0f ? 1.0 : (v[j] < 0.0f ? -1.0 : 0.0);
      acc[static_cast<size_t>(per_unit_ ? j : 0)] -= sign * dd[j];
    }
  }
  if (diff_theta.present())
    std::transform(acc.begin(), acc.end(), diff_theta.data(), [](double x) { return static_cast<float>(x); });
}

}  // namespace plexus::plugins
