// The tape: reverse-mode autodiff over a define-by-run graph.
//
//   plexus::Tape tape;
//   plexus::Value w = tape.leaf(weights, /*requires_grad=*/true);
//   plexus::Value x = tape.leaf(input);
//   plexus::Value y = plexus::ops::mul(tape, w, x);
//   plexus::Value loss = plexus::ops::sum(tape, y);
//   tape.backward(loss);              // d loss / d w lands in tape.grad(w)
//   tape.clear();                     // next step; old Values become stale
//
// Ops append nodes in execution order, so a reverse linear scan is a
// topological order: no recursion, no depth limit. A node is recorded only when
// gradients are enabled (no NoGrad scope) and some input requires grad.
// Gradients accumulate: a value used by several nodes gets the sum.
// Saved tensors are released right after their node's backward unless
// backward() is asked to retain the graph.
//
// A Tape is not thread-safe; use one per thread (a Session owns one).
#ifndef PLEXUS_TAPE_HPP
#define PLEXUS_TAPE_HPP

#include <plexus/tensor.hpp>

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace plexus {

class Tape;

/// A handle to a value on a tape: {tape, index, generation}. Touching a value
/// after its tape was cleared is an Error, not a dangling read.
class Value {
 public:
  Value() = default;
  bool valid() const;
  const Tensor& data() const;
  bool requires_grad() const;
  /// The accumulated gradient after backward (undefined if none reached it).
  Tensor grad() const;
  Tape* tape() const { return tape_; }
  uint32_t index() const { return index_; }

 private:
  friend class Tape;
  Value(Tape* t, uint32_t i, uint32_t g) : tape_(t), index_(i), generation_(g) {}
  Tape* tape_ = nullptr;
  uint32_t index_ = 0;
  uint32_t generation_ = 0;
};

/// Op-specific state a node keeps for its backward (an op instance, attributes).
struct NodeState {
  virtual ~NodeState() = default;
};

struct Node;

/// What a node's backward function receives. It fills diff_inputs[i] for each
/// input i with needs_grad(i); the tape sums the contributions.
struct BackwardCall {
  const Node& node;
  const Tensor& diff_dst;
  std::span<Tensor> diff_inputs;
  bool needs_grad(size_t i) const;
};

using BackwardFn = void (*)(BackwardCall& call);

/// One tape entry. Inputs and output are value indices on the same tape.
struct Node {
  const char* op = "";              // kernel name, for messages and profiling
  std::vector<uint32_t> inputs;
  uint32_t output = 0;
  uint64_t needs_grad = 0;          // bit i: input i requires grad
  std::vector<Tensor> saved;        // only what backward reads
  std::unique_ptr<NodeState> state;
  BackwardFn backward = nullptr;
};

class Tape {
 public:
  Tape() = default;
  Tape(const Tape&) = delete;
  Tape& operator=(const Tape&) = delete;

  /// A value with no producer: an input or a parameter.
  Value leaf(Tensor data, bool requires_grad = false);

  /// True when a node would be recorded for these inputs.
  bool should_record(std::span<const Value> inputs) const;

  /// Adds `output` as the result of `op` on `inputs`. Records a node (with
  /// `saved` and `state`) only if should_record(inputs); otherwise drops them.
  Value record(const char* op, std::span<const Value> inputs, Tensor output, BackwardFn backward,
               std::vector<Tensor> saved = {}, std::unique_ptr<NodeState> state = nullptr);

  /// Reverse-mode autodiff from a scalar root (numel 1), seed 1.
  void backward(const Value& root, bool retain_graph = false);
  /// From any root with an explicit seed gradient of the root's shape.
  void backward(const Value& root, const Tensor& seed, bool retain_graph = false);

  const Tensor& data(const Value& v) const;
  Tensor grad(const Value& v) const;
  bool requires_grad(const Value& v) const;

  /// Forgets every value and node; Values handed out so far become stale.
  void clear();

  bool grad_enabled() const { return no_grad_depth_ == 0; }
  size_t node_count() const { return nodes_.size(); }
  size_t value_count() const { return slots_.size(); }
  /// Saved tensors still held by nodes (0 after a backward without retain).
  size_t saved_tensor_count() const;

 private:
  friend class NoGrad;
  friend class Value;
  struct Slot {
    Tensor data;
    Tensor grad;
    int32_t producer = -1;  // node index, -1 for leaves
    bool requires_grad = false;
  };
  const Slot& slot(const Value& v) const;
  void accumulate(uint32_t index, Tensor contribution, const char* op);

  std::vector<Slot> slots_;
  std::vector<Node> nodes_;
  uint32_t generation_ = 1;
  int no_grad_depth_ = 0;
};

/// RAII scope in which the tape records nothing.
class NoGrad {
 public:
  explicit NoGrad(Tape& t) : t_(t) { ++t_.no_grad_depth_; }
  ~NoGrad() { --t_.no_grad_depth_; }
  NoGrad(const NoGrad&) = delete;
  NoGrad& operator=(const NoGrad&) = delete;

 private:
  Tape& t_;
};

}  // namespace plexus

#endif
