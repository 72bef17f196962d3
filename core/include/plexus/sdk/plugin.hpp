// Plexus plugin SDK: header-only C++ over the C ABI in plexus/abi/plugin.h.
//
// A plugin author writes ordinary classes and one export macro:
//
//   #include <plexus/sdk/plugin.hpp>
//   namespace sdk = plexus::sdk;
//
//   struct Relu : sdk::OpDefaults {
//     static constexpr const char* name = "relu";
//     static constexpr int32_t kind = PLX_KIND_ACTIVATION;
//     static constexpr uint32_t flags = PLX_OP_SAVES_DST;
//     static constexpr const char* doc = "dst = max(src, 0)";
//     static void infer(sdk::InferContext& ctx) { ctx.set_dst(ctx.input(0)); }
//     explicit Relu(const sdk::InstanceContext&) {}
//     void forward(sdk::ForwardContext& ctx) const;
//     void backward(sdk::BackwardContext& ctx) const;
//   };
//
//   struct Sgd : sdk::OptimizerDefaults {
//     static constexpr const char* name = "sgd";
//     static constexpr const char* doc = "theta <- theta - lr g";
//     static void step(sdk::StepContext& ctx);
//   };
//
//   PLEXUS_PLUGIN("my-plugin", "1.0.0", Relu, Sgd)
//
// Every call into the plugin goes through a guard that turns exceptions into
// plx_error codes; throw sdk::Error(PLX_E_INVALID, "...") for a clean message.
// Ops are instantiated once per graph node and input shapes; forward and
// backward must be const (they may run concurrently on one instance).
#ifndef PLEXUS_SDK_PLUGIN_HPP
#define PLEXUS_SDK_PLUGIN_HPP

#include <plexus/abi/plugin.h>

#include <array>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <initializer_list>
#include <new>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>

#define PLEXUS_SDK_VERSION "0.1.0"

namespace plexus::sdk {

/// Thrown by plugin code; the guard turns it into (code, message).
class Error : public std::runtime_error {
 public:
  Error(int32_t code, const std::string& message) : std::runtime_error(message), code_(code) {}
  int32_t code() const noexcept { return code_; }

 private:
  int32_t code_;
};

// ---- declarations -----------------------------------------------------------

/// An attribute (ops) or hyperparameter (optimizers) with a typed default.
struct Attr {
  const char* name;
  plx_value value;
  int32_t required;
  const char* doc;

  static constexpr Attr f64(const char* n, double d, const char* doc) {
    plx_value v{};
    v.type = PLX_VALUE_F64;
    v.as.f64 = d;
    return {n, v, 0, doc};
  }
  static constexpr Attr i64(const char* n, int64_t d, const char* doc) {
    plx_value v{};
    v.type = PLX_VALUE_I64;
    v.as.i64 = d;
    return {n, v, 0, doc};
  }
  static constexpr Attr boolean(const char* n, bool d, const char* doc) {
    plx_value v{};
    v.type = PLX_VALUE_BOOL;
    v.as.boolean = d ? 1 : 0;
    return {n, v, 0, doc};
  }
  static constexpr Attr str(const char* n, const char* d, const char* doc) {
    plx_value v{};
    v.type = PLX_VALUE_STR;
    v.as.str = d;
    return {n, v, 0, doc};
  }
  /// The model must give this attribute; `d` only fixes its type.
  constexpr Attr required_value() const {
    Attr a = *this;
    a.required = 1;
    return a;
  }
};

/// A parameter of a layer and its default initializer. flags = PLX_PARAM_STATE
/// makes it a non-learned state the forward updates (running statistics).
struct Param {
  const char* name;
  int32_t init;
  double init_value;
  const char* doc;
  uint32_t flags = 0;
};

/// An optimizer state slot.
struct State {
  const char* name;
  int32_t shape_rule;
  double init_value;
};

/// Defaults an op class inherits and may shadow.
struct OpDefaults {
  static constexpr uint32_t version = 1;
  static constexpr uint32_t flags = 0;
  static constexpr std::array<Attr, 0> attrs{};
  static constexpr std::array<const char*, 1> inputs{"src"};
  static constexpr std::array<Param, 0> params{};
};

/// Defaults an optimizer class inherits and may shadow.
struct OptimizerDefaults {
  static constexpr int32_t kind = PLX_KIND_OPTIMIZER;
  static constexpr uint32_t version = 1;
  static constexpr uint32_t flags = PLX_OPT_ELEMENTWISE;
  static constexpr std::array<Attr, 0> hparams{};
  static constexpr std::array<State, 0> states{};
};

// ---- values at call time ----------------------------------------------------

/// A shape by value (at most PLX_MAX_NDIM dimensions).
class Shape {
 public:
  Shape() = default;
  Shape(std::initializer_list<int64_t> dims) {
    if (dims.size() > PLX_MAX_NDIM) throw Error(PLX_E_INVALID, "shape has more than 8 dimensions");
    for (int64_t d : dims) s_.dims[s_.ndim++] = d;
  }
  explicit Shape(const plx_shape& s) : s_(s) {}
  int ndim() const { return s_.ndim; }
  int64_t operator[](int i) const { return s_.dims[i]; }
  int64_t numel() const {
    int64_t n = 1;
    for (int i = 0; i < s_.ndim; ++i) n *= s_.dims[i];
    return n;
  }
  const plx_shape& raw() const { return s_; }
  bool operator==(const Shape& o) const {
    if (s_.ndim != o.s_.ndim) return false;
    for (int i = 0; i < s_.ndim; ++i)
      if (s_.dims[i] != o.s_.dims[i]) return false;
    return true;
  }
  std::string str() const {
    std::string r = "[";
    for (int i = 0; i < s_.ndim; ++i) r += (i ? ", " : "") + std::to_string(s_.dims[i]);
    return r + "]";
  }

