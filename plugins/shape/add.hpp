// add: dst = src_0 + src_1 elementwise, same shapes (residual connections).
#ifndef PLEXUS_PLUGINS_SHAPE_ADD_HPP
#define PLEXUS_PLUGINS_SHAPE_ADD_HPP

#include <plexus/sdk/plugin.hpp>

#include <oneapi/dnnl/dnnl_types.h>

#include <array>

namespace plexus::plugins {

struct Add : sdk::OpDefaults {
  static constexpr const char* name = "add";
  static constexpr int32_t kind = PLX_KIND_LAYER;  // no parameters
  // The gradient does not depend on any value. Two inputs in one blocked
  // layout are added in it (padding stays zero: 0 + 0).
  static constexpr uint32_t flags = PLX_OP_LAYOUTS;
  static constexpr const char* doc =
      "Elementwise sum of two tensors of identical shape (no broadcasting), for residual "
      "connections: dst = src_0 + src_1; diff_src_0 = diff_src_1 = diff_dst.";
  static constexpr std::array<const char*, 2> inputs{"src_0", "src_1"};

  static void infer(sdk::InferContext& ctx);
  explicit Add(const sdk::InstanceContext& ctx);
  void forward(sdk::ForwardContext& ctx) const;
  void backward(sdk::BackwardContext& ctx) const;

 private:
  dnnl_memory_desc_t layout_{};  // the inputs' common blocked layout, if any
  int64_t extent_ = 0;           // floats per buffer, padding included
};

}  // namespace plexus::plugins

#endif
