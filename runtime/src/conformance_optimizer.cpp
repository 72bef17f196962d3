// The conformance checker's runtime stand-in for optimizers (Stepper) and the
// checks that are not about convergence: round_trip, odd_sizes, nan_gradient.
#include "conformance_detail.hpp"

#include <plexus/checkpoint.hpp>
#include <plexus/error.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <filesystem>
#include <unistd.h>

namespace plexus::conformance {

// ---- Stepper ------------------------------------------------------------------

Stepper::Stepper(const OptimizerKernel& kernel, const ResolvedAttrs& hparams, int64_t numel)
    : kernel_(kernel), param_(Tensor::zeros(Shape{numel})), grad_(Tensor::zeros(Shape{numel})) {
  const plx_optimizer_desc& d = kernel.desc();
  state_.reserve(d.state_count);
  for (uint32_t i = 0; i < d.state_count; ++i)
    state_.push_back(Tensor::zeros(d.states[i].shape_rule == PLX_STATE_SCALAR ? Shape{1} : Shape{numel}));
  views_.reserve(state_.size());
  for (const Tensor& s : state_) views_.push_back(s.view());
  args_.struct_size = sizeof args_;
  args_.param_name = "conformance.param";
  args_.hparams = hparams.data();
  args_.param = param_.view();
  args_.grad = grad_.view();
  args_.state = views_.data();
}

void Stepper::reset(std::span<const float> x0) {
  std::copy(x0.begin(), x0.end(), param_.data());
  const plx_optimizer_desc& d = kernel_.desc();
  for (size_t i = 0; i < state_.size(); ++i) state_[i].fill(static_cast<float>(d.states[i].init_value));
}

bool Stepper::step(int64_t t, double lr, int64_t begin, int64_t end, std::string& message) {
  args_.step = t;
  args_.lr = lr;
  args_.begin = begin;
  args_.end = end;
  plx_error err;
  err.struct_size = sizeof err;
  err.code = PLX_OK;
  err.message[0] = '\0';
  int32_t rc = PLX_E_INTERNAL;
  try {
    rc = kernel_.desc().step(&args_, &err);
  } catch (const std::exception& e) {
    message = "step " + std::to_string(t) + " let a C++ exception cross the C ABI: " + e.what();
    return false;
  } catch (...) {
    message = "step " + std::to_string(t) + " let a C++ exception cross the C ABI";
    return false;
  }
  if (rc == PLX_OK) return true;
  err.message[sizeof err.message - 1] = '\0';
  message = "step " + std::to_string(t) + " returned error code " + std::to_string(rc) + ": " +
            (err.message[0] != '\0' ? err.message : "(no message)");
  return false;
}

bool Stepper::all_finite() const {
  auto finite = [](const Tensor& x) {
    return std::all_of(x.data(), x.data() + x.numel(), [](float v) { return std::isfinite(v); });
  };
  return finite(param_) && std::all_of(state_.begin(), state_.end(), finite);
}

ResolvedAttrs default_hparams(const OptimizerKernel& kernel) {
  const plx_optimizer_desc& d = kernel.desc();
  AttrMap given;
  for (uint32_t i = 0; i < d.hparam_count; ++i) {
    const plx_hparam_desc& h = d.hparams[i];
    if (!h.required) continue;
    const plx_value& v = h.default_value;
    if (v.type == PLX_VALUE_F64) given[h.name] = AttrValue(v.as.f64);
    else if (v.type == PLX_VALUE_I64) given[h.name] = AttrValue(v.as.i64);
    else if (v.type == PLX_VALUE_BOOL) given[h.name] = AttrValue(v.as.boolean != 0);
    else given[h.name] = AttrValue(std::string(v.as.str ? v.as.str : ""));
  }
  return kernel.resolve_hparams(given);
}

std::string lr_text(double lr) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", lr);
  return buf;
}