 private:
  plx_shape s_{};
};

/// A non-owning f32 tensor view. `present()` is false for an absent tensor.
class Tensor {
 public:
  explicit Tensor(const plx_tensor_view* v) : v_(v) {}
  bool present() const { return v_ != nullptr && v_->data != nullptr; }
  float* data() const { return static_cast<float*>(v_->data); }
  int64_t numel() const { return v_->numel; }
  int ndim() const { return v_->ndim; }
  int64_t dim(int i) const { return v_->shape[i]; }
  /// NULL for plain row-major data; otherwise a const dnnl_memory_desc_t*
  /// (only ops declaring PLX_OP_LAYOUTS ever see one).
  const void* layout() const { return v_->layout; }
  Shape shape() const {
    plx_shape s{};
    s.ndim = v_->ndim;
    for (int i = 0; i < v_->ndim; ++i) s.dims[i] = v_->shape[i];
    return Shape(s);
  }
  const plx_tensor_view& raw() const { return *v_; }

 private:
  const plx_tensor_view* v_;
};

/// Resolved attribute values, looked up by declared name.
class Attrs {
 public:
  Attrs(const plx_value* values, std::span<const Attr> decl) : values_(values), decl_(decl) {}
  double f64(std::string_view n) const { return get(n, PLX_VALUE_F64).as.f64; }
  int64_t i64(std::string_view n) const { return get(n, PLX_VALUE_I64).as.i64; }
  bool boolean(std::string_view n) const { return get(n, PLX_VALUE_BOOL).as.boolean != 0; }
  std::string_view str(std::string_view n) const { return get(n, PLX_VALUE_STR).as.str; }

 private:
  const plx_value& get(std::string_view n, int32_t type) const {
    for (size_t i = 0; i < decl_.size(); ++i) {
      if (n == decl_[i].name) {
        if (decl_[i].value.type != type)
          throw Error(PLX_E_INTERNAL, "attribute '" + std::string(n) + "' read with the wrong type");
        return values_[i];
      }
    }
    throw Error(PLX_E_INTERNAL, "attribute '" + std::string(n) + "' is not declared");
  }
  const plx_value* values_;
  std::span<const Attr> decl_;
};

class InferContext {
 public:
  InferContext(const plx_infer_args* a, std::span<const Attr> decl, uint32_t param_count)
      : a_(a), attrs_(a->attrs, decl), param_count_(param_count) {}
  const char* node_name() const { return a_->node_name; }
  const Attrs& attrs() const { return attrs_; }
  uint32_t input_count() const { return a_->input_count; }
  Shape input(uint32_t i) const { return Shape(a_->inputs[i]); }
  void set_dst(const Shape& s) const { *a_->dst = s.raw(); }
  /// Declares parameter i's shape and its fans (for xavier/he initializers).
  void set_param(uint32_t i, const Shape& s, int64_t fan_in, int64_t fan_out) const {
    if (i >= param_count_) throw Error(PLX_E_INTERNAL, "set_param index out of range");
    a_->params[i] = s.raw();
    a_->fan[2 * i] = fan_in;
    a_->fan[2 * i + 1] = fan_out;
  }
  /// Throws a PLX_E_INVALID error naming the node.
  [[noreturn]] void fail(const std::string& what) const {
    throw Error(PLX_E_INVALID, "node '" + std::string(a_->node_name) + "': " + what);
  }

