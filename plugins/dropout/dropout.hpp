// dropout: inverted dropout (PyTorch nn.Dropout) with a counter-based random mask.
#ifndef PLEXUS_PLUGINS_DROPOUT_DROPOUT_HPP
#define PLEXUS_PLUGINS_DROPOUT_DROPOUT_HPP

#include <plexus/sdk/plugin.hpp>

#include <array>
#include <cstdint>

namespace plexus::plugins {

/// Why a counter-based generator: element i's draw is a pure function of the
/// call's seed and i, so the mask is the same for any OpenMP team size and
/// the loop carries no generator state (instances are const and shared
/// across threads). The mask goes to the per-call workspace, not the
/// instance, for the same reason; a leading mode byte tells backward whether
/// its forward masked (training with p > 0) or copied (eval, or p = 0).
struct Dropout : sdk::OpDefaults {
  static constexpr const char* name = "dropout";
  static constexpr int32_t kind = PLX_KIND_ACTIVATION;
  static constexpr uint32_t flags = 0;  // backward reads only the workspace and diff_dst
  static constexpr const char* doc =
      "Inverted dropout (PyTorch nn.Dropout). Training: dst = src * m / (1 - p), m ~ Bernoulli(1 - p) "
      "drawn per element from the call's seed (the same seed gives the same mask on any thread count); "
      "eval, or p = 0: dst = src. src and dst of any one shape. Gradient: diff_src = diff_dst * m / (1 - p) "
      "with the forward's mask, diff_src = diff_dst after an eval forward. The scaling is done in double "
      "and rounded once to f32.";
  static constexpr std::array<sdk::Attr, 1> attrs{
      sdk::Attr::f64("p", 0.5, "probability of zeroing an element, in [0, 1)"),
  };

  static void infer(sdk::InferContext& ctx);
  explicit Dropout(const sdk::InstanceContext& ctx);
  void forward(sdk::ForwardContext& ctx) const;
  void backward(sdk::BackwardContext& ctx) const;

 private:
  double p_;       // drop probability
  int64_t numel_;  // elements of src (and of the mask in the workspace)
};

}  // namespace plexus::plugins

#endif
