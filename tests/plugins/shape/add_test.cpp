// add: gradients reach both inputs, shapes must match exactly, x + x accumulates.
#include "support/gradcheck.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace plexus::test {
namespace {

// dst = a + b elementwise.
std::vector<double> add_ref(const RefArgs& a) {
  std::vector<double> dst(a.src[0]);
  for (size_t i = 0; i < dst.size(); ++i) dst[i] += a.src[1][i];
  return dst;
}

OpCase add_case(Shape s, uint32_t seed = 42) {
  return {.op = "add", .inputs = {s, s}, .reference = add_ref, .seed = seed};
}

TEST(Add, GradcheckAndReference) {
  const OpCase cases[] = {add_case({1, 1}),       add_case({1, 7}), add_case({3, 5}), add_case({17, 13}, 3),
                          add_case({2, 3, 4, 5}), add_case({9}),    add_case({1, 3, 5, 7}, 8)};
  for (const OpCase& c : cases) check_op(c);
}

TEST(Add, Declaration) {
  const OpKernel& k = builtin_registry().op("add");
  EXPECT_EQ(k.desc().flags, uint32_t{PLX_OP_LAYOUTS});  // two inputs in one blocked layout stay in it
  EXPECT_EQ(k.desc().param_count, 0u);
  ASSERT_EQ(k.desc().input_count, 2u);
  EXPECT_STREQ(k.desc().inputs[0], "src_0");
  EXPECT_STREQ(k.desc().inputs[1], "src_1");
  const Shape in[] = {Shape{2, 3, 4}, Shape{2, 3, 4}};
  EXPECT_EQ(k.infer("res", k.resolve_attrs({}, "res"), in).dst, (Shape{2, 3, 4}));
}

TEST(Add, MismatchedShapesNameBoth) {
  const OpKernel& k = builtin_registry().op("add");
  const Shape cols[] = {Shape{2, 3}, Shape{2, 4}};
  expect_error([&] { k.infer("res", k.resolve_attrs({}, "res"), cols); }, ErrorCode::kInvalid,
               {"res", "[2, 3]", "[2, 4]", "identical shape"});
  const Shape rank[] = {Shape{2, 3, 1}, Shape{2, 3}};
  expect_error([&] { k.infer("res", k.resolve_attrs({}, "res"), rank); }, ErrorCode::kInvalid,
               {"[2, 3, 1]", "[2, 3]"});
  const Shape one[] = {Shape{2, 3}};
  expect_error([&] { k.infer("res", k.resolve_attrs({}, "res"), one); }, ErrorCode::kInvalid, {"2 input(s), got 1"});
}

// A residual y = x + f(x) with f = identity here: y = x + x, so dy/dx = 2 seed
// (the tape sums the two contributions).
TEST(Add, SameValueTwiceAccumulates) {
  const OpKernel& k = builtin_registry().op("add");
  const Shape in[] = {Shape{2, 2}, Shape{2, 2}};
  auto inst = k.create("res", k.resolve_attrs({}, "res"), in);
  Tape tape;
  const Value x = tape.leaf(Tensor::from({2, 2}, std::vector<float>{1, -2, 3, -4}), true);
  const Value src[] = {x, x};
  const Value y = apply(tape, inst, src, {}, true);
  EXPECT_EQ(tape.saved_tensor_count(), 0u);
  tape.backward(y, Tensor::from({2, 2}, std::vector<float>{1, 2, 3, 4}));
  const Tensor g = tape.grad(x);
  ASSERT_TRUE(g.defined());
  EXPECT_EQ(std::vector<float>(g.data(), g.data() + 4), (std::vector<float>{2, 4, 6, 8}));
}

}  // namespace
}  // namespace plexus::test
