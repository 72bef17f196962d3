#include "logistic.hpp"

#include "common/clones.hpp"

#include <algorithm>
#include <bit>
#include <cstdint>
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

// The batch loops below run exp and log1p as inline double polynomials that
// GCC vectorizes (libm's are scalar calls, which took 16% of a W3 step for
// 32 samples). Both are within about an ulp of double, so what reaches the
// float tensors is what std::exp and std::log1p in double give.

// e^x for x <= 0: x = k ln2 + r with |r| <= ln2/2 (ln2 split so k ln2_hi is
// exact), e^r from its Taylor series to r^13 (truncation below 4e-18), times
// 2^k written into the exponent bits. k comes from the rounding of
// x log2(e) + 1.5 * 2^52. Below -708 it returns e^-708 (3e-308), which is 0
// in float, as e^x is; NaN stays NaN.
inline double exp_nonpositive(double x) {
  x = std::max(x, -708.0);
  constexpr double kShift = 0x1.8p52;
  const double t = x * 0x1.71547652b82fep0 + kShift;
  const double k = t - kShift;
  const double r = (x - k * 0x1.62e42feep-1) - k * 0x1.a39ef35793c76p-33;
  double p = 1.0 / 6227020800.0;
#pragma GCC unroll 16
  for (double c : {1.0 / 479001600.0, 1.0 / 39916800.0, 1.0 / 3628800.0, 1.0 / 362880.0, 1.0 / 40320.0,
                   1.0 / 5040.0, 1.0 / 720.0, 1.0 / 120.0, 1.0 / 24.0, 1.0 / 6.0, 0.5, 1.0, 1.0})
    p = p * r + c;
  const uint64_t k_bits = std::bit_cast<uint64_t>(t) - std::bit_cast<uint64_t>(kShift);  // k, two's complement
  return p * std::bit_cast<double>((k_bits + 1023) << 52);
}

// log(1 + u) for u in [0, 1]: 2 atanh(s) with s = u / (2 + u) in [0, 1/3],
// summed to s^35 (the next term is below 1e-17 of the sum). No 1 + u is
// formed, so a tiny u keeps its digits.
inline double log1p_unit(double u) {
  const double s = u / (2.0 + u);
  const double s2 = s * s;
  double p = 1.0 / 35.0;
#pragma GCC unroll 20
  for (int j = 33; j >= 1; j -= 2) p = p * s2 + 1.0 / j;
  return 2.0 * s * p;
}

// sum over n of softplus(-b[n] s[n]) = max(z, 0) + log1p(e^-|z|).
PLEXUS_CLONES_FLATTEN double softplus_sum(const float* s, const float* b, int64_t n) {
  double sum = 0.0;
#pragma omp simd reduction(+ : sum)
  for (int64_t i = 0; i < n; ++i) {
    const double z = -static_cast<double>(b[i]) * static_cast<double>(s[i]);
    sum += std::max(z, 0.0) + log1p_unit(exp_nonpositive(-std::abs(z)));
  }
  return sum;
}

// d[n] = -b[n] sigmoid(-b[n] s[n]) scale, sigmoid(z) = 1 / (1 + e^-z) for z
// >= 0 and e^z / (1 + e^z) below, so e^ never overflows.
PLEXUS_CLONES_FLATTEN void logistic_grad(const float* s, const float* b, double scale, float* d, int64_t n) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) {
    const double bn = static_cast<double>(b[i]);
    const double z = -bn * static_cast<double>(s[i]);
    const double e = exp_nonpositive(-std::abs(z));
    const double sig = (z >= 0.0 ? 1.0 : e) / (1.0 + e);
    d[i] = static_cast<float>(-bn * sig * scale);
  }
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
  const double sum = softplus_sum(s, b, batch_);
  ctx.dst().data()[0] = batch_ > 0 ? static_cast<float>(sum / static_cast<double>(batch_)) : 0.0f;
}

void Logistic::backward(sdk::BackwardContext& ctx) const {
  const float* s = ctx.src(0).data();
  const float* b = ctx.src(1).data();
  check_labels(b, batch_);
  const double scale = batch_ > 0 ? static_cast<double>(ctx.diff_dst().data()[0]) / static_cast<double>(batch_) : 0;
  const sdk::Tensor diff_src = ctx.diff_src(0);
  const sdk::Tensor diff_target = ctx.diff_src(1);
  if (diff_src.present()) logistic_grad(s, b, scale, diff_src.data(), batch_);
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
