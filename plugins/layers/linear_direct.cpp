#include "linear_direct.hpp"

#include "common/clones.hpp"

#include <omp.h>

#include <algorithm>

namespace plexus::plugins::linear_direct {

namespace {

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

// Eight floats; GCC lowers it to whatever the clone has (one AVX register,
// two SSE ones). aligned(4) and may_alias: loaded from any float address.
typedef float v8 __attribute__((vector_size(32), aligned(4), may_alias));
typedef int32_t v8i __attribute__((vector_size(32)));

// out[k] = v . p[k] for eight rows p[0..7] of n floats. Eight independent
// vector sums hide the multiply-add latency; a transposing tree of shuffles
// adds each sum's eight lanes (14 shuffles and 7 vector adds for the eight,
// where an `omp simd` reduction stored each vector and added its lanes one
// by one); then the n % 8 tail in order. Every lane goes through the same
// adds, and the products are the same whichever of v and p[k] is a sample
// and which a weight row, so a dot product's bits depend only on its two
// rows. Inlined into each clone of its callers.
[[gnu::always_inline]] inline void dot8(const float* const p[8], const float* v, int64_t n, float out[8]) {
  const int64_t vectors = n / 8 * 8;
  v8 a[8] = {};
  for (int64_t i = 0; i < vectors; i += 8) {
    const v8 vi = *reinterpret_cast<const v8*>(v + i);
    for (int k = 0; k < 8; ++k) a[k] += vi * *reinterpret_cast<const v8*>(p[k] + i);
  }
  // [a0 a0 a0 a0 a1 a1 a1 a1] ... then [a0 a0 a1 a1 a2 a2 a3 a3] ... then
  // [a0 a1 ... a7]: each step adds the lanes it folds.
  v8 t[4], u[2];
  for (int q = 0; q < 4; ++q)
    t[q] = __builtin_shuffle(a[2 * q], a[2 * q + 1], v8i{0, 1, 2, 3, 8, 9, 10, 11}) +
           __builtin_shuffle(a[2 * q], a[2 * q + 1], v8i{4, 5, 6, 7, 12, 13, 14, 15});
  for (int q = 0; q < 2; ++q)
    u[q] = __builtin_shuffle(t[2 * q], t[2 * q + 1], v8i{0, 1, 4, 5, 8, 9, 12, 13}) +
           __builtin_shuffle(t[2 * q], t[2 * q + 1], v8i{2, 3, 6, 7, 10, 11, 14, 15});
  const v8 sums = __builtin_shuffle(u[0], u[1], v8i{0, 2, 4, 6, 8, 10, 12, 14}) +
                  __builtin_shuffle(u[0], u[1], v8i{1, 3, 5, 7, 9, 11, 13, 15});
  for (int k = 0; k < 8; ++k) {
    float acc = sums[k];
    for (int64_t i = vectors; i < n; ++i) acc += v[i] * p[k][i];
    out[k] = acc;
  }
}

// y[n, o] = x[n, :] . w[o, :] (+ b[o], relu) for every sample n and the rows
// o in [o0, o1), eight dot products per dot8 call. Rows go in groups of eight
// from o0 (o0 is a multiple of 8, so a row is in the same group whatever the
// team), each group once per sample. The rows past the last group (out % 8
// of them, e.g. the single row of a logistic regression) take eight samples
// per call for each row, or, when that is more work (small batches), all of
// the tail rows per call for each sample; spare lanes repeat the last sample
// or row. Either way every output is summed by the same instructions.
PLEXUS_CLONES void forward_rows(const float* x, const float* w, const float* bias, float* y, int64_t batch,
                                int64_t in, int64_t out, int64_t o0, int64_t o1, bool relu) {
  const int64_t grouped = o0 + (o1 - o0) / 8 * 8;
  const float* p[8];
  float sums[8];
  for (int64_t n = 0; n < batch; ++n) {
    const float* xn = x + n * in;
    float* yn = y + n * out;
    for (int64_t o = o0; o < grouped; o += 8) {
      for (int k = 0; k < 8; ++k) p[k] = w + (o + k) * in;
      dot8(p, xn, in, sums);
      for (int k = 0; k < 8; ++k) yn[o + k] = finish(sums[k], bias, o + k, relu);
    }
  }
  const int64_t tail = o1 - grouped;
  if (tail == 0) return;
  const int64_t sample_groups = (batch + 7) / 8;
  if (tail * sample_groups <= batch) {  // eight samples per call, row by row
    for (int64_t o = grouped; o < o1; ++o)
      for (int64_t n = 0; n < batch; n += 8) {
        for (int k = 0; k < 8; ++k) p[k] = x + std::min(n + k, batch - 1) * in;
        dot8(p, w + o * in, in, sums);
        for (int64_t k = 0; k < 8 && n + k < batch; ++k) y[(n + k) * out + o] = finish(sums[k], bias, o, relu);
      }
  } else {  // all tail rows per call, sample by sample
    for (int k = 0; k < 8; ++k) p[k] = w + std::min(grouped + k, o1 - 1) * in;
    for (int64_t n = 0; n < batch; ++n) {
      dot8(p, x + n * in, in, sums);
      for (int64_t k = 0; k < tail; ++k) y[n * out + grouped + k] = finish(sums[k], bias, grouped + k, relu);
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

// acc[j] = sum_n dd[n * out] src[n * in + j] for j < W (W = 8 * V floats),
// summed over n in order, in registers, then stored to r.
template <int V>
[[gnu::always_inline]] inline void weight_columns(const float* src, const float* dd, float* r, int64_t batch,
                                                  int64_t in, int64_t out) {
  v8 acc[V] = {};
  for (int64_t n = 0; n < batch; ++n) {
    const float a = dd[n * out];
    const v8 av = {a, a, a, a, a, a, a, a};
    const float* x = src + n * in;
    for (int j = 0; j < V; ++j) acc[j] += av * *reinterpret_cast<const v8*>(x + 8 * j);
  }
  for (int j = 0; j < V; ++j) *reinterpret_cast<v8*>(r + 8 * j) = acc[j];
}

// dw[o, :] = sum_n dd[n, o] src[n, :] for o in [o0, o1). Each element sums
// over n in order; columns go 32 at a time with their sums in registers for
// the whole batch (an `omp simd` loop over the row stored and reloaded the
// row once per sample: a chain through memory per element).
PLEXUS_CLONES void weight_rows(const float* src, const float* dd, float* dw, int64_t batch, int64_t in, int64_t out,
                               int64_t o0, int64_t o1) {
  const int64_t vectors = in / 8 * 8;
  for (int64_t o = o0; o < o1; ++o) {
    float* r = dw + o * in;
    int64_t i = 0;
    for (; i + 32 <= vectors; i += 32) weight_columns<4>(src + i, dd + o, r + i, batch, in, out);
    for (; i < vectors; i += 8) weight_columns<1>(src + i, dd + o, r + i, batch, in, out);
    if (i == in) continue;
    float acc[8] = {};
    for (int64_t n = 0; n < batch; ++n) {
      const float a = dd[n * out + o];
      const float* x = src + n * in;
      for (int64_t j = i; j < in; ++j) acc[j - i] += a * x[j];
    }
    std::copy(acc, acc + (in - i), r + i);
  }
}

// ThreadSanitizer cannot see libgomp's fork and join (the library is not
// instrumented), so the team's reads of what the caller set up look like
// races. Under TSan (tools/tsan.sh defines PLEXUS_TSAN) the loops stay on the
// calling thread, as the optimizer's update does; Linear's tests check the
// split against one thread bit for bit in the normal build.
#if defined(PLEXUS_TSAN)
constexpr bool kUnderTsan = true;
#else
constexpr bool kUnderTsan = false;
#endif

}  // namespace

bool TeamChoice::eligible() const { return !kUnderTsan && macs_ >= kTryMacs && omp_get_max_threads() > 1; }

void TeamChoice::record(int slot, float us) const {
  us_[static_cast<size_t>(slot)].store(us, std::memory_order_relaxed);
  if (recorded_.fetch_add(1, std::memory_order_acq_rel) + 1 != kTrials) return;
  // The last trial in: the median of each way (even slots ran on the calling
  // thread, odd ones split).
  std::array<float, kTrials / 2> one, split;
  for (int i = 0; i < kTrials / 2; ++i) {
    one[static_cast<size_t>(i)] = us_[static_cast<size_t>(2 * i)].load(std::memory_order_relaxed);
    split[static_cast<size_t>(i)] = us_[static_cast<size_t>(2 * i + 1)].load(std::memory_order_relaxed);
  }
  const auto median = [](std::array<float, kTrials / 2>& v) {
    std::sort(v.begin(), v.end());
    return 0.5f * (v[v.size() / 2 - 1] + v[v.size() / 2]);
  };
  decided_.store(median(split) < kSplitGain * median(one) ? 1 : 0, std::memory_order_release);
}

void forward(const float* src, const float* weights, const float* bias, float* dst, int64_t batch, int64_t in,
             int64_t out, bool relu, const TeamChoice& team) {
  team.run([&](bool split) {
    if (!split) {
      forward_rows(src, weights, bias, dst, batch, in, out, 0, out, relu);
      return;
    }
#pragma omp parallel
    {
      const Range r = share(out, omp_get_thread_num(), omp_get_num_threads(), 8);
      forward_rows(src, weights, bias, dst, batch, in, out, r.begin, r.end, relu);
    }
  });
}

void backward_data(const float* diff_dst, const float* weights, float* diff_src, int64_t batch, int64_t in,
                   int64_t out, const TeamChoice& team) {
  team.run([&](bool split) {
    if (!split) {
      for (int64_t n = 0; n < batch; ++n) data_columns(diff_dst + n * out, weights, diff_src + n * in, in, out, 0, in);
      return;
    }
#pragma omp parallel
    {
      const Range r = share(in, omp_get_thread_num(), omp_get_num_threads(), 16);
      for (int64_t n = 0; n < batch; ++n)
        data_columns(diff_dst + n * out, weights, diff_src + n * in, in, out, r.begin, r.end);
    }
  });
}

void backward_weights(const float* src, const float* diff_dst, float* diff_weights, float* diff_bias, int64_t batch,
                      int64_t in, int64_t out, const TeamChoice& team) {
  if (diff_bias != nullptr)
    for (int64_t o = 0; o < out; ++o) {
      float s = 0.0f;
      for (int64_t n = 0; n < batch; ++n) s += diff_dst[n * out + o];
      diff_bias[o] = s;
    }
  if (diff_weights == nullptr) return;
  team.run([&](bool split) {
    if (!split) {
      weight_rows(src, diff_dst, diff_weights, batch, in, out, 0, out);
      return;
    }
#pragma omp parallel
    {
      const Range r = share(out, omp_get_thread_num(), omp_get_num_threads(), 1);
      weight_rows(src, diff_dst, diff_weights, batch, in, out, r.begin, r.end);
    }
  });
}

}  // namespace plexus::plugins::linear_direct