namespace {

constexpr double kStateLr = 1e-2;  // learning rate of the round-trip, odd-size and NaN checks

/// Deterministic values in [-1, 1) from (seed, i): splitmix64.
float noise(uint64_t seed, uint64_t i) {
  uint64_t z = seed * 0x9E3779B97F4A7C15ull + i + 1;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  z ^= z >> 31;
  return static_cast<float>(static_cast<double>(z >> 11) * 0x1.0p-53 * 2.0 - 1.0);
}

void fill_noise(float* x, int64_t n, uint64_t seed) {
  for (int64_t i = 0; i < n; ++i) x[i] = noise(seed, static_cast<uint64_t>(i));
}

bool same_bits(const Tensor& a, const Tensor& b) {
  return a.numel() == b.numel() && std::memcmp(a.data(), b.data(), static_cast<size_t>(a.numel()) * 4) == 0;
}

/// Same bits in param and every state slot; otherwise names the first difference.
bool same_state(Stepper& a, Stepper& b, const plx_optimizer_desc& d, std::string& what) {
  if (!same_bits(a.param_tensor(), b.param_tensor())) {
    what = "the parameter";
    return false;
  }
  for (size_t i = 0; i < a.state().size(); ++i)
    if (!same_bits(a.state()[i], b.state()[i])) {
      what = "state slot '" + std::string(d.states[i].name) + "'";
      return false;
    }
  return true;
}

/// Steps t in [from, to) with gradient g = (1 + i % 5) x + 0.1 noise(t).
bool run_steps(Stepper& s, int64_t from, int64_t to, std::string& message) {
  for (int64_t t = from; t < to; ++t) {
    for (int64_t i = 0; i < s.numel(); ++i)
      s.grad()[i] = static_cast<float>((1.0 + static_cast<double>(i % 5)) * s.param()[i] +
                                       0.1 * noise(static_cast<uint64_t>(t) + 100, static_cast<uint64_t>(i)));
    if (!s.step(t, kStateLr, message)) return false;
  }
  return true;
}

/// A fresh file name in the temp folder, created (mkstemp) so no one else takes it.
std::string temp_checkpoint_path() {
  std::string path = (std::filesystem::temp_directory_path() / "plexus-check-XXXXXX").string();
  const int fd = ::mkstemp(path.data());
  if (fd < 0) throw Error(ErrorCode::kIo, "cannot create a temporary file in " + path);
  ::close(fd);
  return path;
}

CheckResult round_trip(const OptimizerKernel& k, const ResolvedAttrs& hp) {
  const std::string name = k.name() + ".round_trip";
  const plx_optimizer_desc& d = k.desc();
  constexpr int64_t n = 37;
  std::vector<float> x0(n);
  fill_noise(x0.data(), n, 7);
  Stepper mem(k, hp, n), loaded(k, hp, n);
  mem.reset(x0);
  loaded.reset(x0);
  std::string msg;
  if (!run_steps(mem, 0, 10, msg)) return {name, false, msg};

  Checkpoint ck;
  ck.optimizer = k.name();
  ck.optimizer_version = d.version;
  ck.step = 10;
  ck.tensors.push_back({"p", proto::TENSOR_ROLE_PARAM, "", mem.param_tensor().clone()});
  for (size_t i = 0; i < mem.state().size(); ++i)
    ck.tensors.push_back({"p/" + k.name() + "/" + d.states[i].name, proto::TENSOR_ROLE_OPTIMIZER_STATE, "p",
                          mem.state()[i].clone()});
  const std::string path = temp_checkpoint_path();
  Checkpoint back;
  try {
    save_checkpoint(path, ck);
    back = load_checkpoint(path);
  } catch (const Error& e) {
    std::filesystem::remove(path);
    return {name, false, std::string("checkpoint save/load failed: ") + e.what()};
  }
  std::filesystem::remove(path);
  for (size_t i = 0; i < back.tensors.size(); ++i) {
    Tensor& dst = i == 0 ? loaded.param_tensor() : loaded.state()[i - 1];
    if (back.tensors[i].data.numel() != dst.numel())
      return {name, false, "tensor '" + back.tensors[i].name + "' changed size in the checkpoint"};
    dst.copy_from(back.tensors[i].data);
  }
  // The in-memory copy first: a plugin keeping hidden state of its own then
  // gives the loaded copy different inputs and shows up as a difference.
  if (!run_steps(mem, 10, 20, msg) || !run_steps(loaded, 10, 20, msg)) return {name, false, msg};
  std::string what;
  if (!same_state(mem, loaded, d, what))
    return {name, false, what + " differs after resuming from the checkpoint at step 10 (steps 10..19, lr " +
                             lr_text(kStateLr) + "): state outside the declared slots?"};
  return {name, true, "10 steps, checkpoint, 10 more steps (lr " + lr_text(kStateLr) + "): parameter and " +
                          std::to_string(d.state_count) + " state slot(s) bit-identical to the uninterrupted run"};
}

/// Chunk boundaries of uneven sizes 1, 2, 3, 5, 64, 250, 1, 2, ...
bool step_chunked(Stepper& s, int64_t t, std::string& msg) {
  static constexpr int64_t kSizes[] = {1, 2, 3, 5, 64, 250};
  int64_t begin = 0;
  for (size_t c = 0; begin < s.numel(); ++c) {
    const int64_t end = std::min(s.numel(), begin + kSizes[c % std::size(kSizes)]);
    if (!s.step(t, kStateLr, begin, end, msg)) return false;
    begin = end;
  }
  return true;
}

/// Steps only [n/3, 2n/3): everything outside must keep its value.
std::string subrange_problem(const OptimizerKernel& k, const ResolvedAttrs& hp, int64_t n,
                             std::span<const float> x0) {
  Stepper s(k, hp, n);
  s.reset(x0);
  fill_noise(s.grad(), n, 99);
  const int64_t begin = n / 3, end = 2 * n / 3;
  std::string msg;
  if (!s.step(0, kStateLr, begin, end, msg)) return msg;
  const plx_optimizer_desc& d = k.desc();
  for (int64_t i = 0; i < n; ++i) {
    if (i >= begin && i < end) continue;
    if (std::memcmp(&s.param()[i], &x0[static_cast<size_t>(i)], 4) != 0)
      return "a step on [" + std::to_string(begin) + ", " + std::to_string(end) + ") of " + std::to_string(n) +
             " elements changed parameter element " + std::to_string(i);
    for (size_t j = 0; j < s.state().size(); ++j) {
      if (d.states[j].shape_rule != PLX_STATE_LIKE_PARAM) continue;
      if (s.state()[j].data()[i] != static_cast<float>(d.states[j].init_value))
        return "a step on [" + std::to_string(begin) + ", " + std::to_string(end) + ") changed element " +
               std::to_string(i) + " of state slot '" + d.states[j].name + "'";
    }
  }
  return "";
}

CheckResult odd_sizes(const OptimizerKernel& k, const ResolvedAttrs& hp) {
  const std::string name = k.name() + ".odd_sizes";
  const bool elementwise = (k.desc().flags & PLX_OPT_ELEMENTWISE) != 0;
  for (int64_t n : {int64_t{1}, int64_t{7}, int64_t{1001}}) {
    std::vector<float> x0(static_cast<size_t>(n));
    fill_noise(x0.data(), n, static_cast<uint64_t>(n));
    Stepper whole(k, hp, n), chunked(k, hp, n);
    whole.reset(x0);
    chunked.reset(x0);
    std::string msg;
    for (int64_t t = 0; t < 5; ++t) {
      fill_noise(whole.grad(), n, static_cast<uint64_t>(1000 * n + t));
      std::copy(whole.grad(), whole.grad() + n, chunked.grad());
      if (!whole.step(t, kStateLr, msg)) return {name, false, std::to_string(n) + " elements: " + msg};
      if (elementwise && !step_chunked(chunked, t, msg))
        return {name, false, std::to_string(n) + " elements, in chunks: " + msg};
    }
    if (!whole.all_finite())
      return {name, false, std::to_string(n) + " elements: a non-finite value in the parameter or state after 5 "
                                               "steps with finite gradients in [-1, 1)"};
    if (!elementwise) continue;
    std::string what;
    if (!same_state(whole, chunked, k.desc(), what))
      return {name, false, std::to_string(n) + " elements: " + what +
                               " differs between whole-range steps and steps over uneven chunks "
                               "(PLX_OPT_ELEMENTWISE promises they agree bit for bit)"};
    if (n >= 3) {
      if (std::string p = subrange_problem(k, hp, n, x0); !p.empty()) return {name, false, p};
    }
  }
  return {name, true, elementwise ? "1, 7, 1001 elements, 5 steps: finite; uneven chunks bit-identical to whole "
                                    "range; a sub-range step touches nothing outside it"
                                  : "1, 7, 1001 elements, 5 steps: finite (not ELEMENTWISE: no chunk checks)"};
}

CheckResult nan_gradient(const OptimizerKernel& k, const ResolvedAttrs& hp) {
  const std::string name = k.name() + ".nan_gradient";
  constexpr int64_t n = 7;
  std::vector<float> x0(n);
  fill_noise(x0.data(), n, 3);
  Stepper s(k, hp, n);
  s.reset(x0);
  std::string msg;
  if (!run_steps(s, 0, 3, msg)) return {name, false, "before the NaN: " + msg};
  fill_noise(s.grad(), n, 5);
  s.grad()[3] = std::nanf("");
  if (!s.step(3, kStateLr, msg)) return {name, true, "NaN in gradient element 3 rejected with an error (" + msg + ")"};
  const float* p = s.param();
  if (!std::all_of(p, p + n, [](float v) { return std::isfinite(v); }))
    return {name, true, "NaN in gradient element 3 reached the parameter, where the runtime's finite check stops "
                        "training"};
  std::string detail = "step returned OK with an all-finite parameter after a NaN in gradient element 3: the NaN "
                       "was silently swallowed (return an error code, or let it reach the parameter)";
  if (!s.all_finite()) detail += "; a state slot holds a non-finite value, which would surface steps later";
  return {name, false, detail};
}

}  // namespace

std::vector<CheckResult> check_optimizer_state(const OptimizerKernel& kernel) {
  const ResolvedAttrs hp = default_hparams(kernel);
  using Check = CheckResult (*)(const OptimizerKernel&, const ResolvedAttrs&);
  auto guarded = [&](const char* check, Check f) {
    try {
      return f(kernel, hp);
    } catch (const std::exception& e) {
      return CheckResult{kernel.name() + "." + check, false, e.what()};
    }
  };
  return {guarded("round_trip", &round_trip), guarded("odd_sizes", &odd_sizes),
          guarded("nan_gradient", &nan_gradient)};
}

}  // namespace plexus::conformance
