// relu: gradients and reference on several shapes, flags.
#include "support/gradcheck.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cstdint>
#include <cmath>
#include <vector>

namespace plexus::test {
namespace {

std::vector<double> relu_ref(const RefArgs& a) {
  std::vector<double> dst(a.src[0]);
  for (double& x : dst) x = std::max(x, 0.0);
  return dst;
}

OpCase relu_case(Shape s, uint32_t seed = 42) {
  return {.op = "relu",
          .inputs = {s},
          .reference = relu_ref,
          .fill = [](size_t, std::span<float> v, std::mt19937& rng) { fill_away_from_zero(v, rng); },
          .seed = seed};
}

TEST(Relu, GradcheckAndReference) {
  const OpCase cases[] = {relu_case({1, 1}), relu_case({1, 7}), relu_case({3, 5}),
                          relu_case({17, 13}, 3), relu_case({2, 3, 4}), relu_case({9}),
                          relu_case({1, 1, 1, 5})};
  for (const OpCase& c : cases) check_op(c);
}

TEST(Relu, DeclaresWhatBackwardReads) {
  const OpKernel& k = builtin_registry().op("relu");
  EXPECT_EQ(k.kind(), PLX_KIND_ACTIVATION);
  EXPECT_EQ(k.desc().metric, nullptr);
  EXPECT_EQ(k.desc().flags, uint32_t{PLX_OP_SAVES_DST | PLX_OP_LAYOUTS});
  const Shape in[] = {Shape{4, 3, 2}};
  EXPECT_EQ(k.infer("act", k.resolve_attrs({}, "act"), in).dst, (Shape{4, 3, 2}));
}

// On a tape: relu keeps only dst, and the gradient reaching x is seed where x > 0.
TEST(Relu, OnTapeUsesSavedDst) {
  const OpKernel& k = builtin_registry().op("relu");
  const Shape in[] = {Shape{2, 3}};
  auto inst = k.create("act", k.resolve_attrs({}, "act"), in);
  Tape tape;
  const Value x = tape.leaf(Tensor::from({2, 3}, std::vector<float>{-1, 2, -3, 4, 0.5f, -0.5f}), true);
  const Value src[] = {x};
  const Value y = apply(tape, inst, src, {}, true);
  EXPECT_EQ(tape.saved_tensor_count(), 1u);
  tape.backward(y, Tensor::from({2, 3}, std::vector<float>{1, 2, 3, 4, 5, 6}));
  const Tensor g = tape.grad(x);
  ASSERT_TRUE(g.defined());
  EXPECT_EQ(std::vector<float>(g.data(), g.data() + 6), (std::vector<float>{0, 2, 0, 4, 5, 0}));
}

// Dead units (dst <= 0, NaN src included) pass +0 whatever diff_dst holds
// (NaN, inf, negative), as PyTorch's threshold_backward; live units pass
// diff_dst bit for bit. 300k floats: the work is split over the team.
TEST(Relu, DeadUnitsPassPositiveZeroWhateverTheGradient) {
  const OpKernel& k = builtin_registry().op("relu");
  const Shape s{300, 1000};
  const Shape in[] = {s};
  auto inst = k.create("act", k.resolve_attrs({}, "act"), in);
  Tensor x = random_tensor(s, 5);
  x.data()[7] = std::nanf("");
  x.data()[8] = 0.0f;
  x.data()[9] = -0.0f;
  const std::vector<Tensor> src{x};
  const Tensor y = inst->forward(src, {}, /*training=*/true);
  Tensor dd = random_tensor(s, 6);
  const float poison[] = {std::nanf(""), INFINITY, -INFINITY, -2.0f};
  for (int64_t i = 0; i < dd.numel(); ++i)
    if (!(y.data()[i] > 0.0f)) dd.data()[i] = poison[i % 4];
  std::vector<Tensor> diff_src{Tensor::full(s, 1.0f)};
  inst->backward(src, {}, y, dd, diff_src, {});
  int64_t live = 0;
  for (int64_t i = 0; i < dd.numel(); ++i) {
    const float g = diff_src[0].data()[i];
    if (y.data()[i] > 0.0f) {
      ++live;
      ASSERT_EQ(std::bit_cast<uint32_t>(g), std::bit_cast<uint32_t>(dd.data()[i])) << i;
    } else {
      ASSERT_EQ(std::bit_cast<uint32_t>(g), 0u) << i << ": dst " << y.data()[i] << ", diff_dst " << dd.data()[i];
    }
  }
  EXPECT_GT(live, 100000);
  EXPECT_LT(live, 200000);
}

}  // namespace
}  // namespace plexus::test
