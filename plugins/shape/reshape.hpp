// reshape: src [N, ...] -> [N, shape...], row-major data unchanged (PyTorch
// x.reshape(N, *shape) with the batch dim kept).
#ifndef PLEXUS_PLUGINS_SHAPE_RESHAPE_HPP
#define PLEXUS_PLUGINS_SHAPE_RESHAPE_HPP

#include <plexus/sdk/plugin.hpp>

#include <array>

namespace plexus::plugins {

struct Reshape : sdk::OpDefaults {
  static constexpr const char* name = "reshape";
  static constexpr int32_t kind = PLX_KIND_LAYER;  // no parameters; a layer only by role in a model
  static constexpr uint32_t flags = 0;              // backward is a copy of diff_dst
  static constexpr const char* doc =
      "Reshape: the same row-major data with a new per-sample shape; dim 0 (the batch) is kept. "
      "shape lists the per-sample dims separated by commas, one of them may be -1 (inferred), e.g. "
      "[N, 784] with shape=\"1,28,28\" gives [N, 1, 28, 28]. diff_src = diff_dst with src's shape.";
  static constexpr std::array<sdk::Attr, 1> attrs{
      sdk::Attr::str("shape", "-1", "per-sample dims, comma-separated, at most one -1 (default: all in one)"),
  };

  static void infer(sdk::InferContext& ctx);
  explicit Reshape(const sdk::InstanceContext&) {}
  void forward(sdk::ForwardContext& ctx) const;
  void backward(sdk::BackwardContext& ctx) const;
};

}  // namespace plexus::plugins

#endif
