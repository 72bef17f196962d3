// concat: [N, C0, ...] and [N, C1, ...] -> [N, C0 + C1, ...] along dim 1.
#ifndef PLEXUS_PLUGINS_SHAPE_CONCAT_HPP
#define PLEXUS_PLUGINS_SHAPE_CONCAT_HPP

#include <plexus/sdk/plugin.hpp>

#include <array>
#include <cstdint>

namespace plexus::plugins {

struct Concat : sdk::OpDefaults {
  static constexpr const char* name = "concat";
  static constexpr int32_t kind = PLX_KIND_LAYER;  // no parameters
  static constexpr uint32_t flags = 0;              // backward only slices diff_dst
  // Exactly two inputs: the ABI fixes input_count per kernel (plx_op_desc),
  // so a variadic concat would need one kernel per arity; chain for more.
  static constexpr const char* doc =
      "Concatenation of exactly two tensors along dim 1 (channels/features): src_0 [N, C0, d...] "
      "and src_1 [N, C1, d...] with equal N and d... give dst [N, C0 + C1, d...]. diff_src_0 and "
      "diff_src_1 are the matching slices of diff_dst.";
  static constexpr std::array<const char*, 2> inputs{"src_0", "src_1"};

  static void infer(sdk::InferContext& ctx);
  explicit Concat(const sdk::InstanceContext& ctx);
  void forward(sdk::ForwardContext& ctx) const;
  void backward(sdk::BackwardContext& ctx) const;

 private:
  int64_t batch_;     // N
  int64_t block_[2];  // floats per sample of src_0, src_1: C_i * prod(d...)
};

}  // namespace plexus::plugins

#endif
