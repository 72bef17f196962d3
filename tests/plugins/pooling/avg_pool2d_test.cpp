// avg_pool2d: gradients and double reference, both divisors, oneDNN agreement, shapes and errors.
#include "pool2d_ref.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace plexus::test {
namespace {

OpCase avg_case(Shape s, PoolGeom g, bool include_pad) {
  AttrMap attrs = g.attrs();
  attrs["count_include_pad"] = AttrValue(include_pad);
  const PoolKind kind = include_pad ? PoolKind::kAvgIncludePad : PoolKind::kAvgExcludePad;
  return {.op = "avg_pool2d",
          .attrs = attrs,
          .inputs = {s},
          .reference = [g, s, kind](const RefArgs& a) { return pool2d_ref(kind, g, s, a.src[0]); }};
}

TEST(AvgPool2d, GradcheckAndReference) {
  const std::pair<Shape, PoolGeom> shapes[] = {
      {{1, 1, 7, 5}, {.kernel = 2}},
      {{1, 3, 7, 5}, {.kernel = 3, .stride = 1, .padding = 1}},
      {{2, 3, 7, 5}, {.kernel = 3, .stride = 2, .padding = 1}},
      {{2, 2, 7, 5}, {.kernel = 3, .stride = 3}},
      {{1, 2, 6, 6}, {.kernel = 2, .stride = 1, .padding = 1}},
      {{3, 2, 5, 7}, {.kernel = 2, .stride = 2, .padding = 1}},
      {{1, 1, 3, 3}, {.kernel = 3, .stride = 1, .padding = 1}},
      {{2, 4, 4, 4}, {.kernel = 3, .stride = 3, .padding = 1}},
      {{1, 1, 1, 1}, {.kernel = 1}},
  };
  for (const auto& [s, g] : shapes)
    for (bool include_pad : {true, false}) check_op(avg_case(s, g, include_pad));
}

// Known values: a 2x2 image, kernel 2, stride 1, padding 1 gives 3x3 windows
// holding 1, 2 or 4 image cells.
TEST(AvgPool2d, DivisorFollowsCountIncludePad) {
  const Tensor x = Tensor::from({1, 1, 2, 2}, std::vector<float>{1, 2, 3, 4});
  const PoolGeom g{.kernel = 2, .stride = 1, .padding = 1};
  AttrMap attrs = g.attrs();
  const Tensor with_pad = run_pool("avg_pool2d", attrs, x);  // default: count_include_pad = true
  EXPECT_EQ(std::vector<float>(with_pad.span().begin(), with_pad.span().end()),
            (std::vector<float>{0.25f, 0.75f, 0.5f, 1.0f, 2.5f, 1.5f, 0.75f, 1.75f, 1.0f}));
  attrs["count_include_pad"] = AttrValue(false);
  const Tensor without = run_pool("avg_pool2d", attrs, x);
  EXPECT_EQ(std::vector<float>(without.span().begin(), without.span().end()),
            (std::vector<float>{1, 1.5f, 2, 2, 2.5f, 3, 3, 3.5f, 4}));
}

// Agreement with oneDNN's inference average pooling, within 1e-6 relative
// (summation order differs), on sizes that also take the OpenMP path.
TEST(AvgPool2d, ForwardMatchesOneDnn) {
  struct Case {
    Shape src;
    PoolGeom g;
  };
  const Case cases[] = {
      {{2, 3, 7, 5}, {.kernel = 2}},
      {{2, 3, 7, 5}, {.kernel = 3, .stride = 1, .padding = 1}},
      {{1, 4, 7, 5}, {.kernel = 3, .stride = 2, .padding = 1}},
      {{3, 2, 9, 8}, {.kernel = 3, .stride = 3}},
      {{4, 16, 33, 31}, {.kernel = 3, .stride = 2, .padding = 1}},
      {{2, 32, 56, 56}, {.kernel = 2, .stride = 2, .padding = 1}},
      {{1, 8, 28, 28}, {.kernel = 5, .stride = 1, .padding = 2}},
  };
  for (const Case& c : cases)
    for (bool include_pad : {true, false}) {
      SCOPED_TRACE(c.src.str() + " kernel " + std::to_string(c.g.kernel) + " stride " +
                   std::to_string(c.g.eff_stride()) + " padding " + std::to_string(c.g.padding) +
                   " count_include_pad " + (include_pad ? "true" : "false"));
      const Tensor x = random_tensor(c.src, 4);
      const PoolKind kind = include_pad ? PoolKind::kAvgIncludePad : PoolKind::kAvgExcludePad;
      const std::vector<float> want = dnnl_pool2d(kind, c.g, c.src, {x.span().begin(), x.span().end()});
      AttrMap attrs = c.g.attrs();
      attrs["count_include_pad"] = AttrValue(include_pad);
      const Tensor y = run_pool("avg_pool2d", attrs, x, /*training=*/true);
      ASSERT_EQ(static_cast<size_t>(y.numel()), want.size());
      int misses = 0;
      for (size_t i = 0; i < want.size(); ++i) {
        const double err = std::abs(double{y.data()[i]} - want[i]);
        if (err > 1e-6 * std::max(1.0, std::abs(double{want[i]})) && ++misses <= 5)
          ADD_FAILURE() << "[" << i << "]: got " << y.data()[i] << ", oneDNN " << want[i];
      }
      EXPECT_EQ(misses, 0);
    }
}

TEST(AvgPool2d, InfersShapesAndDeclaration) {
  const OpKernel& k = builtin_registry().op("avg_pool2d");
  EXPECT_EQ(k.kind(), PLX_KIND_LAYER);
  EXPECT_EQ(k.desc().flags, uint32_t{PLX_OP_LAYOUTS});  // backward reads only diff_dst
  ASSERT_EQ(k.desc().attr_count, 4u);
  EXPECT_STREQ(k.desc().attrs[3].name, "count_include_pad");
  EXPECT_EQ(k.desc().attrs[3].default_value.as.boolean, 1);
  const Shape in[] = {Shape{2, 3, 7, 5}};
  const PoolGeom g{.kernel = 3, .stride = 2, .padding = 1};
  EXPECT_EQ(k.infer("ap", k.resolve_attrs(g.attrs(), "ap"), in).dst, (Shape{2, 3, 4, 3}));
}

TEST(AvgPool2d, BadShapesAndAttributesAreClearErrors) {
  const OpKernel& k = builtin_registry().op("avg_pool2d");
  const auto infer = [&](const std::string& node, Shape s, const AttrMap& attrs) {
    const Shape in[] = {s};
    k.infer(node, k.resolve_attrs(attrs, node), in);
  };
  expect_error([&] { infer("ap_rank", {2, 3, 4, 4, 4}, {{"kernel", AttrValue(int64_t{2})}}); }, ErrorCode::kInvalid,
               {"ap_rank", "avg_pool2d", "rank 4", "[2, 3, 4, 4, 4]"});
  const AttrMap k2p2{{"kernel", AttrValue(int64_t{2})}, {"padding", AttrValue(int64_t{2})}};
  expect_error([&] { infer("ap_pad", {1, 1, 8, 8}, k2p2); }, ErrorCode::kInvalid, {"ap_pad", "padding", "[0, 1]"});
  expect_error([&] { infer("ap_big", {1, 1, 3, 3}, {{"kernel", AttrValue(int64_t{4})}}); }, ErrorCode::kInvalid,
               {"ap_big", "kernel 4", "larger than the padded input 3x3"});
}

}  // namespace
}  // namespace plexus::test
