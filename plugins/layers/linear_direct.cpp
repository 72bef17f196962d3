#include "linear_direct.hpp"

#include "common/clones.hpp"

#include <omp.h>

#include <algorithm>

namespace plexus::plugins::linear_direct {

namespace {

// Below this many multiply-adds a call stays on the calling thread. An empty
// OpenMP parallel region (fork and join, team of 2) takes 3.1 us on the
// project's 2-core machine, and the direct loops do about 20K multiply-adds
// per us per thread: 784 -> 256 at batch 1 (200K) took 9.6 us on one thread
// and 10.9 us on two, 784 -> 512 (400K) 24.0 us and 19.8 us.
constexpr int64_t kParallelMacs = int64_t{1} << 18;

// [begin, end) of thread t's share of n items, in whole groups of `group`
// (the last share takes the remainder), so that where the shares split does
// not depend on n's remainder and items keep their group whatever the team.
struct Range {
  int64_t begin, end;
};
Range share(int64_t n, int t, int threads, int64_t group) {
  const int64_t groups = n / group;
  const int64_t per = (groups + threads - 1) / threads;
  const int64_t begin = std::min(groups, per * t) * group;
  const int64_t end = t == threads - 1 ? n : std::min(groups, per * (t + 1)) * group;
  return {begin, std::max(begin, end)};
}

float finish(float acc, const float* bias, int64_t o, bool relu) {
  if (bias != nullptr) acc += bias[o];
  return relu && !(acc > 0.0f) && acc == acc ? 0.0f : acc;  // relu keeps a NaN, like oneDNN's
}

// y[n, o] = x[n, :] . w[o, :] (+ b[o], relu) for every sample n and the rows
// o in [o0, o1). Rows go in groups of four from o0 (four independent sums
// hide the add latency); o0 is a multiple of 4, so a row is in the same group
// whatever the team. The rows past the last group (out % 4 of them, e.g. the
// single row of a logistic regression) go four samples at a time instead; a
// batch's last, incomplete group repeats its last sample in the spare sums,
// so every sample is summed by the same instructions wherever it sits.
PLEXUS_CLONES void forward_rows(const float* x, const float* w, const float* bias, float* y, int64_t batch,
                                int64_t in, int64_t out, int64_t o0, int64_t o1, bool relu) {
  const int64_t grouped = o0 + (o1 - o0) / 4 * 4;
  for (int64_t n = 0; n < batch; ++n) {
    const float* xn = x + n * in;
    float* yn = y + n * out;
    for (int64_t o = o0; o < grouped; o += 4) {
      const float* r0 = w + o * in;
      const float* r1 = r0 + in;
      const float* r2 = r1 + in;
      const float* r3 = r2 + in;
      float a0 = 0.0f, a1 = 0.0f, a2 = 0.0f, a3 = 0.0f;
#pragma omp simd reduction(+ : a0, a1, a2, a3)
      for (int64_t i = 0; i < in; ++i) {
        const float xi = xn[i];
        a0 += xi * r0[i];
        a1 += xi * r1[i];
        a2 += xi * r2[i];
        a3 += xi * r3[i];
      }
      yn[o] = finish(a0, bias, o, relu);
      yn[o + 1] = finish(a1, bias, o + 1, relu);
      yn[o + 2] = finish(a2, bias, o + 2, relu);
      yn[o + 3] = finish(a3, bias, o + 3, relu);
    }
  }
  for (int64_t o = grouped; o < o1; ++o) {
    const float* r = w + o * in;
    for (int64_t n = 0; n < batch; n += 4) {
      const int64_t last = batch - 1;
      const float* x0 = x + n * in;
      const float* x1 = x + std::min(n + 1, last) * in;
      const float* x2 = x + std::min(n + 2, last) * in;
      const float* x3 = x + std::min(n + 3, last) * in;
      float a0 = 0.0f, a1 = 0.0f, a2 = 0.0f, a3 = 0.0f;
#pragma omp simd reduction(+ : a0, a1, a2, a3)
      for (int64_t i = 0; i < in; ++i) {
        const float wi = r[i];
        a0 += x0[i] * wi;
        a1 += x1[i] * wi;
        a2 += x2[i] * wi;
        a3 += x3[i] * wi;
      }
      const float a[4] = {a0, a1, a2, a3};
      for (int64_t k = 0; k < 4 && n + k < batch; ++k) y[(n + k) * out + o] = finish(a[k], bias, o, relu);
    }
  }
}

// ds[i] = sum_o dd[o] w[o, i] for i in [i0, i1): one sample's diff_src.
PLEXUS_CLONES void data_columns(const float* dd, const float* w, float* ds, int64_t in, int64_t out, int64_t i0,
                                int64_t i1) {
  std::fill(ds + i0, ds + i1, 0.0f);
  for (int64_t o = 0; o < out; ++o) {
    const float a = dd[o];
    const float* r = w + o * in;
#pragma omp simd
    for (int64_t i = i0; i < i1; ++i) ds[i] += a * r[i];
  }
}

// dw[o, :] = sum_n dd[n, o] src[n, :] for o in [o0, o1).
PLEXUS_CLONES void weight_rows(const float* src, const float* dd, float* dw, int64_t batch, int64_t in, int64_t out,
                               int64_t o0, int64_t o1) {
  for (int64_t o = o0; o < o1; ++o) {
    float* r = dw + o * in;
    std::fill(r, r + in, 0.0f);
    for (int64_t n = 0; n < batch; ++n) {
      const float a = dd[n * out + o];
      const float* x = src + n * in;
#pragma omp simd
      for (int64_t i = 0; i < in; ++i) r[i] += a * x[i];
    }
  }
}

bool parallel(int64_t macs) { return macs >= kParallelMacs && omp_get_max_threads() > 1; }

}  // namespace

void forward(const float* src, const float* weights, const float* bias, float* dst, int64_t batch, int64_t in,
             int64_t out, bool relu) {
  if (!parallel(batch * in * out)) {
    forward_rows(src, weights, bias, dst, batch, in, out, 0, out, relu);
    return;
  }
#pragma omp parallel
  {
    const Range r = share(out, omp_get_thread_num(), omp_get_num_threads(), 4);
    forward_rows(src, weights, bias, dst, batch, in, out, r.begin, r.end, relu);
  }
}

void backward_data(const float* diff_dst, const float* weights, float* diff_src, int64_t batch, int64_t in,
                   int64_t out) {
  if (!parallel(batch * in * out)) {
    for (int64_t n = 0; n < batch; ++n) data_columns(diff_dst + n * out, weights, diff_src + n * in, in, out, 0, in);
    return;
  }
#pragma omp parallel
  {
    const Range r = share(in, omp_get_thread_num(), omp_get_num_threads(), 16);
    for (int64_t n = 0; n < batch; ++n)
      data_columns(diff_dst + n * out, weights, diff_src + n * in, in, out, r.begin, r.end);
  }
}

void backward_weights(const float* src, const float* diff_dst, float* diff_weights, float* diff_bias, int64_t batch,
                      int64_t in, int64_t out) {
  if (diff_bias != nullptr)
    for (int64_t o = 0; o < out; ++o) {
      float s = 0.0f;
      for (int64_t n = 0; n < batch; ++n) s += diff_dst[n * out + o];
      diff_bias[o] = s;
    }
  if (diff_weights == nullptr) return;
  if (!parallel(batch * in * out)) {
    weight_rows(src, diff_dst, diff_weights, batch, in, out, 0, out);
    return;
  }
#pragma omp parallel
  {
    const Range r = share(out, omp_get_thread_num(), omp_get_num_threads(), 1);
    weight_rows(src, diff_dst, diff_weights, batch, in, out, r.begin, r.end);
  }
}

}  // namespace plexus::plugins::linear_direct
