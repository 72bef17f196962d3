// plexus::Model: a validated model definition, its parameters, and a forward
// pass that runs the graph on a tape (define-by-run: walked anew each step).
//
//   plexus::Runtime rt;
//   plexus::Model model(rt, "models/mnist_mlp.pbtxt");
//   model.init_params(/*seed=*/1);            // or model.load_weights("mnist.ckpt")
//   plexus::Tape tape;
//   auto fw = model.forward(tape, {{"image", x}, {"label", y}}, /*training=*/true);
//   tape.backward(fw.loss);
//   plexus::Tensor g = tape.grad(fw.params.at("fc1.weights"));
//
// Thread safety: forward() is const and may run from several threads at once
// (each with its own Tape); parameters are read, never written, by it.
// init_params, load_weights and a Trainer write them: never while another
// thread runs the model. A Model keeps its Runtime's plugins loaded; a Session
// must not outlive its Model.
#ifndef PLEXUS_MODEL_HPP
#define PLEXUS_MODEL_HPP

#include <plexus/kernel.hpp>
#include <plexus/runtime.hpp>
#include <plexus/tape.hpp>

#include "plexus.pb.h"

#include <atomic>
#include <iterator>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace plexus {

/// Values by name, as a Model::Forward hands them out: the model's fixed
/// list of names (built once, shared) and one slot per name, so a forward
/// pass fills slots by index instead of building a map. Reads like a const
/// std::map<std::string, Value> (at, find, count, iteration yielding
/// [name, value]) over the names whose value was made, in definition order.
class NamedValues {
 public:
  struct Names {
    std::vector<std::string> list;
    std::map<std::string, uint32_t, std::less<>> index;
    /// Appends `name`; returns its slot.
    uint32_t add(const std::string& name);
  };
  using value_type = std::pair<const std::string&, const Value&>;
  class const_iterator {
   public:
    using iterator_category = std::forward_iterator_tag;
    using value_type = NamedValues::value_type;
    using difference_type = std::ptrdiff_t;
    using pointer = void;
    using reference = value_type;
    struct Arrow {
      value_type pair;
      const value_type* operator->() const { return &pair; }
    };
    const_iterator() = default;
    value_type operator*() const { return {m_->names_->list[i_], m_->slots_[i_]}; }
    Arrow operator->() const { return {**this}; }
    const_iterator& operator++() {
      ++i_;
      skip();
      return *this;
    }
    const_iterator operator++(int) {
      const_iterator t = *this;
      ++*this;
      return t;
    }
    bool operator==(const const_iterator& o) const { return i_ == o.i_; }

   private:
    friend class NamedValues;
    const_iterator(const NamedValues* m, size_t i) : m_(m), i_(i) { skip(); }
    void skip() {
      while (i_ < m_->slots_.size() && !m_->slots_[i_].valid()) ++i_;
    }
    const NamedValues* m_ = nullptr;
    size_t i_ = 0;
  };
  using iterator = const_iterator;

  NamedValues() = default;
  explicit NamedValues(std::shared_ptr<const Names> names)
      : names_(std::move(names)), slots_(names_->list.size()) {}

  /// Throws std::out_of_range if `name` has no value here.
  const Value& at(std::string_view name) const;
  const_iterator find(std::string_view name) const;
  size_t count(std::string_view name) const { return find(name) == end() ? 0 : 1; }
  const_iterator begin() const { return {this, 0}; }
  const_iterator end() const { return {this, slots_.size()}; }
  /// The number of names with a value.
  size_t size() const;
  bool empty() const { return size() == 0; }

  /// The slot of `name`, whether or not it has a value; throws
  /// std::out_of_range if the model has no such name.
  uint32_t slot_of(std::string_view name) const;
  /// Slot access by the index Names::add returned.
  Value& slot(uint32_t i) { return slots_[i]; }
  const Value& slot(uint32_t i) const { return slots_[i]; }

 private:
  std::shared_ptr<const Names> names_;
  std::vector<Value> slots_;
};

/// Reads a ModelDef: text format (.pbtxt, .prototxt, .txt) or binary (anything
/// else that parses as binary). Errors name the file, line and column.
proto::ModelDef load_model_def(const std::string& path);
/// Parses text format; `source` names the origin in messages.
proto::ModelDef parse_model_def_text(const std::string& text, const std::string& source);
/// Sets model variables (ModelDef.vars, the counts of repeated blocks) as
/// `--set NAME=VALUE` does; an unknown name or a negative value is an error
/// naming `source`. Apply before constructing the Model.
void set_model_vars(proto::ModelDef& def, const std::map<std::string, int64_t>& values, const std::string& source);
/// `def` with every RepeatDef unrolled into plain nodes (see plexus.proto):
/// what a Model runs. Errors name `source`, the repeat and the field.
proto::ModelDef unroll_repeats(const proto::ModelDef& def, const std::string& source);

