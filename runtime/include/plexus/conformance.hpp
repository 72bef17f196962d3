// Conformance checks for plugin authors: loads one plugin file into a fresh
// registry and exercises every kernel in it the way the runtime would.
//
//   for (const plexus::CheckResult& r : plexus::check_plugin("build/libacme_opt.so"))
//     std::printf("%s  %s  %s\n", r.passed ? "PASS" : "FAIL", r.name.c_str(), r.detail.c_str());
//
// Checks, one result each, named "<check>" or "<kernel>.<check>":
//   handshake                 the file loads (PluginLoader::load_file); on failure
//                             this is the only result, with the loader's message
//   <kernel>.declarations     doc of the kernel and of every attribute/hyperparameter
//                             (and parameter) non-empty, a version >= 1, states sane
// Optimizers, run with default hyperparameters; the checker plays the runtime:
// it allocates every declared state slot (LIKE_PARAM: the parameter's shape,
// SCALAR: [1]) filled with its init_value, calls step with t = 0, 1, ... and
// computes gradients analytically in double, rounded to f32. Each convergence
// problem tries the learning rates of kLearningRateGrid from largest to smallest
// and passes with the first that converges (reported in the detail):
//   <opt>.quadratic    f(x) = 1/2 x^T A x, A = diag(100^(i/9)), i = 0..9
//                      (condition number 100), x0 = 1: f < 1e-6 f(x0) within 20000 steps
//   <opt>.rosenbrock   (1-x)^2 + 100 (y-x^2)^2 from (-1.2, 1):
//                      ||(x, y) - (1, 1)|| < 1e-2 within 50000 steps
//   <opt>.logistic     mean log(1 + exp(-y (w.x + b))) on 200 fixed, overlapping
//                      2-D points, full batch: loss - L* < 1e-3 within 20000 steps,
//                      L* from gradient descent in double run to ||grad|| < 1e-10
//   <opt>.round_trip   10 steps, save_checkpoint/load_checkpoint of param and state,
//                      10 more steps from the loaded and from the in-memory copy (in
//                      that order, so hidden plugin state shows): bit-identical
//   <opt>.odd_sizes    5 steps on 1, 7 and 1001 elements with random gradients: all
//                      of param and state finite; for PLX_OPT_ELEMENTWISE kernels,
//                      the same steps over uneven chunks give bit-identical results
//                      and a call on a sub-range leaves the rest untouched
//   <opt>.nan_gradient one step with a NaN in the gradient (after 3 finite steps).
//                      Passes if the step returns an error code, or returns OK and
//                      leaves a non-finite value in the parameter (the runtime's
//                      finite check then stops training). Fails if it returns OK
//                      with an all-finite parameter: the NaN was silently swallowed.
// A step that returns an error code fails the check it is in with the plugin's
// message (no other learning rate is tried); the next check still runs.
// Ops (layers, activations, losses):
//   <op>.forward_backward  create, forward and backward on a small probe shape
//                          (the first infer accepts of: [4, 5] or [2, 3, 6, 6]
//                          inputs; losses [4, 3]/[4, 3], [4, 3]/[4] class
//                          indices, [4, 1]/[4] and [4]/[4] labels -1/+1) with
//                          deterministic inputs: dst and every requested
//                          gradient finite. Required attributes get i64 3,
//                          f64 0.5, or their declared bool/str value.
//
// Library code: never prints. A plugin that crashes the process (a segfault
// in step) takes the checker with it; everything else becomes a failed check.
#ifndef PLEXUS_CONFORMANCE_HPP
#define PLEXUS_CONFORMANCE_HPP

#include <array>
#include <string>
#include <vector>

namespace plexus {

struct CheckResult {
  std::string name;    // "handshake", "adam.rosenbrock"
  bool passed = false;
  std::string detail;  // what was measured, the tolerance, the lr used, or the failure message
};

/// Learning rates each convergence problem tries, in this order.
inline constexpr std::array<double, 10> kLearningRateGrid{1.0, 3e-1, 1e-1, 3e-2, 1e-2, 3e-3, 1e-3, 3e-4, 1e-4, 3e-5};

/// Loads `file` alone (a fresh Registry and PluginLoader) and runs every check
/// above on every kernel it declares. Never throws for problems of the plugin;
/// they are failed checks.
std::vector<CheckResult> check_plugin(const std::string& file);

}  // namespace plexus

#endif
