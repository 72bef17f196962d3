#include "soft_threshold.hpp"

#include "common/clones.hpp"

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

namespace {

// Both kernels take theta per unit (`per_unit`) or one scalar, in two loops
// so that each vectorizes (a theta[j * stride] would not), and are cloned for
// AVX-512/AVX2: LISTA calls them 17 times a step on [256, 256].

// dst = sign(v) max(|v| - theta, 0). `m > 0 && v != 0` picks the same cases
// as the formula's three-way sign (v = +-0 and NaN give +0), and copysign
// puts v's sign on m, so the results are those of the scalar definition.
PLEXUS_CLONES void shrink(const float* src, const float* theta, float* dst, int64_t batch, int64_t units,
                          bool per_unit) {
  for (int64_t n = 0; n < batch; ++n) {
    const float* v = src + n * units;
    float* d = dst + n * units;
    if (per_unit) {
      for (int64_t j = 0; j < units; ++j) {
        const float m = std::abs(v[j]) - theta[j];
        d[j] = m > 0.0f && v[j] != 0.0f ? std::copysign(m, v[j]) : 0.0f;
      }
    } else {
      const float t = theta[0];
      for (int64_t j = 0; j < units; ++j) {
        const float m = std::abs(v[j]) - t;
        d[j] = m > 0.0f && v[j] != 0.0f ? std::copysign(m, v[j]) : 0.0f;
      }
    }
  }
}

// sign(a) d where |a| > t, else 0, as arithmetic on 0/1 masks (a select
// chain keeps GCC from vectorizing); a non-finite d poisons the sum either way.
inline float theta_term(float a, float d, float t) {
  const float pass = static_cast<float>(std::abs(a) > t);
  const float sign = static_cast<float>(a > 0.0f) - static_cast<float>(a < 0.0f);
  return sign * d * pass;
}

// diff_src (when ds is non-null): diff_dst where |v| > theta, else 0; and,
// into acc[j] (double, per unit; when non-null), the sum over the batch of
// -sign(v) diff_dst where |v| > theta. One pass when both are wanted.
PLEXUS_CLONES_FLATTEN void shrink_backward(const float* src, const float* diff_dst, const float* theta, float* ds,
                                           double* acc, int64_t batch, int64_t units, bool per_unit) {
  const float t0 = theta[0];
  for (int64_t n = 0; n < batch; ++n) {
    const float* v = src + n * units;
    const float* dd = diff_dst + n * units;
    float* s = ds ? ds + n * units : nullptr;
    if (s != nullptr && acc != nullptr) {
      for (int64_t j = 0; j < units; ++j) {
        const float t = per_unit ? theta[j] : t0;
        s[j] = std::abs(v[j]) > t ? dd[j] : 0.0f;
        acc[j] -= static_cast<double>(theta_term(v[j], dd[j], t));
      }
    } else if (s != nullptr) {
      for (int64_t j = 0; j < units; ++j) s[j] = std::abs(v[j]) > (per_unit ? theta[j] : t0) ? dd[j] : 0.0f;
    } else if (acc != nullptr) {
      for (int64_t j = 0; j < units; ++j) acc[j] -= static_cast<double>(theta_term(v[j], dd[j], per_unit ? theta[j] : t0));
    }
  }
}

}  // namespace

void SoftThreshold::forward(sdk::ForwardContext& ctx) const {
  shrink(ctx.src(0).data(), ctx.param(0).data(), ctx.dst().data(), batch_, units_, per_unit_);
}

void SoftThreshold::backward(sdk::BackwardContext& ctx) const {
  const float* src = ctx.src(0).data();
  const float* theta = ctx.param(0).data();
  const float* diff_dst = ctx.diff_dst().data();
  const sdk::Tensor diff_src = ctx.diff_src(0);
  const sdk::Tensor diff_theta = ctx.diff_param(0);
  // Per unit, summed over the batch in double; a scalar theta then sums the units.
  std::vector<double> acc(diff_theta.present() ? static_cast<size_t>(units_) : 0, 0.0);
  shrink_backward(src, diff_dst, theta, diff_src.present() ? diff_src.data() : nullptr, acc.empty() ? nullptr : acc.data(),
                  batch_, units_, per_unit_);
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
