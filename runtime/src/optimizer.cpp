#include <plexus/error.hpp>
#include <plexus/optimizer.hpp>

#include <omp.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <exception>

namespace plexus {

namespace {

// ThreadSanitizer cannot see libgomp's barriers (the library is not
// instrumented): every chunk the team writes and the caller reads after the
// region looks like a race, and reporting each one (even when suppressed)
// made a 300-step training test run for more than ten minutes. Under TSan the
// update therefore stays on the calling thread; Optimizer tests check the
// parallel update against the serial one bit for bit in the normal build.
// (tools/tsan.sh defines PLEXUS_TSAN; it has to undefine __SANITIZE_THREAD__.)
#if defined(PLEXUS_TSAN)
constexpr bool kUnderTsan = true;
#else
constexpr bool kUnderTsan = false;
#endif

constexpr int64_t kChunk = 1 << 16;  // elements per step call of an ELEMENTWISE kernel
// From this many elements in all, the update's chunks are split over the
// calling thread's OpenMP team, the same threads oneDNN ran the step's
// primitives on (and that are still spinning from them), so the framework's
// own work never wakes a second pool of threads to compete with them for the
// cores. Below it, the update runs on the calling thread (an OpenMP fork and
// join costs about 3 us on the project's 2-core machine).
constexpr int64_t kParallelUpdate = 1 << 17;

// True when every value in [begin, end) is finite. Branch-free (the exponent
// bits of each value, OR-ed over the range), so GCC vectorizes it; a loop of
// std::isfinite with an early return stays scalar.
bool finite(const Tensor& t, int64_t begin, int64_t end) {
  const float* p = t.data();
  uint32_t all_ones = 0;
  for (int64_t i = begin; i < end; ++i) {
    uint32_t bits;
    std::memcpy(&bits, p + i, sizeof bits);
    all_ones |= static_cast<uint32_t>((bits & 0x7f800000u) == 0x7f800000u);
  }
  return all_ones == 0;
}

double number(const AttrValue& v, const std::string& key) {
  if (auto d = std::get_if<double>(&v.get())) return *d;
  if (auto i = std::get_if<int64_t>(&v.get())) return static_cast<double>(*i);
  throw Error(ErrorCode::kInvalid, "optimizer option '" + key + "' expects a number, got " + v.type_name() + " " + v.str());
}

int64_t integer(const AttrValue& v, const std::string& key) {
  if (auto i = std::get_if<int64_t>(&v.get())) return *i;
  throw Error(ErrorCode::kInvalid, "optimizer option '" + key + "' expects an integer, got " + v.type_name() + " " + v.str());
}

}  // namespace

double LrSchedule::at(int64_t t) const {
  const double td = static_cast<double>(t);
  if (kind == "constant") return lr;
  if (kind == "step") return lr * std::pow(gamma > 0 ? gamma : 0.1, std::floor(td / static_cast<double>(step_size)));
  if (kind == "exponential") return lr * std::pow(gamma > 0 ? gamma : 0.999, td);
  if (kind == "inv_sqrt") return lr / std::sqrt(td + 1.0);
  if (kind == "course") return 1.0 / (lipschitz * std::sqrt(static_cast<double>(total)));
  if (kind == "cosine") {
    if (t < warmup) return lr * (td + 1.0) / static_cast<double>(warmup);
    const double span = static_cast<double>(std::max<int64_t>(1, total - warmup));
    const double progress = std::min(1.0, (td - static_cast<double>(warmup)) / span);
    return lr_min + (lr - lr_min) * 0.5 * (1.0 + std::cos(M_PI * progress));
  }
  throw Error(ErrorCode::kInvalid, "unknown lr_schedule '" + kind + "'");
}

const std::vector<std::pair<std::string, std::string>>& OptimizerConfig::shared_options() {
  static const std::vector<std::pair<std::string, std::string>> options = {
      {"lr", "f64 = 0.01  base learning rate lr0"},
      {"weight_decay", "f64 = 0  L2 penalty: g <- g + weight_decay * theta"},
      {"clip_norm", "f64 = 0  clip the global gradient norm to this value (0: off)"},
      {"lr_schedule", "str = constant  constant | step | exponential | cosine | inv_sqrt | course"},
      {"lr_step", "i64 = 1000  step: multiply by lr_gamma every lr_step steps"},
      {"lr_gamma", "f64 = 0.1 (step), 0.999 (exponential)  decay factor"},
      {"lr_warmup", "i64 = 0  cosine: linear warm-up steps"},
      {"lr_min", "f64 = 0  cosine: final learning rate"},
      {"lr_total", "i64 = 0  N for cosine and course (0: the run's step count)"},
      {"lr_lipschitz", "f64 = 0  course: L in lr = 1 / (L sqrt(N))"},
  };
  return options;
}

OptimizerConfig OptimizerConfig::parse(const AttrMap& all) {
  OptimizerConfig c;
  for (const auto& [key, v] : all) {
    if (key == "lr") c.schedule.lr = number(v, key);
    else if (key == "weight_decay") c.weight_decay = number(v, key);
    else if (key == "clip_norm") c.clip_norm = number(v, key);
    else if (key == "lr_schedule") c.schedule.kind = v.str();
    else if (key == "lr_step") c.schedule.step_size = integer(v, key);
    else if (key == "lr_gamma") c.schedule.gamma = number(v, key);
    else if (key == "lr_warmup") c.schedule.warmup = integer(v, key);
    else if (key == "lr_min") c.schedule.lr_min = number(v, key);
    else if (key == "lr_total") c.schedule.total = integer(v, key);
    else if (key == "lr_lipschitz") c.schedule.lipschitz = number(v, key);
    else c.kernel[key] = v;
  }
  const LrSchedule& s = c.schedule;
  auto bad = [](const std::string& what) { return Error(ErrorCode::kInvalid, "optimizer option " + what); };
  static const char* kinds[] = {"constant", "step", "exponential", "cosine", "inv_sqrt", "course"};
  if (std::find(std::begin(kinds), std::end(kinds), s.kind) == std::end(kinds))
    throw bad("'lr_schedule': unknown schedule '" + s.kind + "' (known: constant, step, exponential, cosine, inv_sqrt, course)");
  if (!(s.lr > 0) || !std::isfinite(s.lr)) throw bad("'lr' must be positive, got " + AttrValue(s.lr).str());
  if (c.weight_decay < 0) throw bad("'weight_decay' must be >= 0");
  if (c.clip_norm < 0) throw bad("'clip_norm' must be >= 0 (0: off)");
  if (s.step_size <= 0) throw bad("'lr_step' must be positive");
  if (s.gamma < 0) throw bad("'lr_gamma' must be positive");
  if (s.warmup < 0 || s.total < 0) throw bad("'lr_warmup' and 'lr_total' must be >= 0");
  if (s.kind == "course" && !(s.lipschitz > 0)) throw bad("'lr_lipschitz' (L) must be positive for lr_schedule=course");
  return c;
}

AttrMap OptimizerConfig::to_map() const {
  AttrMap m = kernel;
  m["lr"] = AttrValue(schedule.lr);
  m["weight_decay"] = AttrValue(weight_decay);
  m["clip_norm"] = AttrValue(clip_norm);
  m["lr_schedule"] = AttrValue(schedule.kind);
  m["lr_step"] = AttrValue(schedule.step_size);
  m["lr_gamma"] = AttrValue(schedule.gamma);
  m["lr_warmup"] = AttrValue(schedule.warmup);
  m["lr_min"] = AttrValue(schedule.lr_min);
  m["lr_total"] = AttrValue(schedule.total);
  m["lr_lipschitz"] = AttrValue(schedule.lipschitz);
  return m;
}

Optimizer::Optimizer(const Runtime& runtime, const OptimizerKernel& kernel, const AttrMap& hparams,
                     const std::vector<std::pair<std::string, Shape>>& params)
    : Optimizer(*runtime.context(), kernel, hparams, params) {}

Optimizer::Optimizer(const RuntimeContext& runtime, const OptimizerKernel& kernel, const AttrMap& hparams,
                     const std::vector<std::pair<std::string, Shape>>& params)
    : runtime_(runtime), kernel_(kernel), config_(OptimizerConfig::parse(hparams)),
      hparams_(kernel.resolve_hparams(config_.kernel)), total_given_(config_.schedule.total > 0) {
  const plx_optimizer_desc& d = kernel_.desc();
  for (const auto& [name, shape] : params) {
    std::vector<Tensor> slots;
    for (uint32_t s = 0; s < d.state_count; ++s)
      slots.push_back(Tensor::full(d.states[s].shape_rule == PLX_STATE_SCALAR ? Shape{1} : shape,
                                   static_cast<float>(d.states[s].init_value)));
    state_[name] = std::move(slots);
  }
}

void Optimizer::set_default_total(int64_t total_steps) {
  if (!total_given_ && config_.schedule.total == 0) config_.schedule.total = total_steps;
}

void Optimizer::step(int64_t t, std::map<std::string, Tensor>& params, std::map<std::string, Tensor>& grads) {
  // Clipping by the global norm (summed in double, in a fixed order).
  if (config_.clip_norm > 0) {
    double sq = 0.0;
    for (auto& [name, g] : grads)
      for (float v : g.span()) sq += static_cast<double>(v) * v;
    const double norm = std::sqrt(sq);
    if (norm > config_.clip_norm) {
      const float scale = static_cast<float>(config_.clip_norm / (norm + 1e-6));
      for (auto& [name, g] : grads)
        for (float& v : g.span()) v *= scale;
    }
  }
  if (config_.weight_decay > 0) {
    const float wd = static_cast<float>(config_.weight_decay);
    for (auto& [name, g] : grads) {
      const float* p = params.at(name).data();
      float* gp = g.data();
      for (int64_t i = 0, n = g.numel(); i < n; ++i) gp[i] += wd * p[i];
    }
  }
  // Work items: (parameter, element range). Elementwise kernels get chunks.
  struct Item {
    const std::string* name;
    Tensor* param;
    const Tensor* grad;
    std::vector<Tensor>* state;
    int64_t begin, end;
  };
  std::vector<Item> items;
  const bool chunked = (kernel_.desc().flags & PLX_OPT_ELEMENTWISE) != 0;
  for (auto& [name, g] : grads) {
    auto p = params.find(name);
    if (p == params.end())
      throw Error(ErrorCode::kInternal, "optimizer step: a gradient for unknown parameter '" + name + "'");
    const int64_t n = p->second.numel();
    const int64_t chunk = chunked ? kChunk : std::max<int64_t>(n, 1);
    for (int64_t b = 0; b < n || b == 0; b += chunk) {
      items.push_back({&name, &p->second, &g, &state_.at(name), b, std::min(n, b + chunk)});
      if (n == 0) break;
    }
  }
  const double lr = config_.schedule.at(t);
  int64_t total = 0;
  for (const Item& it : items) total += it.end - it.begin;
  auto update = [&](size_t i) {
    Item& it = items[i];
    kernel_.step(*it.name, t, lr, hparams_, *it.param, *it.grad, *it.state, it.begin, it.end);
    if (!finite(*it.param, it.begin, it.end))
      throw Error(ErrorCode::kNumeric, "optimizer '" + kernel_.name() + "' (plugin '" + kernel_.origin().plugin + "', " +
                                           kernel_.origin().file + ") wrote NaN or Inf into parameter '" + *it.name +
                                           "' at step " + std::to_string(t));
  };
  // The team the caller's share of the budget allows (Trainer holds a
  // RuntimeContext::ThreadShare); never more than the runtime's budget.
  const int team = std::min(omp_get_max_threads(), runtime_.threads());
  if (total < kParallelUpdate || items.size() < 2 || team < 2 || kUnderTsan) {
    for (size_t i = 0; i < items.size(); ++i) update(i);
    return;
  }
  // Chunks go to the team's threads as they free up; every element is
  // updated by exactly one call, so results do not depend on the split. An
  // exception may not leave an OpenMP region: the first is kept and rethrown.
  std::exception_ptr failed;
  std::atomic<bool> stop{false};
  const auto n = static_cast<int64_t>(items.size());
#pragma omp parallel for schedule(dynamic, 1) num_threads(team)
  for (int64_t i = 0; i < n; ++i) {
    if (stop.load(std::memory_order_relaxed)) continue;
    try {
      update(static_cast<size_t>(i));
    } catch (...) {
#pragma omp critical(plexus_optimizer_failure)
      if (!failed) failed = std::current_exception();
      stop.store(true, std::memory_order_relaxed);
    }
  }
  if (failed) std::rethrow_exception(failed);
}

}  // namespace plexus
