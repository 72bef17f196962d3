// plexus::Trainer: minibatch training of a Model with an optimizer plugin,
// evaluation, metrics CSV, checkpoints. Deterministic for a given seed and
// thread count. The trainer never prints; progress goes to callbacks.
//
//   plexus::TrainOptions opt;  opt.epochs = 5;  opt.batch_size = 32;
//   opt.optimizer = "sgd";  opt.hparams["lr"] = plexus::AttrValue(0.05);
//   plexus::Trainer trainer(model, opt);
//   trainer.fit(train, &test);
//   plexus::EvalResult r = trainer.evaluate(test);
//
// A host drives training either whole (fit, with callbacks after every step
// and epoch that may log, save() or stop()) or one batch at a time
// (train_step). A Trainer is not thread-safe, except stop(); while it trains,
// no other thread may run its Model.
#ifndef PLEXUS_TRAINER_HPP
#define PLEXUS_TRAINER_HPP

#include <plexus/checkpoint.hpp>
#include <plexus/data.hpp>
#include <plexus/model.hpp>
#include <plexus/optimizer.hpp>
#include <plexus/profile.hpp>

#include <atomic>
#include <cstdint>
#include <map>
#include <functional>
#include <random>
#include <string>
#include <vector>

namespace plexus {

struct TrainOptions {
  int64_t epochs = 1;
  int64_t batch_size = 32;
  std::string optimizer = "sgd";
  AttrMap hparams;                 // shared options (lr, schedule, ...; see optimizer.hpp) and the kernel's own
  uint64_t seed = 0;
  bool shuffle = true;
  std::string metrics_csv;         // one row per epoch; empty: none
  std::string save_path;           // checkpoint at the end (and every save_every steps)
  int64_t save_every = 0;
  /// What a NaN/Inf loss, gradient or updated parameter does: "stop" (an
  /// Error; nothing is saved after it) or "skip-step" (the step is undone and
  /// training goes on; counted in EpochInfo::skipped_steps).
  std::string on_nan = "stop";
  /// When set, fit() and train_step() time every step into it: the phases
  /// data, forward, backward, metric and update, and each op call by kernel
  /// name (see plexus/profile.hpp). Owned by the caller.
  Profile* profile = nullptr;
};

struct EvalResult {
  double loss = 0.0;               // mean over samples
  double accuracy = 0.0;           // correct / counted (0 if the loss has no metric)
  int64_t correct = 0;
  int64_t counted = 0;
  int64_t samples = 0;
};

struct StepInfo {
  int64_t epoch = 0;               // from 1
  int64_t step = 0;                // global optimizer step count after this step
  int64_t batch = 0;               // index within the epoch, from 0
  int64_t batches = 0;             // per epoch
  double loss = 0.0;               // this batch
  double running_loss = 0.0;       // mean over the epoch so far
  double samples_per_sec = 0.0;
  double elapsed = 0.0;            // seconds in this epoch
};

struct EpochInfo {
  int64_t epoch = 0;
  int64_t step = 0;
  double train_loss = 0.0;         // mean over the epoch's batches, weighted by batch size
  double train_accuracy = 0.0;
  bool has_test = false;
  EvalResult test;
  double seconds = 0.0;
  double samples_per_sec = 0.0;
  double lr = 0.0;                 // at the epoch's last step
  int64_t skipped_steps = 0;       // steps undone by on_nan = skip-step
};

struct TrainCallbacks {
  std::function<void(const StepInfo&)> on_step;
  std::function<void(const EpochInfo&)> on_epoch;
};

/// The model file's training defaults (TrainDefaults) as TrainOptions: epochs
/// and batch size (1 and 32 if unset), seed, and the optimizer with its
/// hyperparameters. Naming another `optimizer` keeps the file's hyperparameters
/// out (they belong to the file's optimizer).
TrainOptions train_defaults(const Model& model, const std::string& optimizer = "");

/// Mean loss and accuracy of `model` on `data` (no tape recording).
EvalResult evaluate(const Model& model, const Dataset& data, int64_t batch_size = 256);
/// Copies every parameter the model needs from `ck`, checking names and shapes.
void load_params(Model& model, const Checkpoint& ck);

struct StepResult {
  double loss = 0.0;               // the batch's loss before the update
  bool skipped = false;            // on_nan = skip-step undid or skipped the update
  int64_t correct = 0, counted = 0;  // the loss kernel's metric on the batch
};

class Trainer {
 public:
  Trainer(Model& model, TrainOptions options);

  /// Initializes parameters from options.seed unless the model's were already
  /// set (Model::init_params, load_weights, load_params, restore()).
  /// Returns the epochs run: all of them, or up to the one stop() ended.
  std::vector<EpochInfo> fit(const Dataset& train, const Dataset* test, const TrainCallbacks& cb = {});
  /// One optimizer step on one batch: forward, backward, update. `feeds` maps
  /// the model's inputs (features and labels) to batch-first tensors.
  StepResult train_step(const std::map<std::string, Tensor>& feeds);
  /// Asks fit() to return after the current step (callable from a callback or
  /// any thread). The model and optimizer are left consistent; fit() may be
  /// called again to go on.
  void stop() { stop_requested_.store(true); }
  /// Writes checkpoint() to `path` atomically (temporary file, then rename).
  void save(const std::string& path) const;
  EvalResult evaluate(const Dataset& data, int64_t batch_size = 256) const;

  /// Parameters, optimizer state, step, epoch and RNG state.
  Checkpoint checkpoint() const;
  /// Continues from `ck`: checks names, shapes and the optimizer's state slots.
  void restore(const Checkpoint& ck);

  int64_t step() const { return step_; }
  /// The learning rate of the next step.
  double lr() const { return optimizer_.lr(step_); }
  const Optimizer& optimizer() const { return optimizer_; }

 private:
  void ensure_initialized();
  /// Returns false if the step was skipped (on_nan = skip-step).
  bool optimizer_step(const Model::Forward& fw, Tape& tape);
  /// Forward + backward + step on one batch; throws on a non-finite loss
  /// unless on_nan = skip-step. `batch` (within fit's epoch; -1 for
  /// train_step) places the batch in messages.
  StepResult step_on(Tape& tape, const std::map<std::string, Tensor>& feeds, int64_t batch);

  Model& model_;
  TrainOptions opt_;
  Optimizer optimizer_;
  std::mt19937_64 rng_;
  int64_t step_ = 0;
  int64_t epoch_ = 0;
  std::atomic<bool> stop_requested_{false};
  // What optimizer_step hands Optimizer::step, kept across steps: a step
  // refills the maps' tensors instead of building maps.
  struct StepSlot {
    Tensor* model_param;
    uint32_t fw_slot;  // in Model::Forward::params
    std::map<std::string, Tensor>::iterator param, grad;
  };
  std::vector<StepSlot> step_slots_;
  std::map<std::string, Tensor> step_params_, step_grads_;
  Tape tape_;  // train_step's, reused: its node and value lists keep their capacity
};

}  // namespace plexus

#endif
