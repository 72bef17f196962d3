#include <plexus/error.hpp>
#include <plexus/trainer.hpp>

#include "fs_util.hpp"
#include "init.hpp"

#include <chrono>
#include <cmath>
#include <optional>
#include <sstream>
#include <tuple>

namespace plexus {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

std::string state_name(const std::string& param, const std::string& opt, const char* slot) {
  return param + "/" + opt + "/" + slot;
}

}  // namespace

Trainer::Trainer(Model& model, TrainOptions options)
    : model_(model),
      opt_(std::move(options)),
      optimizer_(model.context(), model.context().registry().optimizer(opt_.optimizer), opt_.hparams,
                 model.learned_param_shapes()) {
  if (opt_.epochs < 0) throw Error(ErrorCode::kInvalid, "epochs must be >= 0");
  if (opt_.batch_size <= 0) throw Error(ErrorCode::kInvalid, "batch size must be positive, got " + std::to_string(opt_.batch_size));
  if (opt_.on_nan != "stop" && opt_.on_nan != "skip-step")
    throw Error(ErrorCode::kInvalid, "on_nan must be 'stop' or 'skip-step', got '" + opt_.on_nan + "'");
  rng_.seed(opt_.seed);
}

void Trainer::ensure_initialized() {
  if (!model_.params_set()) model_.init_params(opt_.seed);
}

bool Trainer::optimizer_step(const Model::Forward& fw, Tape& tape) {
  // The maps Optimizer::step takes are built once and refilled each step:
  // parameters share the model's storage (the step updates the model).
  const auto& learned = model_.learned_param_shapes();
  if (step_slots_.size() != learned.size()) {
    step_slots_.clear();
    step_params_.clear();
    step_grads_.clear();
    for (const auto& [name, shape] : learned)
      step_slots_.push_back({&model_.param(name), fw.params.slot_of(name), step_params_.emplace(name, Tensor()).first,
                             step_grads_.emplace(name, Tensor()).first});
  }
  bool complete = true;
  for (const StepSlot& s : step_slots_) {
    s.param->second = *s.model_param;
    s.grad->second = tape.grad(fw.params.slot(s.fw_slot));
    complete &= s.grad->second.defined();
  }
  // Gradients go back to the pool with the step, not with the next one.
  struct Release {
    std::vector<StepSlot>& slots;
    ~Release() {
      for (const StepSlot& s : slots) s.grad->second = Tensor();
    }
  } release{step_slots_};
  // A parameter the loss does not reach has no gradient and gets no step.
  std::map<std::string, Tensor> reached;
  if (!complete)
    for (const StepSlot& s : step_slots_)
      if (s.grad->second.defined()) reached.emplace(s.grad->first, s.grad->second);
  std::map<std::string, Tensor>& params = step_params_;
  std::map<std::string, Tensor>& grads = complete ? step_grads_ : reached;
  if (opt_.on_nan == "stop") {
    optimizer_.step(step_, params, grads);
    ++step_;
    return true;
  }
  // skip-step: a non-finite gradient skips the step; a non-finite update is undone.
  for (const auto& [name, g] : grads)
    for (float v : g.span())
      if (!std::isfinite(v)) return false;
  std::map<std::string, Tensor> saved_params;
  std::map<std::string, std::vector<Tensor>> saved_state;
  for (const auto& [name, g] : grads) {
    saved_params[name] = params[name].clone();
    for (const Tensor& s : optimizer_.state(name)) saved_state[name].push_back(s.clone());
  }
  try {
    optimizer_.step(step_, params, grads);
  } catch (const Error& e) {
    if (e.code() != ErrorCode::kNumeric) throw;
    for (auto& [name, p] : saved_params) {
      params[name].copy_from(p);
      for (size_t i = 0; i < saved_state[name].size(); ++i) optimizer_.state(name)[i].copy_from(saved_state[name][i]);
    }
    return false;
  }
  ++step_;
  return true;
}

namespace {

std::map<std::string, Tensor> batch_feeds(const Model& model, const Dataset& data, std::span<const int64_t> idx) {
  std::map<std::string, Tensor> feeds;
  auto add = [&](const std::string& input, const Tensor& src) {
    if (input.empty()) return;
    Tensor t = gather_rows(src, idx);
    std::vector<int64_t> dims{static_cast<int64_t>(idx.size())};
    const Shape per = model.input_shape(input);
    for (int d = 0; d < per.ndim(); ++d) dims.push_back(per[d]);
    const Shape want(std::span<const int64_t>(dims.data(), dims.size()));
    if (want.numel() != t.numel())
      throw Error(ErrorCode::kInvalid, model.source() + ": input '" + input + "' expects samples of shape " + per.str() +
                                           " but the data set '" + data.source + "' has rows of shape " +
                                           Shape(std::span<const int64_t>(src.shape().data() + 1, static_cast<size_t>(src.ndim() - 1))).str());
    feeds[input] = t.reshape(want);
  };
  add(model.feature_input(), data.features);
  add(model.label_input(), data.labels);
  return feeds;
}

}  // namespace

