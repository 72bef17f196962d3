#include "relu_mask.hpp"

#include "clones.hpp"

#include <algorithm>

namespace plexus::plugins {

namespace {

// Reads diff_dst unconditionally, so the choice is a vector select: written
// `dst > 0 ? diff_dst[i] : 0`, GCC keeps a branch per element, which on a
// relu's half-negative dst mispredicts about half the time.
PLEXUS_CLONES void mask_span(const float* dst, const float* diff_dst, float* out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const float g = diff_dst[i];
    out[i] = dst[i] > 0.0f ? g : 0.0f;
  }
}

constexpr int64_t kChunk = int64_t{1} << 14;  // floats per OpenMP work item

}  // namespace

void relu_mask(const float* dst, const float* diff_dst, float* out, int64_t n) { mask_span(dst, diff_dst, out, n); }

void relu_mask_parallel(const float* dst, const float* diff_dst, float* out, int64_t n) {
  const int64_t chunks = (n + kChunk - 1) / kChunk;
#pragma omp parallel for schedule(static) if (chunks > 1)
  for (int64_t c = 0; c < chunks; ++c)
    mask_span(dst + c * kChunk, diff_dst + c * kChunk, out + c * kChunk, std::min(kChunk, n - c * kChunk));
}

}  // namespace plexus::plugins
