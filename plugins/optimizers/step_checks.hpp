// Argument checks every optimizer kernel of this plugin runs before its loop:
// sizes of gradient and state, the element range, the step number, and the
// range of a hyperparameter. Messages name the kernel and the parameter.
#ifndef PLEXUS_PLUGINS_OPTIMIZERS_STEP_CHECKS_HPP
#define PLEXUS_PLUGINS_OPTIMIZERS_STEP_CHECKS_HPP

#include <plexus/sdk/plugin.hpp>

#include <cstdio>
#include <initializer_list>
#include <string>

namespace plexus::plugins::detail {

/// Throws PLX_E_INVALID unless the gradient and each named state slot have the
/// parameter's element count, [begin, end) lies inside it and t >= 0.
inline void check_step(const sdk::StepContext& ctx, const char* kernel, std::initializer_list<const char*> states) {
  const int64_t n = ctx.param().numel();
  const std::string where = std::string(kernel) + ": parameter '" + ctx.param_name() + "'";
  if (ctx.grad().numel() != n)
    throw sdk::Error(PLX_E_INVALID, where + " has " + std::to_string(n) + " elements, its gradient " +
                                        std::to_string(ctx.grad().numel()));
  for (const char* s : states)
    if (ctx.state(s).numel() != n)
      throw sdk::Error(PLX_E_INVALID, where + " has " + std::to_string(n) + " elements, its state '" + s + "' " +
                                          std::to_string(ctx.state(s).numel()));
  if (ctx.begin() < 0 || ctx.begin() > ctx.end() || ctx.end() > n)
    throw sdk::Error(PLX_E_INVALID, where + ": element range [" + std::to_string(ctx.begin()) + ", " +
                                        std::to_string(ctx.end()) + ") is outside its " + std::to_string(n) +
                                        " elements");
  if (ctx.step() < 0)
    throw sdk::Error(PLX_E_INVALID, where + ": step " + std::to_string(ctx.step()) + " is negative (t counts from 0)");
}

/// Throws PLX_E_INVALID "<kernel>: hyperparameter '<name>' must be <expected>, found <value>" unless ok.
inline void check_hparam(bool ok, const char* kernel, const char* name, const char* expected, double value) {
  if (ok) return;
  char found[32];
  std::snprintf(found, sizeof found, "%g", value);
  throw sdk::Error(PLX_E_INVALID, std::string(kernel) + ": hyperparameter '" + name + "' must be " + expected +
                                      ", found " + found);
}

/// 0 <= v < 1, the range of a decay rate (NaN fails).
inline bool unit_interval_open(double v) { return v >= 0.0 && v < 1.0; }

}  // namespace plexus::plugins::detail

#endif
