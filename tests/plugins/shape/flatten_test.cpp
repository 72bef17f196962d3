// flatten: shapes for every start_dim, gradients (a copy), errors that name the shapes.
#include "support/gradcheck.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

namespace plexus::test {
namespace {

// Row-major data is unchanged by flatten: dst = src.
std::vector<double> flatten_ref(const RefArgs& a) { return a.src[0]; }

OpCase flatten_case(Shape s, int64_t start_dim = 1, uint32_t seed = 42) {
  return {.op = "flatten",
          .attrs = {{"start_dim", AttrValue(start_dim)}},
          .inputs = {s},
          .reference = flatten_ref,
          .seed = seed};
}

Shape infer_dst(const Shape& src, int64_t start_dim) {
  const OpKernel& k = builtin_registry().op("flatten");
  const Shape in[] = {src};
  return k.infer("fl", k.resolve_attrs({{"start_dim", AttrValue(start_dim)}}, "fl"), in).dst;
}

TEST(Flatten, GradcheckAndReference) {
  const OpCase cases[] = {flatten_case({1, 1}),        flatten_case({1, 7}),           flatten_case({3, 5}),
                          flatten_case({2, 3, 4, 5}),  flatten_case({1, 3, 5, 7}, 2),  flatten_case({2, 3, 4, 5}, -1),
                          flatten_case({5, 1, 3}, 1, 9)};
  for (const OpCase& c : cases) check_op(c);
}

TEST(Flatten, Shapes) {
  EXPECT_EQ(infer_dst({2, 3, 4, 5}, 1), (Shape{2, 60}));
  EXPECT_EQ(infer_dst({2, 3, 4, 5}, 2), (Shape{2, 3, 20}));
  EXPECT_EQ(infer_dst({2, 3, 4, 5}, 3), (Shape{2, 3, 4, 5}));
  EXPECT_EQ(infer_dst({2, 3, 4, 5}, -2), (Shape{2, 3, 20}));
  EXPECT_EQ(infer_dst({2, 3, 4, 5}, -3), (Shape{2, 60}));
  EXPECT_EQ(infer_dst({1, 7}, 1), (Shape{1, 7}));
  EXPECT_EQ(infer_dst({4, 0, 3}, 1), (Shape{4, 0}));
  const OpKernel& k = builtin_registry().op("flatten");
  EXPECT_EQ(k.desc().flags, 0u);
  EXPECT_EQ(k.desc().param_count, 0u);
  ASSERT_EQ(k.desc().attr_count, 1u);
  EXPECT_EQ(k.desc().attrs[0].default_value.as.i64, 1);
  const Shape in[] = {Shape{2, 3, 4}};
  EXPECT_EQ(k.infer("fl", k.resolve_attrs({}, "fl"), in).dst, (Shape{2, 12}));
}

TEST(Flatten, BadStartDimOrRankNamesTheShape) {
  expect_error([] { infer_dst({2, 3, 4, 5}, 0); }, ErrorCode::kInvalid,
               {"fl", "start_dim", "0", "[2, 3, 4, 5]", "batch"});
  expect_error([] { infer_dst({2, 3, 4, 5}, 4); }, ErrorCode::kInvalid, {"start_dim", "4", "[2, 3, 4, 5]", "1..3"});
  expect_error([] { infer_dst({2, 3, 4, 5}, -4); }, ErrorCode::kInvalid, {"start_dim", "-4", "[2, 3, 4, 5]"});
  expect_error([] { infer_dst({7}, 1); }, ErrorCode::kInvalid, {"fl", "rank >= 2", "[7]"});
}

}  // namespace
}  // namespace plexus::test
