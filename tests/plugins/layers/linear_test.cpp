// linear: gradients, reference, fused relu, tape use, shapes and errors.
#include "support/gradcheck.hpp"

#include <plexus/ops.hpp>
#include <plexus/tape.hpp>

#include <gtest/gtest.h>
#include <omp.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

namespace plexus::test {
namespace {

// dst[n, o] = sum_i src[n, i] w[o, i] + b[o] in double, src flattened to [N, in].
std::vector<double> linear_ref(const RefArgs& a) {
  const int64_t out = a.param_shapes[0][0], in = a.param_shapes[0][1];
  const int64_t batch = a.src_shapes[0][0];
  const bool has_bias = a.param_shapes[1].numel() > 0;
  std::vector<double> dst(static_cast<size_t>(batch * out));
  for (int64_t n = 0; n < batch; ++n)
    for (int64_t o = 0; o < out; ++o) {
      double s = has_bias ? a.params[1][static_cast<size_t>(o)] : 0.0;
      for (int64_t i = 0; i < in; ++i)
        s += a.src[0][static_cast<size_t>(n * in + i)] * a.params[0][static_cast<size_t>(o * in + i)];
      dst[static_cast<size_t>(n * out + o)] = s;
    }
  return dst;
}

OpCase linear_case(Shape src, int64_t out, bool bias = true) {
  return {.op = "linear",
          .attrs = {{"out_features", AttrValue(out)}, {"bias", AttrValue(bias)}},
          .inputs = {src},
          .reference = linear_ref};
}

// Every case runs with each implementation: impl=auto picks the direct loops
// for all of these small shapes, so oneDNN's is named explicitly.
const char* const kImpls[] = {"auto", "onednn", "direct"};

TEST(Linear, GradcheckAndReference) {
  const OpCase cases[] = {
      linear_case({1, 1}, 1),     linear_case({1, 7}, 3),          linear_case({3, 5}, 4),
      linear_case({17, 13}, 11),  linear_case({2, 3, 4}, 5),       linear_case({4, 6}, 2, /*bias=*/false),
      linear_case({1, 9}, 1),     linear_case({5, 2, 1, 3}, 7),    linear_case({0, 5}, 3),
      linear_case({2, 37}, 9),  // the direct loops' row groups of 8 plus a tail, 37 = 4 vectors of 8 + 5
  };
  for (const char* impl : kImpls)
    for (OpCase c : cases) {
      SCOPED_TRACE(std::string("impl=") + impl);
      c.attrs["impl"] = AttrValue(std::string(impl));
      check_op(c);
    }
}

// activation=relu: the post-op against max(linear, 0) in double, including
// rank > 2, no bias and an empty batch.
TEST(Linear, FusedReluGradcheckAndReference) {
  const OpCase plain[] = {
      linear_case({3, 5}, 4), linear_case({17, 13}, 11),              linear_case({2, 3, 4}, 5),
      linear_case({1, 7}, 3), linear_case({4, 6}, 2, /*bias=*/false), linear_case({0, 5}, 3),
  };
  for (const char* impl : kImpls)
  for (OpCase c : plain) {
    SCOPED_TRACE(std::string("impl=") + impl);
    c.attrs["impl"] = AttrValue(std::string(impl));
    c.attrs["activation"] = AttrValue(std::string("relu"));
    c.fd_step = 1e-3;  // a smaller step crosses fewer relu kinks (outputs near 0)
    c.reference = [](const RefArgs& a) {
      std::vector<double> d = linear_ref(a);
      for (double& v : d) v = std::max(v, 0.0);
      return d;
    };
    check_op(c);
  }
}

// The fused relu's backward is PyTorch's threshold_backward: a unit with
// dst <= 0 passes +0, whatever diff_dst holds there (NaN, inf, negative),
// on both implementations. Where dst > 0 diff_dst passes as it is.
TEST(Linear, FusedReluBackwardPassesNothingThroughDeadUnits) {
  const OpKernel& k = builtin_registry().op("linear");
  for (const char* impl : {"direct", "onednn"}) {
    SCOPED_TRACE(impl);
    const AttrMap attrs{{"out_features", AttrValue(int64_t{24})},
                        {"activation", AttrValue(std::string("relu"))},
                        {"impl", AttrValue(std::string(impl))}};
    const Shape in[] = {Shape{8, 20}};
    auto inst = k.create("fc", k.resolve_attrs(attrs, "fc"), in);
    const std::vector<Tensor> src{random_tensor(in[0], 1)};
    const std::vector<Tensor> params{random_tensor(inst->shapes().params[0], 2),
                                     random_tensor(inst->shapes().params[1], 3)};
    const Tensor dst = inst->forward(src, params, /*training=*/true);
    Tensor dd = random_tensor(dst.shape(), 4);
    const float poison[] = {std::nanf(""), INFINITY, -INFINITY, -1.0f};
    int64_t dead = 0;
    for (int64_t i = 0; i < dst.numel(); ++i)
      if (dst.data()[i] <= 0.0f) dd.data()[i] = poison[dead++ % 4];
    ASSERT_GT(dead, 20);
    std::vector<Tensor> diff_src{Tensor::zeros(in[0])};
    std::vector<Tensor> diff_params{Tensor::zeros(params[0].shape()), Tensor::zeros(params[1].shape())};
    inst->backward(src, params, dst, dd, diff_src, diff_params);
    // diff_bias[o] is the sum over the batch of the masked diff_dst.
    const int64_t n = 8, out = 24;
    for (int64_t o = 0; o < out; ++o) {
      double want = 0;
      for (int64_t b = 0; b < n; ++b)
        if (dst.data()[b * out + o] > 0.0f) want += dd.data()[b * out + o];
      EXPECT_NEAR(diff_params[1].data()[o], want, 1e-5) << "diff_bias[" << o << "]";
    }
    for (const Tensor& t : {diff_src[0], diff_params[0]})
      for (float v : t.span()) ASSERT_TRUE(std::isfinite(v));
  }
}

TEST(Linear, InfersShapesAndFans) {
  const OpKernel& k = builtin_registry().op("linear");
  EXPECT_EQ(k.kind(), PLX_KIND_LAYER);
  EXPECT_EQ(k.desc().flags, uint32_t{PLX_OP_SAVES_SRC | PLX_OP_SAVES_DST});  // dst: the fused relu's mask
  EXPECT_EQ(k.desc().metric, nullptr);  // only losses have a metric
  const Shape in[] = {Shape{8, 2, 5}};
  const InferResult r = k.infer("fc1", k.resolve_attrs({{"out_features", AttrValue(int64_t{3})}}, "fc1"), in);
  EXPECT_EQ(r.dst, (Shape{8, 3}));
  ASSERT_EQ(r.params.size(), 2u);
  EXPECT_EQ(r.params[0], (Shape{3, 10}));
  EXPECT_EQ(r.params[1], (Shape{3}));
  EXPECT_EQ(r.fans[0], (std::pair<int64_t, int64_t>{10, 3}));
  EXPECT_EQ(k.desc().params[0].default_init, PLX_INIT_XAVIER_UNIFORM);
  EXPECT_EQ(k.desc().params[1].default_init, PLX_INIT_ZEROS);

  const InferResult nb = k.infer(
      "fc2", k.resolve_attrs({{"out_features", AttrValue(int64_t{3})}, {"bias", AttrValue(false)}}, "fc2"), in);
  EXPECT_EQ(nb.params[1], (Shape{0}));
}

TEST(Linear, MissingOutFeaturesNamesTheNode) {
  const OpKernel& k = builtin_registry().op("linear");
  try {
    k.resolve_attrs({}, "fc_missing");
    FAIL() << "expected plexus::Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("fc_missing"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("out_features"), std::string::npos) << e.what();
  }
}

TEST(Linear, BadShapesAndAttributesNameTheNode) {
  const OpKernel& k = builtin_registry().op("linear");
  const Shape vec[] = {Shape{7}};
  const Shape ok[] = {Shape{2, 7}};
  try {
    k.infer("fc_rank", k.resolve_attrs({{"out_features", AttrValue(int64_t{3})}}, "fc_rank"), vec);
    FAIL() << "expected plexus::Error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kInvalid);
    EXPECT_NE(std::string(e.what()).find("fc_rank"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("[7]"), std::string::npos) << e.what();
  }
  try {
    k.infer("fc_zero", k.resolve_attrs({{"out_features", AttrValue(int64_t{0})}}, "fc_zero"), ok);
    FAIL() << "expected plexus::Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("fc_zero"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("out_features"), std::string::npos) << e.what();
  }
}

TEST(Linear, UnknownActivationNamesTheNode) {
  const OpKernel& k = builtin_registry().op("linear");
  const Shape ok[] = {Shape{2, 7}};
  const AttrMap attrs{{"out_features", AttrValue(int64_t{3})}, {"activation", AttrValue(std::string("tanh"))}};
  expect_error([&] { k.infer("fc_act", k.resolve_attrs(attrs, "fc_act"), ok); }, ErrorCode::kInvalid,
               {"fc_act", "'activation'", "none or relu", "'tanh'"});
}

// sum(linear(x)) on a tape: d/dW[o, i] = sum_n x[n, i], d/db[o] = N.
TEST(Linear, OnTapeGivesParameterGradients) {
  const OpKernel& k = builtin_registry().op("linear");
  const Shape in[] = {Shape{3, 4}};
  auto inst = k.create("fc1", k.resolve_attrs({{"out_features", AttrValue(int64_t{2})}}, "fc1"), in);
  std::mt19937 rng(7);
  Tensor x = Tensor::empty({3, 4}), w = Tensor::empty({2, 4}), b = Tensor::empty({2});
  fill_uniform(x.span(), rng);
  fill_uniform(w.span(), rng);
  fill_uniform(b.span(), rng);

  Tape tape;
  const Value vx = tape.leaf(x), vw = tape.leaf(w, true), vb = tape.leaf(b, true);
  const Value src[] = {vx};
  const Value params[] = {vw, vb};
  const Value y = apply(tape, inst, src, params, /*training=*/true);
  tape.backward(ops::sum(tape, y));

  const Tensor gw = tape.grad(vw), gb = tape.grad(vb);
  ASSERT_TRUE(gw.defined());
  ASSERT_TRUE(gb.defined());
  for (int64_t o = 0; o < 2; ++o) {
    EXPECT_NEAR(gb.data()[o], 3.0, 1e-5);
    for (int64_t i = 0; i < 4; ++i) {
      const double want = double{x.data()[i]} + x.data()[4 + i] + x.data()[8 + i];
      EXPECT_NEAR(gw.data()[o * 4 + i], want, 1e-5) << "o=" << o << " i=" << i;
    }
  }
  EXPECT_FALSE(tape.grad(vx).defined());  // x does not require grad
}

// One instance, known values, then the same instance from several threads at once.
TEST(Linear, InstanceIsReusableAndConcurrent) {
  const OpKernel& k = builtin_registry().op("linear");
  const Shape in[] = {Shape{2, 3}};
  auto inst = k.create("fc1", k.resolve_attrs({{"out_features", AttrValue(int64_t{2})}}, "fc1"), in);
  const Tensor src[] = {Tensor::from({2, 3}, std::vector<float>{1, 2, 3, 4, 5, 6})};
  const Tensor params[] = {Tensor::from({2, 3}, std::vector<float>{1, 0, -1, 0.5f, 0.5f, 0.5f}),
                           Tensor::from({2}, std::vector<float>{10, 20})};
  const std::vector<float> want = {1 - 3 + 10, 3 + 20, 4 - 6 + 10, 7.5f + 20};
  for (int rep = 0; rep < 2; ++rep) {
    const Tensor y = inst->forward(src, params, false);
    EXPECT_EQ(std::vector<float>(y.data(), y.data() + 4), want);
  }
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (int rep = 0; rep < 50; ++rep) {
        const Tensor y = inst->forward(src, params, false);
        if (std::vector<float>(y.data(), y.data() + 4) != want) ++wrong;
      }
    });
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(wrong.load(), 0);
}

// dst and gradients of x, weights and bias for one linear node (then a
// separate relu node when `separate_relu`), all on one tape.
struct TapeRun {
  Tensor dst, diff_src, diff_weights, diff_bias;
};

TapeRun run_linear(const Shape& in, int64_t out, bool bias, const std::string& activation, bool separate_relu,
                   const std::string& impl = "auto") {
  const OpKernel& k = builtin_registry().op("linear");
  const AttrMap attrs{{"out_features", AttrValue(out)},
                      {"bias", AttrValue(bias)},
                      {"activation", AttrValue(activation)},
                      {"impl", AttrValue(impl)}};
  const Shape shapes[] = {in};
  auto inst = k.create("fc", k.resolve_attrs(attrs, "fc"), shapes);
  Tape tape;
  const Value x = tape.leaf(random_tensor(in, 1), true);
  const Value w = tape.leaf(random_tensor(inst->shapes().params[0], 2), true);
  const Value b = tape.leaf(random_tensor(inst->shapes().params[1], 3), true);
  const Value src[] = {x}, params[] = {w, b};
  Value y = apply(tape, inst, src, params, /*training=*/true);
  if (separate_relu) {
    const OpKernel& r = builtin_registry().op("relu");
    const Shape dst_shape[] = {y.data().shape()};
    const Value relu_src[] = {y};
    y = apply(tape, r.create("act", r.resolve_attrs({}, "act"), dst_shape), relu_src, {}, /*training=*/true);
  }
  tape.backward(y, random_tensor(y.data().shape(), 4));
  return {y.data(), tape.grad(x), tape.grad(w), tape.grad(b)};
}

// |got - want| <= rel * max|want| elementwise (at least rel * 1e-6 absolute).
void expect_near_rel(const Tensor& got, const Tensor& want, double rel, const char* what) {
  ASSERT_EQ(got.shape(), want.shape()) << what;
  double scale = 1e-6;
  for (float v : want.span()) scale = std::max(scale, static_cast<double>(std::abs(v)));
  for (int64_t i = 0; i < got.numel(); ++i)
    ASSERT_NEAR(got.data()[i], want.data()[i], rel * scale) << what << "[" << i << "]";
}

// The fused op is linear followed by the separate relu plugin: same dst and
// gradients on the same inputs, through apply() on a tape (dst saved by it).
TEST(Linear, FusedReluEqualsLinearThenRelu) {
  struct Case {
    Shape in;
    int64_t out;
    bool bias;
  };
  const Case cases[] = {{{8, 20}, 16, true}, {{3, 4, 5}, 7, false}, {{6, 9}, 1, true}, {{64, 100}, 33, true}};
  for (const char* impl : kImpls)
  for (const Case& c : cases) {
    SCOPED_TRACE(c.in.str() + " -> " + std::to_string(c.out) + (c.bias ? "" : " no bias") + " impl=" + impl);
    const TapeRun fused = run_linear(c.in, c.out, c.bias, "relu", false, impl);
    const TapeRun separate = run_linear(c.in, c.out, c.bias, "none", true, impl);
    int64_t zeros = 0;
    for (float v : separate.dst.span()) zeros += v == 0.0f;
    EXPECT_GT(zeros, 0) << "relu should cut some outputs";
    expect_near_rel(fused.dst, separate.dst, 1e-6, "dst");
    expect_near_rel(fused.diff_src, separate.diff_src, 1e-5, "diff_src");
    expect_near_rel(fused.diff_weights, separate.diff_weights, 1e-5, "diff_weights");
    if (c.bias) expect_near_rel(fused.diff_bias, separate.diff_bias, 1e-5, "diff_bias");
  }
}

// Shapes large enough for the direct loops to split over an OpenMP team
// (>= 32768 multiply-adds), against oneDNN's inner product on the same
// inputs: same dst and gradients up to rounding, and the direct results are
// bit-identical with a team of 1 and of 2 (each dst element is one dot
// product in a fixed order, whatever the split).
TEST(Linear, DirectLoopsMatchOnednnAndIgnoreTeamSize) {
  struct Case {
    Shape in;
    int64_t out;
    const char* activation;
  };
  // Rows past the last group of eight go eight samples at a time (7 x 30 ->
  // 1, 5 x 30 -> 2: an incomplete group of samples) or, for small batches,
  // all at once per sample (1 x 256 -> 10, 3 x 300 -> 262); 1100 x 240 -> 1
  // takes the parallel path.
  const Case cases[] = {{{1, 784}, 256, "relu"}, {{1, 256}, 10, "none"}, {{3, 300}, 262, "none"},
                        {{1, 1000}, 70, "relu"}, {{7, 30}, 1, "none"},     {{5, 30}, 2, "relu"},
                        {{1100, 240}, 1, "none"}, {{1100, 240}, 3, "none"}};
  const int saved = omp_get_max_threads();
  for (const Case& c : cases) {
    SCOPED_TRACE(c.in.str() + " -> " + std::to_string(c.out) + " " + c.activation);
    omp_set_num_threads(1);
    const TapeRun one = run_linear(c.in, c.out, true, c.activation, false, "direct");
    omp_set_num_threads(2);
    const TapeRun two = run_linear(c.in, c.out, true, c.activation, false, "direct");
    const TapeRun dnnl = run_linear(c.in, c.out, true, c.activation, false, "onednn");
    omp_set_num_threads(saved);
    for (const auto& [a, b, what] : {std::tuple{one.dst, two.dst, "dst"}, {one.diff_src, two.diff_src, "diff_src"},
                                     {one.diff_weights, two.diff_weights, "diff_weights"},
                                     {one.diff_bias, two.diff_bias, "diff_bias"}})
      EXPECT_EQ(std::vector<float>(a.data(), a.data() + a.numel()), std::vector<float>(b.data(), b.data() + b.numel()))
          << what;
    expect_near_rel(two.dst, dnnl.dst, 1e-5, "dst");
    expect_near_rel(two.diff_src, dnnl.diff_src, 1e-5, "diff_src");
    expect_near_rel(two.diff_weights, dnnl.diff_weights, 1e-5, "diff_weights");
    expect_near_rel(two.diff_bias, dnnl.diff_bias, 1e-5, "diff_bias");
  }
}

// One instance called many times with a team of 2: its direct loops warm up
// split, then time both ways and keep the faster (linear_direct.hpp,
// TeamChoice). Every call's dst, diff_src and diff_weights are bit-identical
// to a team of 1's, whichever way it went.
TEST(Linear, DirectResultsDoNotDependOnTheTimedChoiceOfTeam) {
  const OpKernel& k = builtin_registry().op("linear");
  const AttrMap attrs{{"out_features", AttrValue(int64_t{256})}, {"impl", AttrValue(std::string("direct"))}};
  const Shape in[] = {Shape{2, 784}};  // 401408 multiply-adds: timed both ways
  auto inst = k.create("fc", k.resolve_attrs(attrs, "fc"), in);
  const std::vector<Tensor> src{random_tensor(in[0], 1)};
  const std::vector<Tensor> params{random_tensor(inst->shapes().params[0], 2),
                                   random_tensor(inst->shapes().params[1], 3)};
  const Tensor diff_dst = random_tensor(Shape{2, 256}, 4);
  struct Result {
    std::vector<float> dst, diff_src, diff_weights;
  };
  auto call = [&] {
    const Tensor dst = inst->forward(src, params, true);
    std::vector<Tensor> diff_src{Tensor::empty(in[0])};
    std::vector<Tensor> diff_params{Tensor::empty(params[0].shape()), Tensor::empty(params[1].shape())};
    inst->backward(src, params, dst, diff_dst, diff_src, diff_params);
    auto vec = [](const Tensor& t) { return std::vector<float>(t.data(), t.data() + t.numel()); };
    return Result{vec(dst), vec(diff_src[0]), vec(diff_params[0])};
  };
  const int saved = omp_get_max_threads();
  omp_set_num_threads(1);
  const Result one = call();
  omp_set_num_threads(2);
  for (int i = 0; i < 40; ++i) {
    SCOPED_TRACE("call " + std::to_string(i));
    const Result r = call();
    EXPECT_EQ(r.dst, one.dst);
    EXPECT_EQ(r.diff_src, one.diff_src);
    EXPECT_EQ(r.diff_weights, one.diff_weights);
  }
  omp_set_num_threads(saved);
}

// A sample's output does not depend on where it sits in the batch: the
// direct loops sum every sample with the same instructions, including the
// last, incomplete group of eight samples for the rows past the last group
// of eight, and whether those rows go sample-wise (batch 7) or row-wise
// (batch 1).
TEST(Linear, DirectOutputOfASampleIgnoresItsPlaceInTheBatch) {
  for (const int64_t out : {int64_t{1}, int64_t{3}, int64_t{6}}) {
    SCOPED_TRACE("out " + std::to_string(out));
    const OpKernel& k = builtin_registry().op("linear");
    const AttrMap attrs{{"out_features", AttrValue(out)}, {"impl", AttrValue(std::string("direct"))}};
    const int64_t batch = 7, in = 30;
    const Tensor x = random_tensor(Shape{batch, in}, 5);
    const Shape shape7[] = {x.shape()};
    auto inst7 = k.create("fc", k.resolve_attrs(attrs, "fc"), shape7);
    const Tensor w = random_tensor(inst7->shapes().params[0], 6);
    const Tensor b = random_tensor(inst7->shapes().params[1], 7);
    const Tensor src7[] = {x}, params[] = {w, b};
    const Tensor all = inst7->forward(src7, params, false);
    const Shape shape1[] = {Shape{1, in}};
    auto inst1 = k.create("fc", k.resolve_attrs(attrs, "fc"), shape1);
    for (int64_t n = 0; n < batch; ++n) {
      Tensor row = Tensor::empty(Shape{1, in});
      std::copy_n(x.data() + n * in, in, row.data());
      const Tensor src1[] = {row};
      const Tensor one = inst1->forward(src1, params, false);
      for (int64_t o = 0; o < out; ++o) EXPECT_EQ(one.data()[o], all.data()[n * out + o]) << "sample " << n << ", output " << o;
    }
  }
}

TEST(Linear, UnknownImplNamesTheNode) {
  const OpKernel& k = builtin_registry().op("linear");
  const Shape ok[] = {Shape{2, 7}};
  const AttrMap attrs{{"out_features", AttrValue(int64_t{3})}, {"impl", AttrValue(std::string("mkl"))}};
  try {
    k.infer("fc9", k.resolve_attrs(attrs, "fc9"), ok);
    FAIL() << "impl=mkl was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("fc9"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("'impl' must be auto, onednn or direct, got 'mkl'"), std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace plexus::test
