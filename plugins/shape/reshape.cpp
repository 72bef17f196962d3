#include "reshape.hpp"

#include <cstring>
#include <string>
#include <vector>

namespace plexus::plugins {

namespace {

// "1,28,28" -> {1, 28, 28}; an empty or malformed list fails naming the node.
std::vector<int64_t> parse_dims(const sdk::InferContext& ctx, std::string_view text) {
  std::vector<int64_t> dims;
  size_t pos = 0;
  while (pos <= text.size()) {
    const size_t comma = std::min(text.find(',', pos), text.size());
    const std::string item(text.substr(pos, comma - pos));
    size_t used = 0;
    int64_t v = 0;
    try {
      v = std::stoll(item, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (item.empty() || used != item.size() || (v <= 0 && v != -1))
      ctx.fail("reshape attribute 'shape' must list positive dims or one -1 separated by commas, got '" +
               std::string(text) + "'");
    dims.push_back(v);
    pos = comma + 1;
  }
  if (dims.size() + 1 > PLX_MAX_NDIM)
    ctx.fail("reshape attribute 'shape' has " + std::to_string(dims.size()) + " dims; with the batch at most " +
             std::to_string(PLX_MAX_NDIM) + " are allowed");
  return dims;
}

}  // namespace

void Reshape::infer(sdk::InferContext& ctx) {
  const sdk::Shape src = ctx.input(0);
  if (src.ndim() < 1) ctx.fail("reshape needs src with a batch dim, got " + src.str());
  const std::string_view text = ctx.attrs().str("shape");
  std::vector<int64_t> dims = parse_dims(ctx, text);
  const int64_t per_sample = src[0] == 0 ? 0 : src.numel() / src[0];
  int64_t known = 1, inferred = -1;
  for (size_t i = 0; i < dims.size(); ++i) {
    if (dims[i] != -1) {
      known *= dims[i];
    } else if (inferred >= 0) {
      ctx.fail("reshape attribute 'shape' has more than one -1: '" + std::string(text) + "'");
    } else {
      inferred = static_cast<int64_t>(i);
    }
  }
  if (src[0] == 0 && inferred >= 0) {
    int64_t rest = 1;  // an empty batch: -1 is inferred from the other dims of src
    for (int i = 1; i < src.ndim(); ++i) rest *= src[i];
    dims[static_cast<size_t>(inferred)] = known == 0 ? 0 : rest / known;
  } else if (inferred >= 0) {
    if (per_sample % known != 0)
      ctx.fail("reshape cannot infer -1 in '" + std::string(text) + "': src " + src.str() + " has " +
               std::to_string(per_sample) + " values per sample, not a multiple of " + std::to_string(known));
    dims[static_cast<size_t>(inferred)] = per_sample / known;
  }
  int64_t total = 1;
  for (int64_t d : dims) total *= d;
  int64_t src_per_sample = 1;
  for (int i = 1; i < src.ndim(); ++i) src_per_sample *= src[i];
  if (total != src_per_sample)
    ctx.fail("reshape of src " + src.str() + " (" + std::to_string(src_per_sample) + " values per sample) to '" +
             std::string(text) + "' (" + std::to_string(total) + " values) changes the number of values");
  plx_shape dst{};
  dst.ndim = static_cast<int32_t>(dims.size() + 1);
  dst.dims[0] = src[0];
  for (size_t i = 0; i < dims.size(); ++i) dst.dims[i + 1] = dims[i];
  ctx.set_dst(sdk::Shape(dst));
}

void Reshape::forward(sdk::ForwardContext& ctx) const {
  const sdk::Tensor src = ctx.src(0);
  if (src.numel() > 0)
    std::memcpy(ctx.dst().data(), src.data(), static_cast<size_t>(src.numel()) * sizeof(float));
}

void Reshape::backward(sdk::BackwardContext& ctx) const {
  const sdk::Tensor diff_src = ctx.diff_src(0);
  if (!diff_src.present() || diff_src.numel() == 0) return;
  std::memcpy(diff_src.data(), ctx.diff_dst().data(), static_cast<size_t>(diff_src.numel()) * sizeof(float));
}

}  // namespace plexus::plugins
