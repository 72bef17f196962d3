// dst = alpha * a. d/da = alpha * diff_dst.
#include <plexus/ops.hpp>

namespace plexus::ops {
namespace {

struct ScaleState : NodeState {
  explicit ScaleState(float a) : alpha(a) {}
  float alpha;
};

void scale_backward(BackwardCall& call) {
  const float alpha = static_cast<const ScaleState&>(*call.node.state).alpha;
  Tensor d = Tensor::empty(call.diff_dst.shape());
  for (int64_t k = 0, n = d.numel(); k < n; ++k) d.data()[k] = alpha * call.diff_dst.data()[k];
  call.diff_inputs[0] = std::move(d);
}

}  // namespace

Value scale(Tape& tape, const Value& a, float alpha) {
  const Tensor& x = a.data();
  Tensor dst = Tensor::empty(x.shape());
  for (int64_t i = 0, n = x.numel(); i < n; ++i) dst.data()[i] = alpha * x.data()[i];
  const Value in[] = {a};
  return tape.record("scale", in, std::move(dst), &scale_backward, {}, std::make_unique<ScaleState>(alpha));
}

}  // namespace plexus::ops