 private:
  const plx_infer_args* a_;
  Attrs attrs_;
  uint32_t param_count_;
};

class InstanceContext {
 public:
  InstanceContext(const plx_instance_args* a, std::span<const Attr> decl) : a_(a), attrs_(a->attrs, decl) {}
  const char* node_name() const { return a_->node_name; }
  const Attrs& attrs() const { return attrs_; }
  uint32_t input_count() const { return a_->input_count; }
  Shape input(uint32_t i) const { return Shape(a_->inputs[i]); }
  int32_t thread_budget() const { return a_->thread_budget ? a_->thread_budget() : 1; }
  /// The layout input i will arrive in (NULL = plain); PLX_OP_LAYOUTS ops only.
  const void* src_layout(uint32_t i) const {
    return has(PLX_END_OF(plx_instance_args, src_layouts)) && a_->src_layouts ? a_->src_layouts[i] : nullptr;
  }
  /// True when the op may choose a blocked dst layout.
  bool layouts_enabled() const { return has(PLX_END_OF(plx_instance_args, layouts_enabled)) && a_->layouts_enabled; }
  /// dst's layout (a const dnnl_memory_desc_t* the instance keeps alive), NULL = plain.
  void set_dst_layout(const void* md) const {
    if (md != nullptr && !layouts_enabled()) throw Error(PLX_E_INTERNAL, "set_dst_layout while layouts are disabled");
    if (has(PLX_END_OF(plx_instance_args, dst_layout)) && a_->dst_layout) *a_->dst_layout = md;
  }
  /// Bytes of workspace each forward writes and its backward reads.
  void set_workspace_bytes(int64_t bytes) const {
    if (!has(PLX_END_OF(plx_instance_args, workspace_bytes)) || a_->workspace_bytes == nullptr)
      throw Error(PLX_E_UNSUPPORTED, "this runtime offers no workspace (plugin ABI 1.0)");
    *a_->workspace_bytes = bytes;
  }
  using AllocFn = void* (*)(size_t);
  using FreeFn = void (*)(void*, size_t);
  /// The runtime's pooled scratch allocator (NULL functions from an older runtime).
  AllocFn scratch_alloc() const { return has(PLX_END_OF(plx_instance_args, scratch_alloc)) ? a_->scratch_alloc : nullptr; }
  FreeFn scratch_free() const { return has(PLX_END_OF(plx_instance_args, scratch_free)) ? a_->scratch_free : nullptr; }

 private:
  bool has(size_t end) const { return a_->struct_size >= end; }
  const plx_instance_args* a_;
  Attrs attrs_;
};

class ForwardContext {
 public:
  explicit ForwardContext(const plx_forward_args* a) : a_(a) {}
  Tensor src(uint32_t i) const { return Tensor(&a_->src[i]); }
  Tensor param(uint32_t i) const { return Tensor(&a_->params[i]); }
  Tensor dst() const { return Tensor(&a_->dst); }
  bool training() const { return a_->training != 0; }
  /// The workspace_bytes asked for at create, for this call (NULL if none).
  void* workspace() const { return a_->workspace; }
  /// This call's random seed.
  uint64_t seed() const { return a_->seed; }

 private:
  const plx_forward_args* a_;
};

class BackwardContext {
 public:
  explicit BackwardContext(const plx_backward_args* a) : a_(a) {}
  Tensor src(uint32_t i) const { return Tensor(&a_->src[i]); }
  Tensor param(uint32_t i) const { return Tensor(&a_->params[i]); }
  Tensor dst() const { return Tensor(&a_->dst); }
  Tensor diff_dst() const { return Tensor(&a_->diff_dst); }
  /// Absent (present() == false) when no gradient is wanted for input i.
  Tensor diff_src(uint32_t i) const { return Tensor(&a_->diff_src[i]); }
  Tensor diff_param(uint32_t i) const { return Tensor(&a_->diff_params[i]); }
  /// What the matching forward wrote to its workspace (NULL if none).
  const void* workspace() const { return a_->workspace; }

 private:
  const plx_backward_args* a_;
};

class MetricContext {
 public:
  explicit MetricContext(const plx_metric_args* a) : a_(a) {}
  Tensor prediction() const { return Tensor(&a_->src[0]); }
  Tensor target() const { return Tensor(&a_->src[1]); }
  void set(int64_t correct, int64_t counted) const {
    *a_->correct = correct;
    *a_->counted = counted;
  }

