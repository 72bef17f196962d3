// dst = a + b (same shapes). d/da = d/db = diff_dst.
#include <plexus/error.hpp>
#include <plexus/ops.hpp>

namespace plexus::ops {
namespace {

void add_backward(BackwardCall& call) {
  for (size_t i = 0; i < 2; ++i)
    if (call.needs_grad(i)) call.diff_inputs[i] = call.diff_dst.clone();
}

}  // namespace

Value add(Tape& tape, const Value& a, const Value& b) {
  const Tensor& x = a.data();
  const Tensor& y = b.data();
  if (x.shape() != y.shape())
    throw Error(ErrorCode::kInvalid, "add: shapes " + x.shape().str() + " and " + y.shape().str() + " differ");
  Tensor dst = Tensor::empty(x.shape());
  for (int64_t i = 0, n = x.numel(); i < n; ++i) dst.data()[i] = x.data()[i] + y.data()[i];
  const Value in[] = {a, b};
  return tape.record("add", in, std::move(dst), &add_backward);
}

}  // namespace plexus::ops
