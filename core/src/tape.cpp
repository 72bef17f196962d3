#include <plexus/error.hpp>
#include <plexus/tape.hpp>

#include <algorithm>

namespace plexus {

// ---- Value ------------------------------------------------------------------

bool Value::valid() const { return tape_ != nullptr && generation_ == tape_->generation_ && index_ < tape_->slots_.size(); }
const Tensor& Value::data() const { return tape_->data(*this); }
bool Value::requires_grad() const { return tape_->requires_grad(*this); }
Tensor Value::grad() const { return tape_->grad(*this); }

bool BackwardCall::needs_grad(size_t i) const { return (node.needs_grad >> i) & 1u; }

// ---- Tape -------------------------------------------------------------------

const Tape::Slot& Tape::slot(const Value& v) const {
  if (v.tape_ != this)
    throw Error(ErrorCode::kInvalid, v.tape_ == nullptr ? "use of an empty Value" : "Value belongs to another tape");
  if (v.generation_ != generation_ || v.index_ >= slots_.size())
    throw Error(ErrorCode::kInvalid, "stale Value: its tape was cleared after it was made (value #" +
                                         std::to_string(v.index_) + ")");
  return slots_[v.index_];
}

const Tensor& Tape::data(const Value& v) const { return slot(v).data; }
Tensor Tape::grad(const Value& v) const { return slot(v).grad; }
bool Tape::requires_grad(const Value& v) const { return slot(v).requires_grad; }

Value Tape::leaf(Tensor data, bool requires_grad) {
  if (!data.defined()) throw Error(ErrorCode::kInvalid, "Tape::leaf: undefined tensor");
  slots_.push_back(Slot{std::move(data), Tensor(), -1, requires_grad});
  return Value(this, static_cast<uint32_t>(slots_.size() - 1), generation_);
}

bool Tape::should_record(std::span<const Value> inputs) const {
  if (!grad_enabled()) return false;
  return std::any_of(inputs.begin(), inputs.end(), [&](const Value& v) { return slot(v).requires_grad; });
}

Value Tape::record(const char* op, std::span<const Value> inputs, Tensor output, BackwardFn backward,
                   std::vector<Tensor> saved, std::unique_ptr<NodeState> state) {
  if (inputs.size() > 64) throw Error(ErrorCode::kInvalid, std::string(op) + ": more than 64 inputs");
  const bool rec = should_record(inputs);
  Value out = leaf(std::move(output), rec);
  if (!rec) return out;
  Node n;
  n.op = op;
  n.inputs.reserve(inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i) {
    n.inputs.push_back(inputs[i].index_);
    if (slots_[inputs[i].index_].requires_grad) n.needs_grad |= uint64_t{1} << i;
  }
  n.output = out.index_;
  n.saved = std::move(saved);
  n.state = std::move(state);
  n.backward = backward;
  slots_[out.index_].producer = static_cast<int32_t>(nodes_.size());
  nodes_.push_back(std::move(n));
  return out;
}

void Tape::accumulate(uint32_t index, Tensor contribution, const char* op) {
  Slot& s = slots_[index];
  if (contribution.shape() != s.data.shape())
    throw Error(ErrorCode::kInternal, std::string("op '") + op + "' produced a gradient of shape " +
                                          contribution.shape().str() + " for a value of shape " + s.data.shape().str());
  if (!s.grad.defined()) {
    s.grad = std::move(contribution);  // first contribution: take it as is
    return;
  }
  if (contribution.layout() != s.grad.layout())
    throw Error(ErrorCode::kInternal, std::string("op '") + op + "' produced a gradient in another layout than the value's");
  float* g = s.grad.data();
  const float* c = contribution.data();
  for (int64_t i = 0, n = s.grad.storage_numel(); i < n; ++i) g[i] += c[i];
}

void Tape::backward(const Value& root, bool retain_graph) {
  const Slot& s = slot(root);
  if (s.data.numel() != 1)
    throw Error(ErrorCode::kInvalid, "backward() without a seed needs a scalar root, got shape " + s.data.shape().str());
  backward(root, Tensor::full(s.data.shape(), 1.0f), retain_graph);
}

void Tape::backward(const Value& root, const Tensor& seed, bool retain_graph) {
  const Slot& r = slot(root);
  if (seed.shape() != r.data.shape())
    throw Error(ErrorCode::kInvalid, "backward seed shape " + seed.shape().str() + " differs from root shape " +
                                         r.data.shape().str());
  if (!r.requires_grad) throw Error(ErrorCode::kInvalid, "backward(): the root does not depend on any value that requires grad");
  if (r.producer >= 0 && nodes_[static_cast<size_t>(r.producer)].backward == nullptr)
    throw Error(ErrorCode::kInvalid, "backward(): the graph was already freed; pass retain_graph=true to backward twice");
  for (Slot& s : slots_)
    if (s.producer >= 0) s.grad = Tensor();  // intermediates start fresh; leaves accumulate
  accumulate(root.index_, seed.clone(), "seed");

  std::vector<Tensor> diff_inputs;
  for (size_t k = nodes_.size(); k-- > 0;) {
    Node& n = nodes_[k];
    Slot& out = slots_[n.output];
    if (!out.grad.defined() || n.backward == nullptr) continue;
    diff_inputs.assign(n.inputs.size(), Tensor());
    BackwardCall call{n, out.grad, diff_inputs};
    n.backward(call);
    for (size_t i = 0; i < n.inputs.size(); ++i) {
      if (!call.needs_grad(i)) continue;
      if (!diff_inputs[i].defined())
        throw Error(ErrorCode::kInternal, std::string("op '") + n.op + "' returned no gradient for input " + std::to_string(i));
      accumulate(n.inputs[i], std::move(diff_inputs[i]), n.op);
    }
    if (!retain_graph) {
      n.saved.clear();
      n.state.reset();
      n.backward = nullptr;
      out.grad = Tensor();  // an intermediate's gradient is not needed once propagated
    }
  }
}

void Tape::clear() {
  nodes_.clear();
  slots_.clear();
  ++generation_;
}

size_t Tape::saved_tensor_count() const {
  size_t n = 0;
  for (const Node& node : nodes_) n += node.saved.size();
  return n;
}

}  // namespace plexus