class Model {
 public:
  /// Validates `def` against the runtime's kernels: unknown kernels, duplicate
  /// names, dangling inputs, cycles, attribute names and types, parameter
  /// roles, shapes (inferred at batch 1), shared parameters of differing
  /// shapes, the loss and output nodes. Each error names `source`, the node and the field.
  Model(const Runtime& runtime, proto::ModelDef def, std::string source);
  /// Loads and validates the model definition at `path` (load_model_def).
  Model(const Runtime& runtime, const std::string& path);
  ~Model();
  Model(const Model&) = delete;
  Model& operator=(const Model&) = delete;

  /// The definition as run: repeats unrolled into nodes (plexus.proto RepeatDef).
  const proto::ModelDef& def() const { return def_; }
  const std::string& source() const { return source_; }
  const RuntimeContext& context() const { return *ctx_; }
  const std::shared_ptr<const RuntimeContext>& shared_context() const { return ctx_; }

  /// Parameter names in order of first use, with shapes.
  /// Parameter names in order of first use, with shapes: learned ones and
  /// states (PLX_PARAM_STATE, e.g. batch norm's running statistics) alike.
  /// Checkpoints hold all of them.
  const std::vector<std::pair<std::string, Shape>>& param_shapes() const { return param_shapes_; }
  /// The learned parameters only: what an optimizer updates.
  const std::vector<std::pair<std::string, Shape>>& learned_param_shapes() const { return learned_shapes_; }
  bool is_state_param(const std::string& name) const;
  Tensor& param(const std::string& name);
  const Tensor& param(const std::string& name) const;
  /// Fills every parameter with its initializer; seeds derive from `seed` and the name.
  void init_params(uint64_t seed);
  /// Reads the parameters from a checkpoint file (save_weights or a
  /// Trainer's), checking every name and shape; on error nothing changes.
  void load_weights(const std::string& checkpoint_path);
  /// Writes the definition and the parameters as a checkpoint (atomically).
  void save_weights(const std::string& checkpoint_path) const;
  /// True once init_params, load_weights or load_params has set the parameters.
  bool params_set() const { return params_set_; }
  void mark_params_set() { params_set_ = true; }
  /// Sessions running this model now alive.
  int live_sessions() const { return live_sessions_.load(); }

  /// Model inputs fed from the data set's features / labels.
  const std::string& feature_input() const { return feature_input_; }
  const std::string& label_input() const { return label_input_; }
  /// Per-sample shape of an input (no batch dimension).
  Shape input_shape(const std::string& name) const;

  struct Forward {
    Value output;                          // the prediction node
    Value loss;                            // valid if with_loss
    NamedValues params;                    // the parameter leaves of this step, by name
    NamedValues values;                    // every input and node that ran, by name
    std::shared_ptr<const OpInstance> loss_instance;
    Value loss_src, loss_target;           // what the loss read: prediction and target
    /// (correct, counted) by the loss kernel's metric; (0, 0) without one.
    std::pair<int64_t, int64_t> metric() const;
  };
  /// Runs the graph. `feeds` maps input names to batch-first tensors.
  /// `training` selects the train mode of every node (batch statistics,
  /// dropout) and makes the learned parameters leaves requiring grad (if grad
  /// is enabled). `seed` feeds the random ops of this call (dropout): each
  /// node draws from a seed derived from it and the node. The output is plain
  /// row-major; `values` may hold blocked tensors (see plexus/layout.hpp).
  /// `rewrite` lets the graph run in a form with the same output, loss and
  /// parameter gradients but other intermediate values: a relu read only by
  /// a max_pool2d (a relu node, or a conv2d's activation relu) runs after the
  /// pool instead, on a quarter of the floats; that relu or conv2d node is
  /// then not in `values`. Trainer steps rewrite; Session::run does not.
  Forward forward(Tape& tape, const std::map<std::string, Tensor>& feeds, bool training, bool with_loss,
                  uint64_t seed = 0, bool rewrite = false) const;

 private:
  struct NodePlan;
  friend class Session;
  std::shared_ptr<const OpInstance> instance(const NodePlan& p, std::span<const Shape> inputs,
                                            std::span<const std::shared_ptr<const Layout>> layouts) const;
  void validate();
  void plan_relu_after_pool(const Registry& reg);

  std::shared_ptr<const RuntimeContext> ctx_;
  proto::ModelDef def_;
  std::string source_;
  std::vector<NodePlan> plan_;             // nodes in a valid execution order
  // Slots of Forward::values (inputs, then nodes in plan order) and of
  // Forward::params (param_shapes_ order), with each parameter's tensor.
  std::shared_ptr<NamedValues::Names> value_names_, param_names_;
  std::vector<Tensor*> param_tensors_;
  std::vector<char> param_learned_;
  std::vector<std::pair<std::string, Shape>> param_shapes_;
  std::vector<std::pair<std::string, Shape>> learned_shapes_;
  std::set<std::string> state_params_;
  std::map<std::string, Tensor> params_;
  std::map<std::string, proto::Initializer> inits_;
  std::map<std::string, std::pair<int64_t, int64_t>> fans_;
  std::map<std::string, int32_t> default_inits_;
  std::map<std::string, double> default_init_values_;
  std::string feature_input_, label_input_;
  mutable std::mutex cache_mu_;
  bool params_set_ = false;
  mutable std::atomic<int> live_sessions_{0};
};

}  // namespace plexus

#endif
