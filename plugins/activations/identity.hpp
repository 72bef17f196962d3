// identity: dst = src. No oneDNN primitive: a copy is the whole op, and the
// backward needs neither src nor dst.
#ifndef PLEXUS_PLUGINS_ACTIVATIONS_IDENTITY_HPP
#define PLEXUS_PLUGINS_ACTIVATIONS_IDENTITY_HPP

#include <plexus/sdk/plugin.hpp>

namespace plexus::plugins {

struct Identity : sdk::OpDefaults {
  static constexpr const char* name = "identity";
  static constexpr int32_t kind = PLX_KIND_ACTIVATION;
  static constexpr uint32_t flags = 0;
  static constexpr const char* doc =
      "Identity: dst = src, diff_src = diff_dst. Any shape; dst has the shape of src. "
      "Useful as an explicit 'no activation' in a model definition.";

  static void infer(sdk::InferContext& ctx);
  explicit Identity(const sdk::InstanceContext&) {}
  void forward(sdk::ForwardContext& ctx) const;
  void backward(sdk::BackwardContext& ctx) const;
};

}  // namespace plexus::plugins

#endif
