// Kernels from plugins, as the runtime sees them, and the registry by name.
//
//   plexus::Registry reg;
//   reg.add_plugin(entry(&host, &err), "/path/libplexus_layers.so");  // validates every declaration
//   const plexus::OpKernel& lin = reg.op("linear");
//   plexus::AttrMap attrs{{"out_features", plexus::AttrValue(int64_t{10})}};
//   auto resolved = lin.resolve_attrs(attrs, "fc1");
//   plexus::InferResult shapes = lin.infer("fc1", resolved, {plexus::Shape{32, 784}});
//   auto inst = lin.create("fc1", resolved, {plexus::Shape{32, 784}});
//   plexus::Value y = plexus::apply(tape, *inst, {x}, {w, b}, /*training=*/true);
//
// The registry holds descriptor pointers; whoever loaded the libraries (the
// runtime's PluginLoader) keeps them loaded for as long as the registry lives.
#ifndef PLEXUS_KERNEL_HPP
#define PLEXUS_KERNEL_HPP

#include <plexus/abi/plugin.h>
#include <plexus/error.hpp>
#include <plexus/tape.hpp>
#include <plexus/tensor.hpp>

#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <variant>
#include <vector>

namespace plexus {

/// An attribute or hyperparameter value as written in a model or on the command line.
class AttrValue {
 public:
  AttrValue() = default;
  explicit AttrValue(double v) : v_(v) {}
  explicit AttrValue(int64_t v) : v_(v) {}
  explicit AttrValue(bool v) : v_(v) {}
  explicit AttrValue(std::string v) : v_(std::move(v)) {}
  const std::variant<std::monostate, double, int64_t, bool, std::string>& get() const { return v_; }
  std::string type_name() const;  // "f64", "i64", "bool", "str"
  std::string str() const;        // the value as text
  /// Parses "0.1", "10", "true", or anything else as a string.
  static AttrValue parse(const std::string& text);

 private:
  std::variant<std::monostate, double, int64_t, bool, std::string> v_;
};

using AttrMap = std::map<std::string, AttrValue>;

const char* value_type_name(int32_t plx_value_type);
std::string value_to_string(const plx_value& v);

/// Attribute values in declaration order, with the strings they point to.
class ResolvedAttrs {
 public:
  const plx_value* data() const { return values_.data(); }
  size_t size() const { return values_.size(); }
  const plx_value& operator[](size_t i) const { return values_[i]; }

 private:
  friend ResolvedAttrs resolve_values(const plx_hparam_desc*, uint32_t, const AttrMap&, const std::string&);
  std::vector<plx_value> values_;
  std::vector<std::unique_ptr<std::string>> strings_;
};

/// Checks `given` against the declarations (unknown names, types, required
/// ones) and fills defaults. `where` prefixes messages ("node 'fc1'").
ResolvedAttrs resolve_values(const plx_hparam_desc* decl, uint32_t count, const AttrMap& given,
                             const std::string& where);

struct KernelOrigin {
  std::string file;            // the shared library
  std::string plugin;          // plx_plugin_desc.name
  std::string plugin_version;
  int32_t (*thread_budget)(void) = nullptr;  // handed to op instances; NULL reads as 1
  uint32_t abi_major = PLX_ABI_MAJOR;         // the ABI the plugin was built for
  uint32_t abi_minor = PLX_ABI_MINOR;
};

struct InferResult {
  Shape dst;
  std::vector<Shape> params;
  std::vector<std::pair<int64_t, int64_t>> fans;  // fan_in, fan_out per parameter
};

class OpInstance;

/// A layer, activation or loss from a plugin.
class OpKernel {
 public:
  /// Keeps a copy of `desc` in this runtime's struct sizes: a plugin built
  /// against an older minor (smaller plx_param_desc entries) reads the same.
  OpKernel(const plx_op_desc* desc, KernelOrigin origin);
  const plx_op_desc& desc() const { return desc_; }
  const KernelOrigin& origin() const { return origin_; }
  std::string name() const { return desc_.name; }
  int32_t kind() const { return desc_.kind; }
  int param_index(const std::string& role) const;   // -1 if none
  /// True for a PLX_PARAM_STATE parameter (running statistics; not learned).
  bool param_is_state(uint32_t i) const;
  /// True when the op declares PLX_OP_LAYOUTS (takes blocked inputs).
  bool takes_layouts() const { return (desc_.flags & PLX_OP_LAYOUTS) != 0; }
  int input_index(const std::string& role) const;   // -1 if none

  ResolvedAttrs resolve_attrs(const AttrMap& given, const std::string& node) const;
  InferResult infer(const std::string& node, const ResolvedAttrs& attrs, std::span<const Shape> inputs) const;
  /// `src_layouts` (one per input, null = plain) is used only by ops that
  /// take layouts; `layouts` lets the op choose a blocked dst. An op that
  /// refuses the given layouts (PLX_E_UNSUPPORTED) is created for plain inputs:
  /// see OpInstance::src_layouts() for what it was made for.
  std::shared_ptr<OpInstance> create(const std::string& node, const ResolvedAttrs& attrs,
                                     std::span<const Shape> inputs,
                                     std::span<const std::shared_ptr<const Layout>> src_layouts = {},
                                     bool layouts = false) const;

