// plexus::Model: a validated model definition, its parameters, and a forward
// pass that runs the graph on a tape (define-by-run: walked anew each step).
//
//   plexus::Runtime rt;
//   plexus::Model model(rt, plexus::load_model_def(path), path);
//   model.init_params(/*seed=*/1);
//   plexus::Tape tape;
//   auto fw = model.forward(tape, {{"image", x}, {"label", y}}, /*training=*/true);
//   tape.backward(fw.loss);
//   plexus::Tensor g = tape.grad(fw.params.at("fc1.weights"));
#ifndef PLEXUS_MODEL_HPP
#define PLEXUS_MODEL_HPP

#include <plexus/kernel.hpp>
#include <plexus/runtime.hpp>
#include <plexus/tape.hpp>

#include "plexus.pb.h"

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace plexus {

/// Reads a ModelDef: text format (.pbtxt, .prototxt, .txt) or binary (anything
/// else that parses as binary). Errors name the file, line and column.
proto::ModelDef load_model_def(const std::string& path);
/// Parses text format; `source` names the origin in messages.
proto::ModelDef parse_model_def_text(const std::string& text, const std::string& source);

class Model {
 public:
  /// Validates `def` against the runtime's kernels: unknown kernels, duplicate
  /// names, dangling inputs, cycles, attribute names and types, parameter
  /// roles, shapes (inferred at batch 1), shared parameters of differing
  /// shapes, the loss and output nodes. Each error names `source`, the node and the field.
  Model(const Runtime& runtime, proto::ModelDef def, std::string source);
  ~Model();

  const proto::ModelDef& def() const { return def_; }
  const std::string& source() const { return source_; }
  const Runtime& runtime() const { return runtime_; }

  /// Parameter names in order of first use, with shapes.
  const std::vector<std::pair<std::string, Shape>>& param_shapes() const { return param_shapes_; }
  Tensor& param(const std::string& name);
  const Tensor& param(const std::string& name) const;
  /// Fills every parameter with its initializer; seeds derive from `seed` and the name.
  void init_params(uint64_t seed);

  /// Model inputs fed from the data set's features / labels.
  const std::string& feature_input() const { return feature_input_; }
  const std::string& label_input() const { return label_input_; }
  /// Per-sample shape of an input (no batch dimension).
  Shape input_shape(const std::string& name) const;

  struct Forward {
    Value output;                          // the prediction node
    Value loss;                            // valid if with_loss
    std::map<std::string, Value> params;   // the parameter leaves of this step
    std::shared_ptr<const OpInstance> loss_instance;
    Value loss_src, loss_target;           // what the loss read: prediction and target
    /// (correct, counted) by the loss kernel's metric; (0, 0) without one.
    std::pair<int64_t, int64_t> metric() const;
  };
  /// Runs the graph. `feeds` maps input names to batch-first tensors. Parameters
  /// become leaves requiring grad when `training` (and grad is enabled).
  Forward forward(Tape& tape, const std::map<std::string, Tensor>& feeds, bool training, bool with_loss) const;

 private:
  struct NodePlan;
  std::shared_ptr<const OpInstance> instance(size_t node, std::span<const Shape> inputs) const;
  void validate();

  const Runtime& runtime_;
  proto::ModelDef def_;
  std::string source_;
  std::vector<NodePlan> plan_;             // nodes in a valid execution order
  std::vector<std::pair<std::string, Shape>> param_shapes_;
  std::map<std::string, Tensor> params_;
  std::map<std::string, proto::Initializer> inits_;
  std::map<std::string, std::pair<int64_t, int64_t>> fans_;
  std::map<std::string, int32_t> default_inits_;
  std::map<std::string, double> default_init_values_;
  std::string feature_input_, label_input_;
  mutable std::mutex cache_mu_;
};

}  // namespace plexus

#endif
