// dst = sum of all elements of a, shape [1]. d/da = diff_dst[0] everywhere.
#include <plexus/ops.hpp>

namespace plexus::ops {
namespace {

struct SumState : NodeState {
  explicit SumState(Shape s) : shape(s) {}
  Shape shape;
};

void sum_backward(BackwardCall& call) {
  const Shape& shape = static_cast<const SumState&>(*call.node.state).shape;
  call.diff_inputs[0] = Tensor::full(shape, call.diff_dst.data()[0]);
}

}  // namespace

Value sum(Tape& tape, const Value& a) {
  const Tensor& x = a.data();
  double acc = 0.0;
  for (int64_t i = 0, n = x.numel(); i < n; ++i) acc += x.data()[i];
  const Value in[] = {a};
  return tape.record("sum", in, Tensor::full(Shape{1}, static_cast<float>(acc)), &sum_backward, {},
                     std::make_unique<SumState>(x.shape()));
}

}  // namespace plexus::ops
