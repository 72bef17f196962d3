// plexus::Optimizer: what the runtime does around an optimizer plugin's step.
// It owns the per-parameter state slots the kernel declares, applies the
// options every optimizer shares (learning-rate schedule, L2 weight decay,
// clipping by global norm), calls the kernel in parallel over parameters and
// over chunks of large parameters (TBB, under the runtime's thread budget),
// and checks that the kernel left every parameter finite.
//
//   plexus::Optimizer opt(runtime, runtime.registry().optimizer("adam"),
//                         {{"lr", AttrValue(1e-3)}, {"lr_schedule", AttrValue(std::string("cosine"))}},
//                         model.param_shapes(), /*total_steps=*/1000);
//   opt.step(model, grads);     // t advances by one
//
// Shared options (keys of the same hyperparameter map as the kernel's own):
//   lr            base learning rate lr0 (0.01)
//   weight_decay  L2: g <- g + weight_decay * theta (0)
//   clip_norm     if ||g||_2 over all parameters > clip_norm, g <- g * clip_norm / ||g|| (0: off)
//   lr_schedule   constant | step | exponential | cosine | inv_sqrt | course
//     step:        lr0 * lr_gamma^floor(t / lr_step)           (lr_gamma 0.1, lr_step 1000)
//     exponential: lr0 * lr_gamma^t                             (lr_gamma 0.999)
//     cosine:      warm-up lr0 (t+1)/lr_warmup for t < lr_warmup, then
//                  lr_min + (lr0 - lr_min) (1 + cos(pi (t - W) / (N - W))) / 2   (N = lr_total)
//     inv_sqrt:    lr0 / sqrt(t + 1)
//     course:      1 / (lr_lipschitz sqrt(N)), constant             (N = lr_total)
//   lr_total      N; 0: the run's total step count
// Clipping happens first, then weight decay, then the kernel's step.
#ifndef PLEXUS_OPTIMIZER_HPP
#define PLEXUS_OPTIMIZER_HPP

#include <plexus/kernel.hpp>
#include <plexus/runtime.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace plexus {

struct LrSchedule {
  std::string kind = "constant";
  double lr = 0.01;
  double gamma = 0.0;      // 0: the schedule's default
  int64_t step_size = 1000;
  int64_t warmup = 0;
  double lr_min = 0.0;
  int64_t total = 0;       // N
  double lipschitz = 0.0;  // L
  /// The learning rate at step t (from 0).
  double at(int64_t t) const;
};

/// The runtime's shared options, and the kernel's own hyperparameters.
struct OptimizerConfig {
  LrSchedule schedule;
  double weight_decay = 0.0;
  double clip_norm = 0.0;
  AttrMap kernel;          // everything else, checked against the kernel's declaration
  /// Splits `all` (as given on the command line or in a model file).
  static OptimizerConfig parse(const AttrMap& all);
  /// The names of the shared options, with one-line docs and defaults (for `plexus plugins`).
  static const std::vector<std::pair<std::string, std::string>>& shared_options();
  /// Back to one map (for checkpoints), schedule resolved.
  AttrMap to_map() const;
};

class Optimizer {
 public:
  Optimizer(const RuntimeContext& runtime, const OptimizerKernel& kernel, const AttrMap& hparams,
            const std::vector<std::pair<std::string, Shape>>& params);
  Optimizer(const Runtime& runtime, const OptimizerKernel& kernel, const AttrMap& hparams,
            const std::vector<std::pair<std::string, Shape>>& params);

  const OptimizerKernel& kernel() const { return kernel_; }
  const OptimizerConfig& config() const { return config_; }
  /// Sets N for schedules that need it, unless lr_total was given or N is already set.
  void set_default_total(int64_t total_steps);
  double lr(int64_t t) const { return config_.schedule.at(t); }

  /// One update at step t of every parameter that has a gradient (grads may
  /// lack some). Gradients are modified in place (clipping, weight decay).
  /// Throws Error(kNumeric) naming the plugin and the parameter if the kernel
  /// leaves a non-finite value; Error(kPlugin) if it fails.
  void step(int64_t t, std::map<std::string, Tensor>& params, std::map<std::string, Tensor>& grads);

  /// State slots of one parameter, in declaration order.
  std::vector<Tensor>& state(const std::string& param) { return state_.at(param); }
  const std::vector<Tensor>& state(const std::string& param) const { return state_.at(param); }

 private:
  const RuntimeContext& runtime_;
  const OptimizerKernel& kernel_;
  OptimizerConfig config_;
  ResolvedAttrs hparams_;
  bool total_given_ = false;
  std::map<std::string, std::vector<Tensor>> state_;
};

}  // namespace plexus

#endif
