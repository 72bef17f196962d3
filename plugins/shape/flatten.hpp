// flatten: src [N, d1, ..., dk] -> dst with dims start_dim.. merged (PyTorch flatten, end_dim = -1).
#ifndef PLEXUS_PLUGINS_SHAPE_FLATTEN_HPP
#define PLEXUS_PLUGINS_SHAPE_FLATTEN_HPP

#include <plexus/sdk/plugin.hpp>

#include <array>

namespace plexus::plugins {

struct Flatten : sdk::OpDefaults {
  static constexpr const char* name = "flatten";
  static constexpr int32_t kind = PLX_KIND_LAYER;  // no parameters; a layer only by role in a model
  static constexpr uint32_t flags = 0;              // backward is a copy of diff_dst
  static constexpr const char* doc =
      "Flatten: merges dims start_dim..last into one, keeping the data in row-major order, e.g. "
      "[N, C, H, W] -> [N, C*H*W] with the default start_dim=1 (PyTorch flatten with end_dim=-1). "
      "start_dim may be negative (counted from the end) and must name a dim after the batch dim. "
      "diff_src = diff_dst with src's shape.";
  static constexpr std::array<sdk::Attr, 1> attrs{
      sdk::Attr::i64("start_dim", 1, "first dim to merge; 1..rank-1, or negative from the end"),
  };

  static void infer(sdk::InferContext& ctx);
  explicit Flatten(const sdk::InstanceContext&) {}
  void forward(sdk::ForwardContext& ctx) const;
  void backward(sdk::BackwardContext& ctx) const;
};

}  // namespace plexus::plugins

#endif
