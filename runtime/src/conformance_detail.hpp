// Internals of the conformance checker (conformance*.cpp), not installed.
#ifndef PLEXUS_CONFORMANCE_DETAIL_HPP
#define PLEXUS_CONFORMANCE_DETAIL_HPP

#include <plexus/conformance.hpp>
#include <plexus/kernel.hpp>
#include <plexus/tensor.hpp>

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace plexus::conformance {

/// The runtime's side of one parameter: param, grad and the declared state
/// slots, allocated once, with the step arguments built once, so a step
/// allocates nothing. Views point into the members: not copyable or movable.
class Stepper {
 public:
  Stepper(const OptimizerKernel& kernel, const ResolvedAttrs& hparams, int64_t numel);
  Stepper(const Stepper&) = delete;
  Stepper& operator=(const Stepper&) = delete;

  int64_t numel() const { return param_.numel(); }
  float* param() { return param_.data(); }
  float* grad() { return grad_.data(); }
  Tensor& param_tensor() { return param_; }
  std::vector<Tensor>& state() { return state_; }
  /// param = x0 (numel values), every state slot = its init_value.
  void reset(std::span<const float> x0);
  /// One call of the kernel's step on [begin, end). False with `message` set
  /// if it returned an error code (or let an exception escape).
  bool step(int64_t t, double lr, int64_t begin, int64_t end, std::string& message);
  bool step(int64_t t, double lr, std::string& message) { return step(t, lr, 0, numel(), message); }
  /// Param and every state slot finite.
  bool all_finite() const;

 private:
  const OptimizerKernel& kernel_;
  Tensor param_;
  Tensor grad_;
  std::vector<Tensor> state_;
  std::vector<plx_tensor_view> views_;
  plx_step_args args_{};
};

/// The default hyperparameters, with required ones set to their declared value.
ResolvedAttrs default_hparams(const OptimizerKernel& kernel);

/// Short text of a learning rate or tolerance ("0.03", "1e-06").
std::string lr_text(double lr);

/// quadratic, rosenbrock, logistic (conformance_problems.cpp).
std::vector<CheckResult> check_convergence(const OptimizerKernel& kernel);
/// round_trip, odd_sizes, nan_gradient (conformance_optimizer.cpp).
std::vector<CheckResult> check_optimizer_state(const OptimizerKernel& kernel);

}  // namespace plexus::conformance

#endif