std::vector<EpochInfo> Trainer::fit(const Dataset& train, const Dataset* test, const TrainCallbacks& cb) {
  if (model_.def().loss().empty()) throw Error(ErrorCode::kInvalid, model_.source() + ": cannot train: field 'loss' is empty");
  if (train.size() == 0) throw Error(ErrorCode::kInvalid, "training data '" + train.source + "' is empty");
  ensure_initialized();
  stop_requested_.store(false);
  RuntimeContext::ThreadShare share(model_.context());
  std::optional<Profile::Scope> profiling;
  if (opt_.profile != nullptr) profiling.emplace(opt_.profile);
  std::vector<EpochInfo> history;
  std::string csv = "epoch,step,train_loss,train_accuracy,test_loss,test_accuracy,lr,seconds,samples_per_sec\n";
  const int64_t n = train.size();
  const int64_t batches = (n + opt_.batch_size - 1) / opt_.batch_size;
  optimizer_.set_default_total(step_ + opt_.epochs * batches);
  Tape tape;
  for (int64_t e = 0; e < opt_.epochs; ++e) {
    const auto t0 = Clock::now();
    const std::vector<int64_t> order = batch_order(n, opt_.shuffle, rng_);
    double loss_sum = 0.0;
    int64_t correct = 0, counted = 0, seen = 0, skipped = 0;
    for (int64_t b = 0; b < batches; ++b) {
      const int64_t begin = b * opt_.batch_size, end = std::min(n, begin + opt_.batch_size);
      std::span<const int64_t> idx(order.data() + begin, static_cast<size_t>(end - begin));
      std::map<std::string, Tensor> feeds;
      {
        Profile::Timer timer("data", "");
        feeds = batch_feeds(model_, train, idx);
      }
      const StepResult r = step_on(tape, feeds, b);
      const double loss = r.loss;
      if (r.skipped) ++skipped;
      if (!std::isfinite(loss)) continue;
      correct += r.correct;
      counted += r.counted;
      loss_sum += loss * static_cast<double>(end - begin);
      seen += end - begin;
      if (opt_.save_every > 0 && step_ % opt_.save_every == 0 && !opt_.save_path.empty()) save(opt_.save_path);
      if (cb.on_step) {
        StepInfo s;
        s.epoch = epoch_ + 1;
        s.step = step_;
        s.batch = b;
        s.batches = batches;
        s.loss = loss;
        s.running_loss = loss_sum / static_cast<double>(seen);
        s.elapsed = seconds_since(t0);
        s.samples_per_sec = s.elapsed > 0 ? static_cast<double>(seen) / s.elapsed : 0.0;
        cb.on_step(s);
      }
      if (stop_requested_.load()) break;
    }
    tape.clear();
    if (seen == 0 && stop_requested_.load()) break;  // stopped before a sample of this epoch counted
    ++epoch_;
    EpochInfo info;
    info.epoch = epoch_;
    info.step = step_;
    info.seconds = seconds_since(t0);
    info.train_loss = loss_sum / static_cast<double>(seen);
    info.train_accuracy = counted ? static_cast<double>(correct) / static_cast<double>(counted) : 0.0;
    info.samples_per_sec = info.seconds > 0 ? static_cast<double>(seen) / info.seconds : 0.0;
    info.lr = optimizer_.lr(step_ > 0 ? step_ - 1 : 0);
    info.skipped_steps = skipped;
    if (test != nullptr && test->size() > 0) {
      info.has_test = true;
      info.test = evaluate(*test);
    }
    history.push_back(info);
    if (!opt_.metrics_csv.empty()) {
      std::ostringstream row;
      row.precision(9);
      row << info.epoch << ',' << info.step << ',' << info.train_loss << ',' << info.train_accuracy << ',';
      if (info.has_test) row << info.test.loss << ',' << info.test.accuracy;
      else row << ',';
      row << ',' << info.lr << ',' << info.seconds << ',' << info.samples_per_sec << '\n';
      csv += row.str();
      detail::write_file_atomic(opt_.metrics_csv, csv, "metrics");
    }
    if (cb.on_epoch) cb.on_epoch(info);
    if (stop_requested_.load()) break;
  }
  if (!opt_.save_path.empty()) save(opt_.save_path);
  return history;
}

