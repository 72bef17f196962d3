// check_plugin: the handshake, the declaration checks of every kernel, the
// op probe, and the optimizer checks of conformance_{problems,optimizer}.cpp.
#include "conformance_detail.hpp"

#include <plexus/error.hpp>
#include <plexus/plugin_loader.hpp>

#include <algorithm>
#include <cmath>
#include <exception>
#include <memory>

namespace plexus {

namespace {

bool blank(const char* s) { return s == nullptr || *s == '\0'; }

/// Problems with the docs and names of attributes (or hyperparameters).
void check_attr_docs(const plx_hparam_desc* attrs, uint32_t count, const char* what, std::vector<std::string>& out) {
  for (uint32_t i = 0; i < count; ++i)
    if (blank(attrs[i].doc)) out.push_back(std::string(what) + " '" + attrs[i].name + "' has no doc");
}

CheckResult declarations(const std::string& kernel, const char* doc, uint32_t version,
                         const std::vector<std::string>& problems, const std::string& summary) {
  std::vector<std::string> all;
  if (blank(doc)) all.push_back("the kernel has no doc (state the formula)");
  if (version < 1) all.push_back("version is 0 (start at 1, bump when the state layout changes)");
  all.insert(all.end(), problems.begin(), problems.end());
  if (all.empty()) return {kernel + ".declarations", true, summary};
  std::string detail;
  for (const std::string& p : all) detail += (detail.empty() ? "" : "; ") + p;
  return {kernel + ".declarations", false, detail};
}

CheckResult optimizer_declarations(const OptimizerKernel& k) {
  const plx_optimizer_desc& d = k.desc();
  std::vector<std::string> problems;
  check_attr_docs(d.hparams, d.hparam_count, "hyperparameter", problems);
  for (uint32_t i = 0; i < d.state_count; ++i)
    if (!std::isfinite(d.states[i].init_value))
      problems.push_back("state slot '" + std::string(d.states[i].name) + "' has a non-finite init_value");
  return declarations(k.name(), d.doc, d.version, problems,
                      "doc and " + std::to_string(d.hparam_count) + " hyperparameter doc(s) present, " +
                          std::to_string(d.state_count) + " state slot(s), " +
                          ((d.flags & PLX_OPT_ELEMENTWISE) ? "elementwise" : "whole-tensor steps"));
}

CheckResult op_declarations(const OpKernel& k) {
  const plx_op_desc& d = k.desc();
  std::vector<std::string> problems;
  check_attr_docs(d.attrs, d.attr_count, "attribute", problems);
  for (uint32_t i = 0; i < d.param_count; ++i)
    if (blank(d.params[i].doc)) problems.push_back("parameter '" + std::string(d.params[i].name) + "' has no doc");
  for (uint32_t i = 0; i < d.input_count; ++i)
    if (blank(d.inputs[i])) problems.push_back("input " + std::to_string(i) + " has no role name");
  if (d.kind == PLX_KIND_LOSS && d.input_count != 2)
    problems.push_back("a loss takes 2 inputs (prediction, target), this one declares " +
                       std::to_string(d.input_count));
  return declarations(k.name(), d.doc, d.version, problems,
                      "doc and " + std::to_string(d.attr_count) + " attribute doc(s), " +
                          std::to_string(d.param_count) + " parameter doc(s) present");
}

// ---- ops: one forward and backward on a probe shape -------------------------------

/// Deterministic values in [-1, 1).
void fill_wave(Tensor& t, double phase) {
  for (int64_t i = 0; i < t.numel(); ++i) t.data()[i] = static_cast<float>(std::sin(1.7 * i + phase));
}

bool finite(const Tensor& t) {
  return !t.defined() || std::all_of(t.data(), t.data() + t.numel(), [](float v) { return std::isfinite(v); });
}

struct Probe {
  std::vector<Shape> inputs;
  int target = 0;  // losses: 0 one-hot rows, 1 class indices, 2 labels -1/+1
};

std::vector<Probe> probes(const plx_op_desc& d) {
  if (d.kind != PLX_KIND_LOSS)
    return {{std::vector<Shape>(d.input_count, Shape{4, 5}), 0}, {std::vector<Shape>(d.input_count, Shape{2, 3, 6, 6}), 0}};
  return {{{Shape{4, 3}, Shape{4, 3}}, 0}, {{Shape{4, 3}, Shape{4}}, 1}, {{Shape{4, 1}, Shape{4}}, 2},
          {{Shape{4}, Shape{4}}, 2}};
}

void fill_target(Tensor& t, int kind) {
  const int64_t rows = t.dim(0), cols = t.numel() / std::max<int64_t>(rows, 1);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) {
      float v = kind == 0 ? (c == r % cols ? 1.0f : 0.0f) : kind == 1 ? static_cast<float>(r % 3)
                                                                       : (r % 2 == 0 ? 1.0f : -1.0f);
      t.data()[r * cols + c] = v;
    }
}

/// Required attributes get a plausible value: i64 3, f64 0.5, bool/str their declared default.
AttrMap probe_attrs(const plx_op_desc& d) {
  AttrMap m;
  for (uint32_t i = 0; i < d.attr_count; ++i) {
    const plx_hparam_desc& a = d.attrs[i];
    if (!a.required) continue;
    const plx_value& v = a.default_value;
    if (v.type == PLX_VALUE_I64) m[a.name] = AttrValue(int64_t{3});
    else if (v.type == PLX_VALUE_F64) m[a.name] = AttrValue(0.5);
    else if (v.type == PLX_VALUE_BOOL) m[a.name] = AttrValue(v.as.boolean != 0);
    else m[a.name] = AttrValue(std::string(v.as.str ? v.as.str : ""));
  }
  return m;
}

CheckResult op_forward_backward(const OpKernel& k) {
  const std::string name = k.name() + ".forward_backward";
  const plx_op_desc& d = k.desc();
  const ResolvedAttrs attrs = k.resolve_attrs(probe_attrs(d), "conformance");
  std::string rejected;
  for (const Probe& p : probes(d)) {
    InferResult shapes;
    try {
      shapes = k.infer("conformance", attrs, p.inputs);
    } catch (const Error& e) {
      rejected += std::string(rejected.empty() ? "" : "; ") + e.what();
      continue;
    }
    std::vector<Tensor> src, params, diff_src, diff_params;
    std::string shape_text;
    for (size_t i = 0; i < p.inputs.size(); ++i) {
      src.push_back(Tensor::zeros(p.inputs[i]));
      const bool target = d.kind == PLX_KIND_LOSS && i == 1;
      target ? fill_target(src.back(), p.target) : fill_wave(src.back(), 0.3 * static_cast<double>(i));
      diff_src.push_back(target ? Tensor() : Tensor::zeros(p.inputs[i]));
      shape_text += (shape_text.empty() ? "" : ", ") + p.inputs[i].str();
    }
    for (const Shape& s : shapes.params) {
      params.push_back(Tensor::zeros(s));
      fill_wave(params.back(), 1.1);
      for (float& v : params.back().span()) v *= 0.5f;
      // State parameters (running statistics) take no gradient.
      diff_params.push_back(k.param_is_state(static_cast<uint32_t>(diff_params.size())) ? Tensor() : Tensor::zeros(s));
    }
    auto inst = k.create("conformance", attrs, p.inputs);
    Tensor workspace;
    const Tensor dst = inst->forward(src, params, /*training=*/true, /*seed=*/1, &workspace);
    if (!finite(dst)) return {name, false, "forward on " + shape_text + " wrote a non-finite value"};
    const Tensor diff_dst = Tensor::full(dst.shape(), 1.0f);
    inst->backward(src, params, dst, diff_dst, diff_src, diff_params, workspace);
    for (size_t i = 0; i < diff_src.size(); ++i)
      if (!finite(diff_src[i]))
        return {name, false, "backward on " + shape_text + " wrote a non-finite diff_src[" + std::to_string(i) + "]"};
    for (size_t i = 0; i < diff_params.size(); ++i)
      if (diff_params[i].defined() && !finite(diff_params[i]))
        return {name, false, "backward on " + shape_text + " wrote a non-finite gradient of parameter '" +
                                 d.params[i].name + "'"};
    return {name, true, "inputs " + shape_text + " -> dst " + dst.shape().str() + ": dst and gradients finite"};
  }
  return {name, false, "infer rejected every probe shape: " + rejected};
}

/// Runs `f`; an exception becomes one failed check named `name`.
template <class F>
void guarded(std::vector<CheckResult>& out, const std::string& name, F&& f) {
  try {
    f();
  } catch (const std::exception& e) {
    out.push_back({name, false, e.what()});
  }
}

}  // namespace