 private:
  const plx_metric_args* a_;
};

class StepContext {
 public:
  StepContext(const plx_step_args* a, std::span<const Attr> hdecl, std::span<const State> sdecl)
      : a_(a), hparams_(a->hparams, hdecl), sdecl_(sdecl) {}
  const char* param_name() const { return a_->param_name; }
  int64_t step() const { return a_->step; }
  double lr() const { return a_->lr; }
  const Attrs& hparams() const { return hparams_; }
  Tensor param() const { return Tensor(&a_->param); }
  Tensor grad() const { return Tensor(&a_->grad); }
  Tensor state(std::string_view n) const {
    for (size_t i = 0; i < sdecl_.size(); ++i)
      if (n == sdecl_[i].name) return Tensor(&a_->state[i]);
    throw Error(PLX_E_INTERNAL, "state slot '" + std::string(n) + "' is not declared");
  }
  /// The element range [begin, end) this call must update.
  int64_t begin() const { return a_->begin; }
  int64_t end() const { return a_->end; }

 private:
  const plx_step_args* a_;
  Attrs hparams_;
  std::span<const State> sdecl_;
};

// ---- plumbing ---------------------------------------------------------------
namespace detail {

inline void write_error(plx_error* err, int32_t code, const char* msg) {
  if (err == nullptr) return;
  err->code = code;
  std::snprintf(err->message, sizeof(err->message), "%s", msg);
}

/// Runs f; converts any exception into a status code and message.
template <class F>
int32_t guard(plx_error* err, F&& f) noexcept {
  try {
    f();
    return PLX_OK;
  } catch (const Error& e) {
    write_error(err, e.code(), e.what());
    return e.code();
  } catch (const std::bad_alloc&) {
    write_error(err, PLX_E_INTERNAL, "out of memory");
    return PLX_E_INTERNAL;
  } catch (const std::exception& e) {
    write_error(err, PLX_E_INTERNAL, e.what());
    return PLX_E_INTERNAL;
  } catch (...) {
    write_error(err, PLX_E_INTERNAL, "unknown exception in plugin");
    return PLX_E_INTERNAL;
  }
}

template <size_t N>
constexpr std::array<plx_hparam_desc, N> hparam_table(const std::array<Attr, N>& a) {
  std::array<plx_hparam_desc, N> r{};
  for (size_t i = 0; i < N; ++i)
    r[i] = plx_hparam_desc{sizeof(plx_hparam_desc), a[i].name, a[i].value, a[i].required, 0, a[i].doc};
  return r;
}

template <size_t N>
constexpr std::array<plx_param_desc, N> param_table(const std::array<Param, N>& a) {
  std::array<plx_param_desc, N> r{};
  for (size_t i = 0; i < N; ++i)
    r[i] = plx_param_desc{sizeof(plx_param_desc), a[i].name, a[i].init, 0, a[i].init_value, a[i].doc, a[i].flags, 0};
  return r;
}

template <size_t N>
constexpr std::array<plx_state_desc, N> state_table(const std::array<State, N>& a) {
  std::array<plx_state_desc, N> r{};
  for (size_t i = 0; i < N; ++i)
    r[i] = plx_state_desc{sizeof(plx_state_desc), a[i].name, a[i].shape_rule, 0, a[i].init_value};
  return r;
}

template <class T>
constexpr std::span<const Attr> attr_span() {
  return std::span<const Attr>(T::attrs.data(), T::attrs.size());
}

template <class T>
struct OpEntry {
  static int32_t infer(const plx_infer_args* a, plx_error* e) {
    return guard(e, [&] {
      InferContext ctx(a, attr_span<T>(), static_cast<uint32_t>(T::params.size()));
      T::infer(ctx);
    });
  }
  static int32_t create(const plx_instance_args* a, void** instance, plx_error* e) {
    return guard(e, [&] { *instance = new T(InstanceContext(a, attr_span<T>())); });
  }
  static void destroy(void* p) { delete static_cast<T*>(p); }
  static int32_t forward(const plx_forward_args* a, plx_error* e) {
    return guard(e, [&] {
      ForwardContext ctx(a);
      static_cast<const T*>(a->instance)->forward(ctx);
    });
  }
  static int32_t backward(const plx_backward_args* a, plx_error* e) {
    return guard(e, [&] {
      BackwardContext ctx(a);
      static_cast<const T*>(a->instance)->backward(ctx);
    });
  }
  static int32_t metric(const plx_metric_args* a, plx_error* e) {
    return guard(e, [&] {
      MetricContext ctx(a);
      static_cast<const T*>(a->instance)->metric(ctx);
    });
  }
  static constexpr bool has_metric = requires(const T& t, MetricContext& c) { t.metric(c); };
  using MetricFn = int32_t (*)(const plx_metric_args*, plx_error*);
  /// The metric entry, or NULL when the kernel defines no metric().
  static constexpr MetricFn metric_entry() {
    if constexpr (has_metric) return &metric;
    else return nullptr;
  }

