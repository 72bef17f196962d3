// dst = a * b elementwise (same shapes). d/da = diff_dst * b, d/db = diff_dst * a.
#include <plexus/error.hpp>
#include <plexus/ops.hpp>

namespace plexus::ops {
namespace {

void mul_backward(BackwardCall& call) {
  const Tensor& a = call.node.saved[0];
  const Tensor& b = call.node.saved[1];
  const float* g = call.diff_dst.data();
  for (size_t i = 0; i < 2; ++i) {
    if (!call.needs_grad(i)) continue;
    const float* other = (i == 0 ? b : a).data();
    Tensor d = Tensor::empty(a.shape());
    for (int64_t k = 0, n = a.numel(); k < n; ++k) d.data()[k] = g[k] * other[k];
    call.diff_inputs[i] = std::move(d);
  }
}

}  // namespace

Value mul(Tape& tape, const Value& a, const Value& b) {
  const Tensor& x = a.data();
  const Tensor& y = b.data();
  if (x.shape() != y.shape())
    throw Error(ErrorCode::kInvalid, "mul: shapes " + x.shape().str() + " and " + y.shape().str() + " differ");
  Tensor dst = Tensor::empty(x.shape());
  for (int64_t i = 0, n = x.numel(); i < n; ++i) dst.data()[i] = x.data()[i] * y.data()[i];
  const Value in[] = {a, b};
  return tape.record("mul", in, std::move(dst), &mul_backward, {x, y});
}

}  // namespace plexus::ops
