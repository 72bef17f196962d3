// Lion ("EvoLved Sign Momentum"), from Chen et al. 2023, "Symbolic Discovery
// of Optimization Algorithms", as a Plexus optimizer plugin written with the
// public SDK alone. Per element i of the parameter:
//
//   c     = b1 m + (1 - b1) g
//   theta <- theta - lr (sign(c) + wd theta)
//   m     <- b2 m + (1 - b2) g
//
// The update has the same size lr in every coordinate, so Lion usually wants a
// learning rate 3-10x smaller than AdamW's and a weight decay 3-10x larger.
#include <plexus/sdk/plugin.hpp>

#include <array>
#include <cmath>
#include <string>

namespace sdk = plexus::sdk;

namespace {

/// sign(x) in {-1, 0, +1}; a NaN stays NaN so that a NaN gradient reaches the
/// parameter, where the runtime's finite check stops training.
inline float sign_of(float x) {
  if (x > 0.0f) return 1.0f;
  if (x < 0.0f) return -1.0f;
  return x;  // +0, -0 or NaN
}

[[noreturn]] void bad_hparam(const char* name, const char* range, double value) {
  throw sdk::Error(PLX_E_INVALID,
                   std::string("lion: hyperparameter ") + name + " must be " + range + ", got " + std::to_string(value));
}

struct Lion : sdk::OptimizerDefaults {
  static constexpr const char* name = "lion";
  static constexpr uint32_t version = 1;
  // Independent per element: the runtime may split [0, numel) across threads.
  static constexpr uint32_t flags = PLX_OPT_ELEMENTWISE;
  static constexpr const char* doc =
      "Lion (Chen et al. 2023): c = b1 m + (1 - b1) g; theta <- theta - lr (sign(c) + wd theta); "
      "m <- b2 m + (1 - b2) g. m starts at 0; g already includes the runtime's weight_decay and clipping. "
      "Use an lr 3-10x smaller than AdamW's.";
  static constexpr std::array<sdk::Attr, 3> hparams{
      sdk::Attr::f64("b1", 0.9, "in [0, 1): weight of m in the interpolation c whose sign is the update"),
      sdk::Attr::f64("b2", 0.99, "in [0, 1): decay of the momentum m <- b2 m + (1 - b2) g"),
      sdk::Attr::f64("wd", 0.0, ">= 0: decoupled weight decay, theta shrinks by lr wd theta per step"),
  };
  static constexpr std::array<sdk::State, 1> states{
      sdk::State{"m", PLX_STATE_LIKE_PARAM, 0.0},
  };

  static void step(sdk::StepContext& ctx) {
    const double b1 = ctx.hparams().f64("b1");
    const double b2 = ctx.hparams().f64("b2");
    const double wd = ctx.hparams().f64("wd");
    if (!(b1 >= 0.0 && b1 < 1.0)) bad_hparam("b1", "in [0, 1)", b1);
    if (!(b2 >= 0.0 && b2 < 1.0)) bad_hparam("b2", "in [0, 1)", b2);
    if (!(wd >= 0.0 && std::isfinite(wd))) bad_hparam("wd", "finite and >= 0", wd);

    const sdk::Tensor param = ctx.param();
    const sdk::Tensor grad = ctx.grad();
    const sdk::Tensor m_state = ctx.state("m");
    if (grad.numel() != param.numel() || m_state.numel() != param.numel())
      throw sdk::Error(PLX_E_INVALID, "lion: '" + std::string(ctx.param_name()) + "' has " +
                                          std::to_string(param.numel()) + " elements, its gradient " +
                                          std::to_string(grad.numel()) + " and its state m " +
                                          std::to_string(m_state.numel()));
    const int64_t begin = ctx.begin(), end = ctx.end();
    if (begin < 0 || begin > end || end > param.numel())
      throw sdk::Error(PLX_E_INVALID, "lion: element range [" + std::to_string(begin) + ", " + std::to_string(end) +
                                          ") is outside '" + ctx.param_name() + "'");

    // Coefficients in double, rounded once to f32; the loop runs in f32.
    const float b1f = static_cast<float>(b1), a1 = static_cast<float>(1.0 - b1);
    const float b2f = static_cast<float>(b2), a2 = static_cast<float>(1.0 - b2);
    const float lr = static_cast<float>(ctx.lr());
    const float decay = static_cast<float>(ctx.lr() * wd);
    float* theta = param.data();
    const float* g = grad.data();
    float* m = m_state.data();
    // Only [begin, end) is ours: other calls may update the rest concurrently.
    for (int64_t i = begin; i < end; ++i) {
      const float c = b1f * m[i] + a1 * g[i];
      theta[i] = theta[i] - lr * sign_of(c) - decay * theta[i];
      m[i] = b2f * m[i] + a2 * g[i];
    }
  }
};

}  // namespace

PLEXUS_PLUGIN("plexus-lion", "1.0.0", Lion)