  static inline const auto attrs = hparam_table(T::attrs);
  static inline const auto params = param_table(T::params);
  static inline const plx_op_desc desc = {
      sizeof(plx_op_desc), T::kind, T::flags, T::name, T::version, 0, T::doc,
      static_cast<uint32_t>(T::attrs.size()), attrs.data(),
      static_cast<uint32_t>(T::inputs.size()), T::inputs.data(),
      static_cast<uint32_t>(T::params.size()), params.data(),
      &infer, &create, &destroy, &forward, &backward, metric_entry()};
};

template <class T>
struct OptimizerEntry {
  static int32_t step(const plx_step_args* a, plx_error* e) {
    return guard(e, [&] {
      StepContext ctx(a, std::span<const Attr>(T::hparams.data(), T::hparams.size()),
                      std::span<const State>(T::states.data(), T::states.size()));
      T::step(ctx);
    });
  }
  static inline const auto hparams = hparam_table(T::hparams);
  static inline const auto states = state_table(T::states);
  static inline const plx_optimizer_desc desc = {
      sizeof(plx_optimizer_desc), T::name, T::version, T::flags, T::doc,
      static_cast<uint32_t>(T::hparams.size()), hparams.data(),
      static_cast<uint32_t>(T::states.size()), states.data(), &step};
};

template <class T>
constexpr bool is_optimizer = T::kind == PLX_KIND_OPTIMIZER;

template <class... Ks>
constexpr size_t count_optimizers() {
  return (size_t{0} + ... + (is_optimizer<Ks> ? 1 : 0));
}

template <class... Ks>
struct Tables {
  static constexpr size_t kOpt = count_optimizers<Ks...>();
  static constexpr size_t kOps = sizeof...(Ks) - kOpt;
  // +1 keeps the arrays non-empty; the counts say how many are used.
  std::array<const plx_op_desc*, kOps + 1> ops{};
  std::array<const plx_optimizer_desc*, kOpt + 1> optimizers{};
  Tables() {
    size_t o = 0, p = 0;
    (add<Ks>(o, p), ...);
  }
  template <class K>
  void add(size_t& o, size_t& p) {
    if constexpr (is_optimizer<K>)
      optimizers[p++] = &OptimizerEntry<K>::desc;
    else
      ops[o++] = &OpEntry<K>::desc;
  }
};

template <class... Ks>
const plx_plugin_desc* plugin_entry(const char* name, const char* version, const plx_host* host,
                                    plx_error* err) {
  if (host == nullptr || host->abi_major != PLX_ABI_MAJOR || host->abi_minor < PLX_ABI_MINOR) {
    char msg[256];
    std::snprintf(msg, sizeof msg, "plugin '%s' needs plugin ABI %d.%d or a newer 1.x; the runtime offers %u.%u",
                  name, PLX_ABI_MAJOR, PLX_ABI_MINOR, host ? host->abi_major : 0u, host ? host->abi_minor : 0u);
    write_error(err, PLX_E_ABI, msg);
    return nullptr;
  }
  static const Tables<Ks...> tables;
  static const plx_plugin_desc desc = {
      PLX_ABI_MAJOR, PLX_ABI_MINOR, sizeof(plx_plugin_desc), name, version, PLEXUS_SDK_VERSION,
      static_cast<uint32_t>(Tables<Ks...>::kOps), tables.ops.data(),
      static_cast<uint32_t>(Tables<Ks...>::kOpt), tables.optimizers.data()};
  return &desc;
}

}  // namespace detail
}  // namespace plexus::sdk

/// Exports the plugin's one entry symbol listing its kernel classes.
#define PLEXUS_PLUGIN(NAME, VERSION, ...)                                                         \
  extern "C" __attribute__((visibility("default"))) const plx_plugin_desc* plexus_plugin_entry( \
      const plx_host* host, plx_error* err) {                                                     \
    return ::plexus::sdk::detail::plugin_entry<__VA_ARGS__>(NAME, VERSION, host, err);            \
  }

#endif  // PLEXUS_SDK_PLUGIN_HPP
