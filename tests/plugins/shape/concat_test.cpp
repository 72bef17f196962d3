// concat: two inputs along dim 1, gradients are slices of diff_dst, shape errors.
#include "support/gradcheck.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

namespace plexus::test {
namespace {

// dst[n, c, r] = a[n, c, r] for c < C0, else b[n, c - C0, r]; r runs over the trailing dims.
std::vector<double> concat_ref(const RefArgs& a) {
  const Shape& s0 = a.src_shapes[0];
  const Shape& s1 = a.src_shapes[1];
  const int64_t n = s0[0], c0 = s0[1], c1 = s1[1];
  int64_t rest = 1;
  for (int d = 2; d < s0.ndim(); ++d) rest *= s0[d];
  std::vector<double> dst;
  for (int64_t i = 0; i < n; ++i)
    for (int64_t c = 0; c < c0 + c1; ++c)
      for (int64_t r = 0; r < rest; ++r)
        dst.push_back(c < c0 ? a.src[0][static_cast<size_t>((i * c0 + c) * rest + r)]
                             : a.src[1][static_cast<size_t>((i * c1 + c - c0) * rest + r)]);
  return dst;
}

OpCase concat_case(Shape a, Shape b, uint32_t seed = 42) {
  return {.op = "concat", .inputs = {a, b}, .reference = concat_ref, .seed = seed};
}

Shape infer_dst(const Shape& a, const Shape& b) {
  const OpKernel& k = builtin_registry().op("concat");
  const Shape in[] = {a, b};
  return k.infer("cat", k.resolve_attrs({}, "cat"), in).dst;
}

TEST(Concat, GradcheckAndReference) {
  const OpCase cases[] = {concat_case({1, 1}, {1, 1}),          concat_case({1, 7}, {1, 2}),
                          concat_case({3, 5}, {3, 4}),          concat_case({2, 3, 4, 5}, {2, 1, 4, 5}),
                          concat_case({1, 3, 5, 7}, {1, 2, 5, 7}, 9), concat_case({4, 2, 3}, {4, 5, 3}, 3)};
  for (const OpCase& c : cases) check_op(c);
}

TEST(Concat, Shapes) {
  EXPECT_EQ(infer_dst({2, 3}, {2, 4}), (Shape{2, 7}));
  EXPECT_EQ(infer_dst({2, 3, 4, 5}, {2, 6, 4, 5}), (Shape{2, 9, 4, 5}));
  EXPECT_EQ(infer_dst({2, 0, 3}, {2, 2, 3}), (Shape{2, 2, 3}));
  const OpKernel& k = builtin_registry().op("concat");
  EXPECT_EQ(k.desc().flags, 0u);
  ASSERT_EQ(k.desc().input_count, 2u);
  EXPECT_STREQ(k.desc().inputs[0], "src_0");
  EXPECT_STREQ(k.desc().inputs[1], "src_1");
}

// Forward and backward by hand on [N=2, C0=1, 2] and [2, C1=2, 2], including an absent gradient.
TEST(Concat, ValuesAndSlices) {
  const OpKernel& k = builtin_registry().op("concat");
  const Shape in[] = {Shape{2, 1, 2}, Shape{2, 2, 2}};
  auto inst = k.create("cat", k.resolve_attrs({}, "cat"), in);
  const std::vector<Tensor> src{Tensor::from({2, 1, 2}, std::vector<float>{1, 2, 3, 4}),
                                Tensor::from({2, 2, 2}, std::vector<float>{5, 6, 7, 8, 9, 10, 11, 12})};
  const Tensor y = inst->forward(src, {}, true);
  EXPECT_EQ(y.shape(), (Shape{2, 3, 2}));
  EXPECT_EQ(std::vector<float>(y.data(), y.data() + 12),
            (std::vector<float>{1, 2, 5, 6, 7, 8, 3, 4, 9, 10, 11, 12}));
  const Tensor dy = Tensor::from({2, 3, 2}, std::vector<float>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11});
  std::vector<Tensor> diff_src{Tensor(), Tensor::full({2, 2, 2}, -1.f)};  // no gradient for src_0
  std::vector<Tensor> none_params;
  inst->backward(std::vector<Tensor>(2), {}, Tensor(), dy, diff_src, none_params);
  EXPECT_FALSE(diff_src[0].defined());
  EXPECT_EQ(std::vector<float>(diff_src[1].data(), diff_src[1].data() + 8),
            (std::vector<float>{2, 3, 4, 5, 8, 9, 10, 11}));
}

TEST(Concat, MismatchedShapesNameBoth) {
  expect_error([] { infer_dst({2, 3, 4}, {2, 3, 5}); }, ErrorCode::kInvalid,
               {"cat", "dim 2", "[2, 3, 4]", "[2, 3, 5]"});
  expect_error([] { infer_dst({2, 3}, {3, 3}); }, ErrorCode::kInvalid, {"dim 0", "[2, 3]", "[3, 3]"});
  expect_error([] { infer_dst({2, 3, 4}, {2, 3}); }, ErrorCode::kInvalid, {"equal rank", "[2, 3, 4]", "[2, 3]"});
  expect_error([] { infer_dst({2}, {2}); }, ErrorCode::kInvalid, {"rank >= 2", "[2]"});
  const OpKernel& k = builtin_registry().op("concat");
  const Shape three[] = {Shape{2, 1}, Shape{2, 1}, Shape{2, 1}};
  expect_error([&] { k.infer("cat", k.resolve_attrs({}, "cat"), three); }, ErrorCode::kInvalid,
               {"2 input(s), got 3"});
}

}  // namespace
}  // namespace plexus::test