 private:
  plx_op_desc desc_;                   // params points into params_
  std::vector<plx_param_desc> params_;  // zero-filled past the plugin's struct_size
  KernelOrigin origin_;
};

/// Entry i of a plugin's parameter table, whose entries are
/// params[0].struct_size bytes apart (plx_param_desc grew in ABI 1.1).
const plx_param_desc& param_entry(const plx_op_desc& d, uint32_t i);

/// One plugin-created instance per (node, input shapes). forward/backward are
/// const and may run concurrently.
class OpInstance {
 public:
  OpInstance(const OpKernel& kernel, std::string node, void* handle, InferResult shapes,
             std::vector<std::shared_ptr<const Layout>> src_layouts, std::shared_ptr<const Layout> dst_layout,
             int64_t workspace_bytes);
  ~OpInstance();
  OpInstance(const OpInstance&) = delete;
  OpInstance& operator=(const OpInstance&) = delete;

  const OpKernel& kernel() const { return kernel_; }
  const std::string& node() const { return node_; }
  const InferResult& shapes() const { return shapes_; }
  /// The layout each input must arrive in (null = plain), and dst's.
  const std::vector<std::shared_ptr<const Layout>>& src_layouts() const { return src_layouts_; }
  const std::shared_ptr<const Layout>& dst_layout() const { return dst_layout_; }
  int64_t workspace_bytes() const { return workspace_bytes_; }

  /// dst = op(src; params). Allocates dst from the pool, in dst_layout(). When
  /// the op has a workspace, `workspace` receives it (for backward); pass
  /// nullptr when no backward follows. `seed` is this call's random seed.
  Tensor forward(std::span<const Tensor> src, std::span<const Tensor> params, bool training, uint64_t seed = 0,
                 Tensor* workspace = nullptr) const;
  /// Fills diff_src[i] / diff_params[j] where defined() (allocated by the caller, overwritten).
  void backward(std::span<const Tensor> src, std::span<const Tensor> params, const Tensor& dst,
                const Tensor& diff_dst, std::span<Tensor> diff_src, std::span<Tensor> diff_params,
                const Tensor& workspace = Tensor()) const;
  /// Losses: (correct, counted), or (0, 0) if the loss has no metric.
  std::pair<int64_t, int64_t> metric(const Tensor& prediction, const Tensor& target) const;
  /// Limits the calling thread's OpenMP team to one thread while it lives,
  /// when `serial` is true (RAII; restores the previous team size).
  class SerialTeam {
   public:
    explicit SerialTeam(bool serial);
    ~SerialTeam();
    SerialTeam(const SerialTeam&) = delete;
    SerialTeam& operator=(const SerialTeam&) = delete;

   private:
    int previous_ = 0;
  };

 private:
  friend class OpKernel;
  [[noreturn]] void fail(const char* what, int32_t code, const plx_error& err) const;
  const OpKernel& kernel_;
  std::string node_;
  void* handle_;
  InferResult shapes_;
  std::vector<std::shared_ptr<const Layout>> src_layouts_;
  std::shared_ptr<const Layout> dst_layout_;
  int64_t workspace_bytes_ = 0;
  bool serial_ = false;  // created and run on one OpenMP thread (kernel.cpp, kSerialElements)
};

/// Runs `inst` on values of `tape`: inputs then params, in declared order.
/// Records a node whose backward calls the plugin's backward. Inputs are
/// reordered to the layouts the instance was made for (a tape node each, so
/// gradients flow back in the input's own layout). State parameters get no
/// gradient.
Value apply(Tape& tape, const std::shared_ptr<const OpInstance>& inst, std::span<const Value> src,
            std::span<const Value> params, bool training, uint64_t seed = 0);

/// `v` in plain layout, recorded on the tape (its backward reorders back).
Value to_plain(Tape& tape, const Value& v);
/// `v` in `layout`, recorded on the tape.
Value to_layout(Tape& tape, const Value& v, const std::shared_ptr<const Layout>& layout);

/// An optimizer from a plugin.
class OptimizerKernel {
 public:
  OptimizerKernel(const plx_optimizer_desc* desc, KernelOrigin origin) : desc_(desc), origin_(std::move(origin)) {}
  const plx_optimizer_desc& desc() const { return *desc_; }
  const KernelOrigin& origin() const { return origin_; }
  std::string name() const { return desc_->name; }
  ResolvedAttrs resolve_hparams(const AttrMap& given) const;
  /// One update of one parameter over [begin, end) of its elements.
  void step(const std::string& param_name, int64_t t, double lr, const ResolvedAttrs& hparams, Tensor& param,
            const Tensor& grad, std::span<Tensor> state, int64_t begin, int64_t end) const;

 private:
  const plx_optimizer_desc* desc_;
  KernelOrigin origin_;
};

/// Kernels by name. Adding a plugin validates every declaration first and adds
/// nothing if any is malformed or a name is taken.
class Registry {
 public:
  /// Throws Error(kAbi / kPlugin) naming `origin.file` and the problem.
  /// `thread_budget` is what op instances of this plugin are told (see plx_instance_args).
  void add_plugin(const plx_plugin_desc* desc, const std::string& file, int32_t (*thread_budget)(void) = nullptr);

  const OpKernel* find_op(const std::string& name) const;
  const OptimizerKernel* find_optimizer(const std::string& name) const;
  /// Like find_*, but throws kNotFound listing the known names.
  const OpKernel& op(const std::string& name) const;
  const OptimizerKernel& optimizer(const std::string& name) const;

  const std::map<std::string, std::unique_ptr<OpKernel>>& ops() const { return ops_; }
  const std::map<std::string, std::unique_ptr<OptimizerKernel>>& optimizers() const { return optimizers_; }
  std::string known_ops() const;         // "linear, relu, ..."
  std::string known_optimizers() const;

 private:
  std::map<std::string, std::unique_ptr<OpKernel>> ops_;
  std::map<std::string, std::unique_ptr<OptimizerKernel>> optimizers_;
};

}  // namespace plexus

#endif