std::vector<CheckResult> check_plugin(const std::string& file) {
  std::vector<CheckResult> out;
  Registry registry;
  PluginLoader loader(registry);
  try {
    loader.load_file(file);
  } catch (const std::exception& e) {
    out.push_back({"handshake", false, e.what()});
    return out;
  }
  const auto& ops = registry.ops();
  const auto& opts = registry.optimizers();
  const KernelOrigin* origin = !ops.empty()    ? &ops.begin()->second->origin()
                              : !opts.empty() ? &opts.begin()->second->origin()
                                              : nullptr;
  const std::string plugin = origin ? origin->plugin + " " + origin->plugin_version : file;
  out.push_back({"handshake", true,
                 "loaded '" + plugin + "' (built for ABI " +
                     (origin ? std::to_string(origin->abi_major) + "." + std::to_string(origin->abi_minor)
                             : std::string("?")) +
                     ", runtime " + std::to_string(PLX_ABI_MAJOR) + "." + std::to_string(PLX_ABI_MINOR) +
                     "): " + std::to_string(ops.size()) + " op(s), " + std::to_string(opts.size()) + " optimizer(s)"});
  if (ops.empty() && opts.empty()) out.push_back({"kernels", false, "the plugin declares no kernels"});

  for (const auto& [name, k] : ops) {
    guarded(out, name + ".declarations", [&] { out.push_back(op_declarations(*k)); });
    guarded(out, name + ".forward_backward", [&] { out.push_back(op_forward_backward(*k)); });
  }
  for (const auto& [name, k] : opts) {
    guarded(out, name + ".declarations", [&] { out.push_back(optimizer_declarations(*k)); });
    guarded(out, name + ".hyperparameters", [&] {
      for (CheckResult& r : conformance::check_convergence(*k)) out.push_back(std::move(r));
    });
    guarded(out, name + ".hyperparameters", [&] {
      for (CheckResult& r : conformance::check_optimizer_state(*k)) out.push_back(std::move(r));
    });
  }
  return out;
}

}  // namespace plexus
