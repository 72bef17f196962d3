// The tape: chains, diamonds, shared parameters, no-grad scopes, freeing of
// saved tensors, stale values. Uses the core ops (add, mul, scale, sum) so that
// expected gradients follow from the chain rule by hand.
#include <plexus/error.hpp>
#include <plexus/ops.hpp>
#include <plexus/tape.hpp>

#include <gtest/gtest.h>

namespace plexus {
namespace {

Tensor vec(std::initializer_list<float> v) { return Tensor::from(Shape{static_cast<int64_t>(v.size())}, std::vector<float>(v)); }

void expect_values(const Tensor& t, std::initializer_list<float> want) {
  ASSERT_TRUE(t.defined());
  ASSERT_EQ(t.numel(), static_cast<int64_t>(want.size()));
  size_t i = 0;
  for (float w : want) EXPECT_FLOAT_EQ(t.data()[i++], w) << "element " << i - 1;
}

TEST(Tape, ChainRule) {
  Tape tape;
  Value x = tape.leaf(vec({1, 2, 3}), true);
  Value c = tape.leaf(vec({4, 5, 6}));
  // loss = sum(3 * (x * c)) -> d/dx = 3 c
  Value loss = ops::sum(tape, ops::scale(tape, ops::mul(tape, x, c), 3.0f));
  expect_values(loss.data(), {3 * (4 + 10 + 18)});
  tape.backward(loss);
  expect_values(tape.grad(x), {12, 15, 18});
  EXPECT_FALSE(tape.grad(c).defined()) << "c does not require grad";
}

TEST(Tape, DiamondSumsBothPaths) {
  Tape tape;
  Value x = tape.leaf(vec({2, -1}), true);
  Value a = ops::scale(tape, x, 2.0f);   // a = 2x
  Value b = ops::mul(tape, x, x);        // b = x^2
  Value loss = ops::sum(tape, ops::add(tape, a, b));
  tape.backward(loss);
  expect_values(tape.grad(x), {2 + 2 * 2, 2 + 2 * -1});  // 2 + 2x
}

TEST(Tape, SharedParameterGetsTheSumOfItsUses) {
  // One weight used by two "layers" (tied weights, as in LISTA).
  Tape tape;
  Value w = tape.leaf(vec({0.5f, 3}), true);
  Value x1 = tape.leaf(vec({1, 2}));
  Value x2 = tape.leaf(vec({-4, 7}));
  Value loss = ops::sum(tape, ops::add(tape, ops::mul(tape, w, x1), ops::mul(tape, w, x2)));
  tape.backward(loss);
  expect_values(tape.grad(w), {1 - 4, 2 + 7});
}

TEST(Tape, ValueUsedTwiceByOneOp) {
  Tape tape;
  Value x = tape.leaf(vec({3}), true);
  Value loss = ops::sum(tape, ops::mul(tape, x, x));
  tape.backward(loss);
  expect_values(tape.grad(x), {6});
}

TEST(Tape, NoGradScopeRecordsNothing) {
  Tape tape;
  Value x = tape.leaf(vec({1, 2}), true);
  {
    NoGrad guard(tape);
    Value y = ops::sum(tape, ops::mul(tape, x, x));
    EXPECT_EQ(tape.node_count(), 0u);
    EXPECT_FALSE(y.requires_grad());
    expect_values(y.data(), {5});
    EXPECT_THROW(tape.backward(y), Error);
  }
  Value z = ops::sum(tape, x);
  EXPECT_EQ(tape.node_count(), 1u) << "recording resumes after the scope";
  EXPECT_TRUE(z.requires_grad());
}

TEST(Tape, NothingRecordedWithoutRequiresGrad) {
  Tape tape;
  Value a = tape.leaf(vec({1, 2}));
  Value b = ops::mul(tape, a, a);
  EXPECT_EQ(tape.node_count(), 0u);
  EXPECT_FALSE(b.requires_grad());
}

TEST(Tape, SavedTensorsFreedAfterBackwardUnlessRetained) {
  Tape tape;
  Value x = tape.leaf(vec({1, 2}), true);
  Value y = tape.leaf(vec({3, 4}), true);
  Value loss = ops::sum(tape, ops::mul(tape, x, y));
  EXPECT_EQ(tape.saved_tensor_count(), 2u);  // mul saves both inputs
  tape.backward(loss, /*retain_graph=*/true);
  EXPECT_EQ(tape.saved_tensor_count(), 2u);
  expect_values(tape.grad(x), {3, 4});
  tape.backward(loss);  // second pass accumulates into leaves, then frees
  expect_values(tape.grad(x), {6, 8});
  EXPECT_EQ(tape.saved_tensor_count(), 0u);
  EXPECT_THROW(tape.backward(loss), Error) << "the graph was freed";
}

TEST(Tape, StaleValueIsAnError) {
  Tape tape;
  Value x = tape.leaf(vec({1}), true);
  tape.clear();
  EXPECT_FALSE(x.valid());
  try {
    (void)x.data();
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("stale"), std::string::npos) << e.what();
  }
}

TEST(Tape, ValueFromAnotherTapeIsAnError) {
  Tape t1, t2;
  Value x = t1.leaf(vec({1}), true);
  EXPECT_THROW(ops::sum(t2, x), Error);
}

TEST(Tape, SeedShapeIsChecked) {
  Tape tape;
  Value x = tape.leaf(vec({1, 2}), true);
  Value y = ops::scale(tape, x, 2.0f);
  EXPECT_THROW(tape.backward(y), Error) << "non-scalar root needs a seed";
  EXPECT_THROW(tape.backward(y, vec({1, 1, 1})), Error);
  tape.backward(y, vec({1, 10}));
  expect_values(tape.grad(x), {2, 20});
}

TEST(Tape, LongChainHasNoRecursionLimit) {
  Tape tape;
  Value x = tape.leaf(vec({1}), true);
  Value y = x;
  for (int i = 0; i < 100000; ++i) y = ops::scale(tape, y, 1.0f);
  tape.backward(ops::sum(tape, y));
  expect_values(tape.grad(x), {1});
}

TEST(Pool, ReusesFreedBlocks) {
  auto pool = std::make_shared<Pool>();
  { Tensor a = Tensor::empty(Shape{1000}, pool); }
  const auto before = pool->system_allocations();
  for (int i = 0; i < 10; ++i) {
    Tensor b = Tensor::empty(Shape{1000}, pool);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(b.data()) % 64, 0u);
  }
  EXPECT_EQ(pool->system_allocations(), before);
}

}  // namespace
}  // namespace plexus
