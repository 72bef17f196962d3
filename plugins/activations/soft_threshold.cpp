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

namespace {

/// One row of the backward, branch-free so that it vectorizes: diff_src passes
/// diff_dst where |v| > theta; theta's gradient gathers -sign(v) diff_dst
/// there, into acc[j] (double) per unit.
template <bool PerUnit>
void backward_row(const float* v, const float* dd, const float* theta, float* ds, double* acc, int64_t units) {
  // Every load is unconditional and no loop branches, so both vectorize.
  if (ds != nullptr)
    for (int64_t j = 0; j < units; ++j) {
      const float a = v[j], d = dd[j], t = PerUnit ? theta[j] : theta[0];
      ds[j] = std::abs(a) > t ? d : 0.0f;
    }
  if (acc != nullptr)
    for (int64_t j = 0; j < units; ++j) {
      const float a = v[j], d = dd[j], t = PerUnit ? theta[j] : theta[0];
      // -sign(a) d where |a| > t, as arithmetic on 0/1 masks (a select chain here
      // keeps GCC from vectorizing); a non-finite d poisons the sum either way.
      const float pass = static_cast<float>(std::abs(a) > t);
      const float sign = static_cast<float>(a > 0.0f) - static_cast<float>(a < 0.0f);
      acc[j] -= static_cast<double>(sign * d * pass);
    }
}

}  // namespace

void SoftThreshold::backward(sdk::BackwardContext& ctx) const {
  const float* src = ctx.src(0).data();
  const float* theta = ctx.param(0).data();
  const float* diff_dst = ctx.diff_dst().data();
  const sdk::Tensor diff_src = ctx.diff_src(0);
  const sdk::Tensor diff_theta = ctx.diff_param(0);
  // Per unit, summed over the batch in double; a scalar theta then sums the units.
  std::vector<double> acc(diff_theta.present() ? static_cast<size_t>(units_) : 0, 0.0);
  for (int64_t n = 0; n < batch_; ++n) {
    const float* v = src + n * units_;
    const float* dd = diff_dst + n * units_;
    float* ds = diff_src.present() ? diff_src.data() + n * units_ : nullptr;
    double* a = acc.empty() ? nullptr : acc.data();
    if (per_unit_) backward_row<true>(v, dd, theta, ds, a, units_);
    else backward_row<false>(v, dd, theta, ds, a, units_);
  }
  if (!diff_theta.present()) return;
  if (per_unit_) {
    std::transform(acc.begin(), acc.end(), diff_theta.data(), [](double x) { return static_cast<float>(x); });
  } else {
    double sum = 0.0;
    for (double x : acc) sum += x;
    diff_theta.data()[0] = static_cast<float>(sum);
  }
}

}  // namespace plexus::plugins