StepResult Trainer::step_on(Tape& tape, const std::map<std::string, Tensor>& feeds, int64_t batch) {
  StepResult r;
  tape.clear();
  // Random ops (dropout) draw from the run's seed and the step: a resumed run
  // draws what the uninterrupted one would have.
  const uint64_t step_seed = detail::derive_seed(opt_.seed, "step " + std::to_string(step_));
  if (opt_.profile != nullptr) ++opt_.profile->steps;
  std::optional<Profile::Timer> phase(std::in_place, "forward", "");
  Model::Forward fw = model_.forward(tape, feeds, /*training=*/true, true, step_seed, /*rewrite=*/true);
  r.loss = fw.loss.data().data()[0];
  phase.reset();
  if (!std::isfinite(r.loss)) {
    if (opt_.on_nan == "skip-step") {
      r.skipped = true;
      return r;
    }
    throw Error(ErrorCode::kNumeric, model_.source() + ": loss node '" + model_.def().loss() + "' is " +
                                         (std::isnan(r.loss) ? "NaN" : "infinite") + " at " +
                                         (batch < 0 ? std::string("train_step")
                                                    : "epoch " + std::to_string(epoch_ + 1) + ", batch " +
                                                          std::to_string(batch + 1)) +
                                         " (step " +
                                         std::to_string(step_) +
                                         "); stopping (no checkpoint was written for this run's later steps)");
  }
  phase.emplace("backward", "");
  tape.backward(fw.loss);
  phase.emplace("metric", "");
  std::tie(r.correct, r.counted) = fw.metric();
  phase.emplace("update", "");
  r.skipped = !optimizer_step(fw, tape);
  return r;
}

StepResult Trainer::train_step(const std::map<std::string, Tensor>& feeds) {
  if (model_.def().loss().empty()) throw Error(ErrorCode::kInvalid, model_.source() + ": cannot train: field 'loss' is empty");
  ensure_initialized();
  RuntimeContext::ThreadShare share(model_.context());
  std::optional<Profile::Scope> profiling;
  if (opt_.profile != nullptr) profiling.emplace(opt_.profile);
  struct Clear {  // the step's tensors go back to the pool when it ends, however it ends
    Tape& tape;
    ~Clear() { tape.clear(); }
  } clear{tape_};
  return step_on(tape_, feeds, -1);
}

EvalResult Trainer::evaluate(const Dataset& data, int64_t batch_size) const {
  return plexus::evaluate(model_, data, batch_size);
}

TrainOptions train_defaults(const Model& model, const std::string& optimizer) {
  const proto::TrainDefaults& d = model.def().train();
  TrainOptions o;
  o.epochs = d.epochs() > 0 ? d.epochs() : 1;
  o.batch_size = d.batch_size() > 0 ? d.batch_size() : 32;
  o.optimizer = !optimizer.empty() ? optimizer : (d.optimizer().empty() ? "sgd" : d.optimizer());
  if (o.optimizer == d.optimizer()) {
    for (const auto& [k, v] : d.optimizer_hparams()) {
      switch (v.value_case()) {
        case proto::AttrValue::kF: o.hparams[k] = AttrValue(v.f()); break;
        case proto::AttrValue::kI: o.hparams[k] = AttrValue(static_cast<int64_t>(v.i())); break;
        case proto::AttrValue::kB: o.hparams[k] = AttrValue(v.b()); break;
        case proto::AttrValue::kS: o.hparams[k] = AttrValue(v.s()); break;
        case proto::AttrValue::VALUE_NOT_SET: break;
      }
    }
  }
  o.seed = d.seed();
  return o;
}

EvalResult evaluate(const Model& model_, const Dataset& data, int64_t batch_size) {
  EvalResult r;
  RuntimeContext::ThreadShare share(model_.context());
  Profile::Scope not_a_step(nullptr);  // fit()'s per-epoch evaluation stays out of a step profile
  if (batch_size <= 0) throw Error(ErrorCode::kInvalid, "batch size must be positive");
  if (model_.def().loss().empty()) throw Error(ErrorCode::kInvalid, model_.source() + ": cannot evaluate: field 'loss' is empty");
  Tape tape;
  NoGrad no_grad(tape);
  const int64_t n = data.size();
  std::vector<int64_t> idx_all(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) idx_all[static_cast<size_t>(i)] = i;
  double loss_sum = 0.0;
  for (int64_t begin = 0; begin < n; begin += batch_size) {
    const int64_t end = std::min(n, begin + batch_size);
    std::span<const int64_t> idx(idx_all.data() + begin, static_cast<size_t>(end - begin));
    tape.clear();
    Model::Forward fw = model_.forward(tape, batch_feeds(model_, data, idx), /*training=*/false, true);
    loss_sum += static_cast<double>(fw.loss.data().data()[0]) * static_cast<double>(end - begin);
    auto [c, k] = fw.metric();
    r.correct += c;
    r.counted += k;
  }
  r.samples = n;
  r.loss = n ? loss_sum / static_cast<double>(n) : 0.0;
  r.accuracy = r.counted ? static_cast<double>(r.correct) / static_cast<double>(r.counted) : 0.0;
  return r;
}

