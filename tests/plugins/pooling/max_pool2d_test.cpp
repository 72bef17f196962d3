// max_pool2d: gradients and double reference, ties, oneDNN agreement, shapes and errors.
#include "pool2d_ref.hpp"

#include <gtest/gtest.h>

#include <limits>

#include <atomic>
#include <cmath>
#include <numeric>
#include <thread>
#include <vector>

namespace plexus::test {
namespace {

// Distinct values 0.05 apart, shuffled: a window's maximum is unique and stays
// the maximum under the finite-difference step (0.01), so the argmax kink is
// never crossed.
void fill_distinct(size_t, std::span<float> v, std::mt19937& rng) {
  std::vector<int> order(v.size());
  std::iota(order.begin(), order.end(), 0);
  std::shuffle(order.begin(), order.end(), rng);
  for (size_t i = 0; i < v.size(); ++i) v[i] = 0.05f * static_cast<float>(order[i] - static_cast<int>(v.size() / 2));
}

OpCase max_case(Shape s, PoolGeom g) {
  return {.op = "max_pool2d",
          .attrs = g.attrs(),
          .inputs = {s},
          .reference = [g, s](const RefArgs& a) { return pool2d_ref(PoolKind::kMax, g, s, a.src[0]); },
          .fill = fill_distinct};
}

TEST(MaxPool2d, GradcheckAndReference) {
  const OpCase cases[] = {
      max_case({1, 1, 7, 5}, {.kernel = 2}),                             // stride = kernel by default
      max_case({1, 3, 7, 5}, {.kernel = 3, .stride = 1, .padding = 1}),  // overlapping, padded
      max_case({2, 3, 7, 5}, {.kernel = 3, .stride = 2, .padding = 1}),
      max_case({2, 2, 7, 5}, {.kernel = 3, .stride = 3}),                // floor drops the last row
      max_case({1, 2, 6, 6}, {.kernel = 2, .stride = 1, .padding = 1}),
      max_case({3, 2, 5, 7}, {.kernel = 2, .stride = 2, .padding = 1}),
      max_case({1, 1, 3, 3}, {.kernel = 3, .stride = 1, .padding = 1}),
      max_case({2, 4, 4, 4}, {.kernel = 3, .stride = 3, .padding = 1}),
      max_case({1, 1, 1, 1}, {.kernel = 1}),
      max_case({1, 2, 2, 3}, {.kernel = 2, .stride = 1}),
      max_case({2, 3, 8, 7}, {.kernel = 2, .stride = 3}),                // gaps between windows
      max_case({1, 2, 9, 9}, {.kernel = 3, .stride = 4, .padding = 1}),  // gaps, padded
  };
  for (const OpCase& c : cases) check_op(c);
}

// Backward on a given src: diff_src for diff_dst.
// Both ways backward finds the argmax: from the codes a training forward
// records in the workspace, and recomputed from src after an inference
// forward. They must agree bit for bit; the first is returned.
Tensor max_backward(const PoolGeom& g, const Tensor& x, const Tensor& diff_dst) {
  const OpKernel& k = builtin_registry().op("max_pool2d");
  const Shape in[] = {x.shape()};
  auto inst = k.create("pool", k.resolve_attrs(g.attrs(), "pool"), in);
  const std::vector<Tensor> src{x};
  std::vector<Tensor> got;
  for (bool training : {true, false}) {
    Tensor workspace;
    inst->forward(src, {}, training, 0, &workspace);
    std::vector<Tensor> diff_src{Tensor::full(x.shape(), std::nanf(""))};
    inst->backward(src, {}, Tensor(), diff_dst, diff_src, {}, workspace);
    got.push_back(diff_src[0]);
  }
  EXPECT_TRUE(test::same_bits(got[0], got[1])) << "argmax codes and recomputed argmax disagree";
  return got[0];
}

// Ties go to the first maximum in row-major scan order of the window.
TEST(MaxPool2d, TiesGoToTheFirstMaximum) {
  // 3x3, k=2, stride 1: four windows, each with all-equal values.
  const Tensor ones = Tensor::full({1, 1, 3, 3}, 1.0f);
  const Tensor dd = Tensor::from({1, 1, 2, 2}, std::vector<float>{1, 2, 3, 4});
  const Tensor g1 = max_backward({.kernel = 2, .stride = 1}, ones, dd);
  EXPECT_EQ(std::vector<float>(g1.span().begin(), g1.span().end()), (std::vector<float>{1, 2, 0, 3, 4, 0, 0, 0, 0}));

  // A tie inside one window that is not at its first cell: 5 at (0, 1) and (1, 0).
  const Tensor x = Tensor::from({1, 1, 2, 2}, std::vector<float>{0, 5, 5, 1});
  const Tensor g2 = max_backward({.kernel = 2}, x, Tensor::full({1, 1, 1, 1}, 1.0f));
  EXPECT_EQ(std::vector<float>(g2.span().begin(), g2.span().end()), (std::vector<float>{0, 1, 0, 0}));
}

// Windows whose every value is -inf, clipped by padding, and ties between
// -0 and +0: the gradient goes to the window's first in-bounds cell, and the
// codes a training forward records agree with the recomputed argmax.
TEST(MaxPool2d, AllMinusInfinityAndSignedZeroTiesGoToTheFirstCell) {
  const float inf = std::numeric_limits<float>::infinity();
  const Tensor x = Tensor::full({1, 1, 3, 3}, -inf);
  const Tensor dd = Tensor::from({1, 1, 2, 2}, std::vector<float>{1, 2, 3, 4});
  // k=3, stride 2, padding 1: windows start at (-1,-1), (-1,1), (1,-1), (1,1),
  // so their first in-bounds cells are (0,0), (0,1), (1,0), (1,1).
  const Tensor g = max_backward({.kernel = 3, .stride = 2, .padding = 1}, x, dd);
  EXPECT_EQ(std::vector<float>(g.span().begin(), g.span().end()), (std::vector<float>{1, 2, 0, 3, 4, 0, 0, 0, 0}));
  const Tensor z = Tensor::from({1, 1, 2, 2}, std::vector<float>{-0.0f, 0.0f, 0.0f, -0.0f});
  const Tensor gz = max_backward({.kernel = 2}, z, Tensor::full({1, 1, 1, 1}, 1.0f));
  EXPECT_EQ(std::vector<float>(gz.span().begin(), gz.span().end()), (std::vector<float>{1, 0, 0, 0}));
}

// A NaN is its window's maximum (forward NaN, gradient to the first NaN), as in PyTorch.
TEST(MaxPool2d, NanPropagates) {
  const float nan = std::nanf("");
  const Tensor x = Tensor::from({1, 1, 2, 3}, std::vector<float>{1, 9, 2, nan, 3, nan});
  const Tensor y = run_pool("max_pool2d", PoolGeom{.kernel = 2, .stride = 1}.attrs(), x);
  EXPECT_TRUE(std::isnan(y.data()[0]));
  EXPECT_TRUE(std::isnan(y.data()[1]));
  const Tensor g = max_backward({.kernel = 2, .stride = 1}, x, Tensor::from({1, 1, 1, 2}, std::vector<float>{1, 2}));
  EXPECT_EQ(std::vector<float>(g.span().begin(), g.span().end()), (std::vector<float>{0, 0, 0, 1, 0, 2}));
}

// Windows that do not overlap (stride >= kernel) take a direct path in
// backward: every cell written once. Ties, NaNs and the cells between or past
// the windows must come out as in the general path.
TEST(MaxPool2d, DisjointWindowsTiesNansAndGaps) {
  const float nan = std::nanf("");
  // 5x5, k=2, stride 3: windows at rows/cols {0,1} and {3,4}; row 2 and column 2 lie between them.
  std::vector<float> v(25, 1.0f);
  v[3 * 5 + 4] = nan;  // window (1, 1): cells (3,3)=1, (3,4)=NaN, (4,3)=1, (4,4)=1
  v[0 * 5 + 4] = 7.0f; v[1 * 5 + 3] = 7.0f;  // window (0, 1): a tie at (0,4) and (1,3)
  const Tensor x = Tensor::from({1, 1, 5, 5}, v);
  const Tensor g = max_backward({.kernel = 2, .stride = 3}, x, Tensor::from({1, 1, 2, 2}, std::vector<float>{1, 2, 3, 4}));
  std::vector<float> want(25, 0.0f);
  want[0] = 1;              // window (0, 0), all equal: its first cell
  want[0 * 5 + 4] = 2;      // window (0, 1): the first of the tied 7s in row-major order
  want[3 * 5 + 0] = 3;      // window (1, 0), all equal
  want[3 * 5 + 4] = 4;      // window (1, 1): the NaN
  EXPECT_EQ(std::vector<float>(g.span().begin(), g.span().end()), want);
}

// All-equal input with padding: each window's gradient lands on its first
// in-image cell (padded cells never win), summed where windows share it.
TEST(MaxPool2d, AllEqualInputSendsGradientToFirstInImageCell) {
  for (const PoolGeom g : {PoolGeom{.kernel = 3, .stride = 2, .padding = 1},
                           PoolGeom{.kernel = 2, .stride = 1, .padding = 1},
                           PoolGeom{.kernel = 3, .stride = 1, .padding = 1}, PoolGeom{.kernel = 2}}) {
    SCOPED_TRACE("kernel " + std::to_string(g.kernel) + " stride " + std::to_string(g.eff_stride()) + " padding " +
                 std::to_string(g.padding));
    const int64_t h = 7, w = 5, oh = g.out(h), ow = g.out(w);
    const Tensor x = Tensor::full({2, 3, h, w}, -0.5f);
    const Tensor dd = random_tensor({2, 3, oh, ow}, 11);
    std::vector<float> want(static_cast<size_t>(2 * 3 * h * w), 0.0f);
    for (int64_t plane = 0; plane < 6; ++plane)
      for (int64_t y = 0; y < oh; ++y)
        for (int64_t xo = 0; xo < ow; ++xo) {
          const int64_t hh = std::max<int64_t>(y * g.eff_stride() - g.padding, 0);
          const int64_t ww = std::max<int64_t>(xo * g.eff_stride() - g.padding, 0);
          want[static_cast<size_t>((plane * h + hh) * w + ww)] += dd.data()[(plane * oh + y) * ow + xo];
        }
    const Tensor got = max_backward(g, x, dd);
    for (size_t i = 0; i < want.size(); ++i) EXPECT_FLOAT_EQ(got.data()[i], want[i]) << i;
    const Tensor y = run_pool("max_pool2d", g.attrs(), x);
    for (float v : y.span()) EXPECT_EQ(v, -0.5f);  // padding (zeros) never beats a negative value
  }
}

// Exact agreement with oneDNN's inference max pooling, sizes large enough to
// take the OpenMP path too.
TEST(MaxPool2d, ForwardMatchesOneDnnExactly) {
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
      {{2, 32, 56, 56}, {.kernel = 2, .stride = 2}},
      {{1, 8, 28, 28}, {.kernel = 5, .stride = 1, .padding = 2}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.src.str() + " kernel " + std::to_string(c.g.kernel) + " stride " + std::to_string(c.g.eff_stride()) +
                 " padding " + std::to_string(c.g.padding));
    const Tensor x = random_tensor(c.src, 3);
    const std::vector<float> want = dnnl_pool2d(PoolKind::kMax, c.g, c.src, {x.span().begin(), x.span().end()});
    for (bool training : {false, true}) {
      const Tensor y = run_pool("max_pool2d", c.g.attrs(), x, training);
      ASSERT_EQ(y.shape(), (Shape{c.src[0], c.src[1], c.g.out(c.src[2]), c.g.out(c.src[3])}));
      ASSERT_EQ(static_cast<size_t>(y.numel()), want.size());
      int64_t diff = 0;
      for (size_t i = 0; i < want.size(); ++i) diff += y.data()[i] != want[i];
      EXPECT_EQ(diff, 0) << "elements differing from oneDNN (training=" << training << ")";
    }
  }
}

TEST(MaxPool2d, InfersShapesAndDeclaration) {
  const OpKernel& k = builtin_registry().op("max_pool2d");
  EXPECT_EQ(k.kind(), PLX_KIND_LAYER);
  EXPECT_EQ(k.desc().flags, uint32_t{PLX_OP_SAVES_SRC | PLX_OP_LAYOUTS});
  EXPECT_EQ(k.desc().param_count, 0u);
  ASSERT_EQ(k.desc().attr_count, 3u);
  EXPECT_STREQ(k.desc().attrs[0].name, "kernel");
  EXPECT_EQ(k.desc().attrs[0].required, 1);
  const auto dst = [&](Shape s, const PoolGeom& g) {
    const Shape in[] = {s};
    return k.infer("mp", k.resolve_attrs(g.attrs(), "mp"), in).dst;
  };
  EXPECT_EQ(dst({2, 3, 7, 5}, {.kernel = 2}), (Shape{2, 3, 3, 2}));
  EXPECT_EQ(dst({2, 3, 7, 5}, {.kernel = 3, .stride = 2, .padding = 1}), (Shape{2, 3, 4, 3}));
  EXPECT_EQ(dst({1, 1, 7, 5}, {.kernel = 3, .stride = 1, .padding = 1}), (Shape{1, 1, 7, 5}));
  EXPECT_EQ(dst({1, 1, 7, 5}, {.kernel = 3, .stride = 3}), (Shape{1, 1, 2, 1}));
  EXPECT_EQ(dst({0, 3, 4, 4}, {.kernel = 2}), (Shape{0, 3, 2, 2}));
}

TEST(MaxPool2d, BadShapesAndAttributesAreClearErrors) {
  const OpKernel& k = builtin_registry().op("max_pool2d");
  const auto infer = [&](const std::string& node, Shape s, const AttrMap& attrs) {
    const Shape in[] = {s};
    k.infer(node, k.resolve_attrs(attrs, node), in);
  };
  const AttrMap k2{{"kernel", AttrValue(int64_t{2})}};
  const auto kp = [](int64_t kernel, int64_t padding) {
    return AttrMap{{"kernel", AttrValue(kernel)}, {"padding", AttrValue(padding)}};
  };
  expect_error([&] { infer("mp_rank", {2, 3, 4}, k2); }, ErrorCode::kInvalid,
               {"mp_rank", "max_pool2d", "rank 4", "[2, 3, 4]"});
  expect_error([&] { infer("mp_pad", {1, 1, 8, 8}, kp(3, 2)); }, ErrorCode::kInvalid,
               {"mp_pad", "padding", "kernel / 2", "got 2"});
  expect_error([&] { infer("mp_big", {1, 1, 2, 6}, kp(5, 1)); }, ErrorCode::kInvalid,
               {"mp_big", "kernel 5", "larger than the padded input 4x8"});
  expect_error([&] { infer("mp_k0", {1, 1, 4, 4}, {{"kernel", AttrValue(int64_t{0})}}); }, ErrorCode::kInvalid,
               {"mp_k0", "kernel", ">= 1"});
  AttrMap negative_stride = k2;
  negative_stride["stride"] = AttrValue(int64_t{-1});
  expect_error([&] { infer("mp_s", {1, 1, 4, 4}, negative_stride); }, ErrorCode::kInvalid, {"mp_s", "stride"});
  expect_error([&] { infer("mp_empty", {1, 1, 0, 4}, k2); }, ErrorCode::kInvalid, {"mp_empty", "non-empty"});
  expect_error([&] { k.resolve_attrs({}, "mp_nokernel"); }, ErrorCode::kInvalid, {"mp_nokernel", "kernel"});
}

// One instance used from several threads at once (each call runs its own OpenMP team).
TEST(MaxPool2d, InstanceIsConcurrent) {
  const OpKernel& k = builtin_registry().op("max_pool2d");
  const PoolGeom g{.kernel = 3, .stride = 2, .padding = 1};
  const Shape s{4, 16, 33, 31};
  const Shape in[] = {s};
  auto inst = k.create("mp", k.resolve_attrs(g.attrs(), "mp"), in);
  const Tensor x = random_tensor(s, 5);
  const std::vector<Tensor> src{x};
  const Tensor want = inst->forward(src, {}, true);
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (int rep = 0; rep < 20; ++rep)
        if (!same_bits(inst->forward(src, {}, true), want)) ++wrong;
    });
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(wrong.load(), 0);
}

}  // namespace
}  // namespace plexus::test
