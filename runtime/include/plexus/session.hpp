// plexus::Session: inference on a loaded Model, safe to call from many host
// threads at once.
//
//   plexus::Runtime rt;
//   plexus::Model model(rt, "models/mnist_mlp.pbtxt");
//   model.load_weights("mnist.ckpt");
//   plexus::Session session(model);
//   auto out = session.run({{"image", batch}});          // {"probs": [N, 10]}
//   plexus::Tensor probs = out.at(session.output_name());
//
// Thread safety: run() is const and reentrant. The model's parameters are
// shared read-only; every call records on its own tape, draws its scratch and
// outputs from the tensor pool, and takes a share of the runtime's thread
// budget (RuntimeContext::ThreadShare), so N concurrent calls never start more
// worker threads than the budget. Do not change the model's parameters
// (init_params, load_weights, a Trainer) while a call runs.
//
// Bits: oneDNN's reductions may run in a different order for a different
// OpenMP team size, so in the default adaptive mode two calls on the same
// input may differ in the last bits when they got different shares of the
// budget. SessionOptions::threads_per_call = n makes every call wait for
// exactly n threads: outputs are then bit-identical whatever the concurrency.
//
// Lifetime: a Session refers to its Model; destroy it first.
#ifndef PLEXUS_SESSION_HPP
#define PLEXUS_SESSION_HPP

#include <plexus/model.hpp>
#include <plexus/tensor.hpp>

#include <map>
#include <string>
#include <vector>

namespace plexus {

struct SessionOptions {
  /// 0: adaptive (each call takes what is free of the budget, never waits).
  /// n > 0: each call runs with exactly min(n, budget) threads, waiting for
  /// them if needed (RuntimeContext::ThreadShare).
  int threads_per_call = 0;
};

class Session {
 public:
  explicit Session(const Model& model, SessionOptions options = {});
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  const Model& model() const { return model_; }
  /// The inputs run() needs by default: the model's inputs except labels.
  const std::vector<std::string>& input_names() const { return inputs_; }
  /// The model's output node (field 'output').
  const std::string& output_name() const { return model_.def().output(); }

  /// Runs the model without recording gradients. `inputs` maps input names to
  /// batch-first tensors [N, per-sample shape...]; `outputs` names the nodes
  /// (or inputs) to return, by default the model's output. Naming the loss
  /// node needs the label input too. Returned tensors are the caller's.
  /// Errors (unknown names, shapes, a destroyed Runtime) throw plexus::Error.
  std::map<std::string, Tensor> run(const std::map<std::string, Tensor>& inputs,
                                    const std::vector<std::string>& outputs = {}) const;

 private:
  const Model& model_;
  SessionOptions options_;
  std::vector<std::string> inputs_;
  std::vector<std::string> all_inputs_, nodes_;  // for checking names in run()
};

}  // namespace plexus

#endif
