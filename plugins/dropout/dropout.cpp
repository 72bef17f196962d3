#include "dropout.hpp"

#include <cstdio>
#include <cstring>
#include <string>

namespace plexus::plugins {

namespace {

// Workspace: one mode byte, then one mask byte per element (1 = kept).
constexpr int64_t kHeaderBytes = 1;
enum Mode : uint8_t { kCopied = 0, kMasked = 1 };

/// Below this many elements a call stays on the calling thread.
constexpr int64_t kParallelElements = int64_t{1} << 15;

/// splitmix64 (Steele, Lea, Flood 2014): output i of the generator seeded
/// with `seed`, computed directly from the counter i.
inline uint64_t splitmix64(uint64_t seed, uint64_t i) {
  uint64_t z = seed + (i + 1) * 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

/// Element i is kept when its uniform draw in [0, 1) (53 bits) is >= p.
inline bool kept(uint64_t seed, int64_t i, double p) {
  return static_cast<double>(splitmix64(seed, static_cast<uint64_t>(i)) >> 11) * 0x1.0p-53 >= p;
}

void copy(float* dst, const float* src, int64_t n) {
  if (n > 0) std::memcpy(dst, src, static_cast<size_t>(n) * sizeof(float));
}

std::string str(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

}  // namespace

void Dropout::infer(sdk::InferContext& ctx) {
  const double p = ctx.attrs().f64("p");
  if (!(p >= 0.0 && p < 1.0))  // written so that NaN fails too
    ctx.fail("dropout attribute 'p' must be in [0, 1), got " + str(p));
  ctx.set_dst(ctx.input(0));
}

// infer() has validated p before an instance is made.
Dropout::Dropout(const sdk::InstanceContext& ctx) : p_(ctx.attrs().f64("p")), numel_(ctx.input(0).numel()) {
  ctx.set_workspace_bytes(kHeaderBytes + numel_);
}

void Dropout::forward(sdk::ForwardContext& ctx) const {
  auto* ws = static_cast<uint8_t*>(ctx.workspace());
  if (ws == nullptr) throw sdk::Error(PLX_E_INTERNAL, "dropout forward without a workspace");
  const float* src = ctx.src(0).data();
  float* dst = ctx.dst().data();
  if (!ctx.training() || p_ == 0.0) {
    ws[0] = kCopied;
    copy(dst, src, numel_);
    return;
  }
  ws[0] = kMasked;
  uint8_t* mask = ws + kHeaderBytes;
  const uint64_t seed = ctx.seed();
  const double p = p_, keep = 1.0 - p_;
  const int64_t n = numel_;
  // src * m rather than a select: a dropped NaN or Inf stays NaN, as in PyTorch.
#pragma omp parallel for schedule(static) if (n >= kParallelElements)
  for (int64_t i = 0; i < n; ++i) {
    const bool k = kept(seed, i, p);
    mask[i] = k ? 1 : 0;
    dst[i] = static_cast<float>(src[i] * (k ? 1.0 : 0.0) / keep);
  }
}

void Dropout::backward(sdk::BackwardContext& ctx) const {
  const sdk::Tensor diff_src = ctx.diff_src(0);
  if (!diff_src.present()) return;
  const auto* ws = static_cast<const uint8_t*>(ctx.workspace());
  if (ws == nullptr) throw sdk::Error(PLX_E_INTERNAL, "dropout backward without its forward's workspace");
  const float* diff_dst = ctx.diff_dst().data();
  float* ds = diff_src.data();
  if (ws[0] == kCopied) {
    copy(ds, diff_dst, numel_);
    return;
  }
  const uint8_t* mask = ws + kHeaderBytes;
  const double keep = 1.0 - p_;
  const int64_t n = numel_;
#pragma omp parallel for schedule(static) if (n >= kParallelElements)
  for (int64_t i = 0; i < n; ++i) ds[i] = static_cast<float>(diff_dst[i] * static_cast<double>(mask[i]) / keep);
}

}  // namespace plexus::plugins