Checkpoint Trainer::checkpoint() const {
  Checkpoint ck;
  ck.model = model_.def();
  ck.step = step_;
  ck.epoch = epoch_;
  ck.optimizer = optimizer_.kernel().name();
  ck.optimizer_version = optimizer_.kernel().desc().version;
  ck.optimizer_hparams = optimizer_.config().to_map();
  std::ostringstream rng;
  rng << rng_;
  ck.rng_state = rng.str();
  const plx_optimizer_desc& d = optimizer_.kernel().desc();
  for (const auto& [name, shape] : model_.param_shapes())
    ck.tensors.push_back({name, proto::TENSOR_ROLE_PARAM, "", model_.param(name).clone()});
  for (const auto& [name, shape] : model_.learned_param_shapes())
    for (uint32_t s = 0; s < d.state_count; ++s)
      ck.tensors.push_back({state_name(name, ck.optimizer, d.states[s].name), proto::TENSOR_ROLE_OPTIMIZER_STATE, name,
                            optimizer_.state(name)[s].clone()});
  return ck;
}

void load_params(Model& model_, const Checkpoint& ck) {
  for (const auto& [name, shape] : model_.param_shapes()) {
    const CheckpointTensor* t = ck.find(name);
    if (t == nullptr && shape.numel() == 0) continue;  // an empty parameter (bias=false) holds nothing to load
    if (t == nullptr) throw Error(ErrorCode::kFormat, "checkpoint has no parameter '" + name + "' that the model needs");
    if (t->data.shape() != shape)
      throw Error(ErrorCode::kFormat, "checkpoint parameter '" + name + "' has shape " + t->data.shape().str() +
                                          ", the model needs " + shape.str());
  }
  for (const auto& [name, shape] : model_.param_shapes())
    if (const CheckpointTensor* t = ck.find(name)) model_.param(name).copy_from(t->data);
  model_.mark_params_set();
}

void Trainer::restore(const Checkpoint& ck) {
  load_params(model_, ck);
  // Optimizer state and counters carry over only to the same optimizer.
  if (ck.optimizer != optimizer_.kernel().name()) return;
  const plx_optimizer_desc& d = optimizer_.kernel().desc();
  for (const auto& [name, shape] : model_.learned_param_shapes()) {
    for (uint32_t s = 0; s < d.state_count; ++s) {
      const std::string key = state_name(name, ck.optimizer, d.states[s].name);
      const CheckpointTensor* t = ck.find(key);
      if (t == nullptr)
        throw Error(ErrorCode::kFormat, "checkpoint has no slot '" + std::string(d.states[s].name) + "' for optimizer '" +
                                            ck.optimizer + "' v" + std::to_string(d.version) + " (parameter '" + name +
                                            "'); it was written by v" + std::to_string(ck.optimizer_version));
      Tensor& slot = optimizer_.state(name)[s];
      if (t->data.shape() != slot.shape())
        throw Error(ErrorCode::kFormat, "checkpoint slot '" + key + "' has shape " + t->data.shape().str() +
                                            ", expected " + slot.shape().str());
      slot.copy_from(t->data);
    }
  }
  step_ = ck.step;
  epoch_ = ck.epoch;
  // The schedule's N is that of the run which wrote the checkpoint.
  auto total = ck.optimizer_hparams.find("lr_total");
  if (total != ck.optimizer_hparams.end())
    if (auto n = std::get_if<int64_t>(&total->second.get()); n && *n > 0) optimizer_.set_default_total(*n);
  if (!ck.rng_state.empty()) {
    std::istringstream in(ck.rng_state);
    std::mt19937_64 r;
    if (!(in >> r)) throw Error(ErrorCode::kFormat, "checkpoint field 'rng_state' is malformed");
    rng_ = r;
  }
}

void Trainer::save(const std::string& path) const { save_checkpoint(path, checkpoint()); }

}  // namespace plexus
