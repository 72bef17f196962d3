// batch_norm: gradients and a naive double reference in both modes, running
// statistics, the per-call workspace, blocked layouts, shapes and errors, and
// a small model that trains, checkpoints and evaluates with it.
#include "support/gradcheck.hpp"

#include <plexus/layout.hpp>
#include <plexus/model.hpp>
#include <plexus/trainer.hpp>

#include <gtest/gtest.h>
#include <oneapi/dnnl/dnnl.hpp>

#include <cmath>
#include <random>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace plexus::test {
namespace {

constexpr size_t kRunningMean = 2, kRunningVar = 3;  // parameter order: weights, bias, running_mean, running_var

// ---- the definition, in double -------------------------------------------------

/// src seen as [N, C, S]; S is the product of the spatial sizes (1 for [N, C]).
struct Dims {
  int64_t n, c, s;
  int64_t m() const { return n * s; }  // values per channel
  size_t at(int64_t i, int64_t ch, int64_t k) const { return static_cast<size_t>((i * c + ch) * s + k); }
};

Dims dims_of(const Shape& shape) {
  Dims d{shape[0], shape[1], 1};
  for (int i = 2; i < shape.ndim(); ++i) d.s *= shape[i];
  return d;
}

/// Mean and biased variance of channel ch (two passes).
std::pair<double, double> batch_stats(std::span<const double> x, const Dims& d, int64_t ch) {
  double sum = 0, sq = 0;
  for (int64_t i = 0; i < d.n; ++i)
    for (int64_t k = 0; k < d.s; ++k) sum += x[d.at(i, ch, k)];
  const double mean = sum / static_cast<double>(d.m());
  for (int64_t i = 0; i < d.n; ++i)
    for (int64_t k = 0; k < d.s; ++k) sq += (x[d.at(i, ch, k)] - mean) * (x[d.at(i, ch, k)] - mean);
  return {mean, sq / static_cast<double>(d.m())};
}

/// dst = gamma (x - mean) / sqrt(var + eps) + beta with the batch's statistics
/// (training) or the running ones (eval).
std::vector<double> batch_norm_ref(const RefArgs& a, double eps, bool training) {
  const Dims d = dims_of(a.src_shapes[0]);
  const std::vector<double>& x = a.src[0];
  std::vector<double> dst(x.size());
  if (d.m() == 0) return dst;
  for (int64_t ch = 0; ch < d.c; ++ch) {
    const size_t c = static_cast<size_t>(ch);
    const auto [mean, var] =
        training ? batch_stats(x, d, ch) : std::pair{a.params[kRunningMean][c], a.params[kRunningVar][c]};
    const double scale = a.params[0][c] / std::sqrt(var + eps);
    for (int64_t i = 0; i < d.n; ++i)
      for (int64_t k = 0; k < d.s; ++k) dst[d.at(i, ch, k)] = (x[d.at(i, ch, k)] - mean) * scale + a.params[1][c];
  }
  return dst;
}

std::vector<double> to_double(const Tensor& t) { return {t.data(), t.data() + t.numel()}; }

// ---- gradients and reference, both modes -------------------------------------

/// gamma and beta U(-1, 1), running_mean U(-1, 1), running_var U(0.5, 1.5) (a variance).
void fill_params(size_t j, std::span<float> v, std::mt19937& rng) {
  j == kRunningVar ? fill_uniform(v, rng, 0.5f, 1.5f) : fill_uniform(v, rng);
}

OpCase bn_case(Shape src, bool training, double eps = 1e-5) {
  return {.op = "batch_norm",
          .attrs = {{"eps", AttrValue(eps)}},
          .inputs = {src},
          .reference = [=](const RefArgs& a) { return batch_norm_ref(a, eps, training); },
          .param_fill = fill_params,
          .training = training};
}

// Training-mode shapes have more than one value per channel (M = N * spatial > 1).
const Shape kTrainShapes[] = {
    {4, 3},        // BatchNorm1d on features
    {1, 3, 5, 3},  // batch 1, odd spatial sizes
    {2, 2, 7, 5},
    {3, 4, 1, 1},  // 1x1 spatial: statistics over the batch only
    {2, 3, 5},     // BatchNorm1d on [N, C, L]
    {2, 1, 3, 3},  // one channel
    {0, 3, 4, 4},  // empty batch: no output, zero parameter gradients
};

TEST(BatchNorm, GradcheckAndReferenceTraining) {
  for (const Shape& s : kTrainShapes) check_op(bn_case(s, /*training=*/true));
  check_op(bn_case({3, 2, 3, 3}, true, /*eps=*/0.5));  // eps large enough to matter
}

TEST(BatchNorm, GradcheckAndReferenceEval) {
  for (const Shape& s : kTrainShapes) check_op(bn_case(s, /*training=*/false));
  check_op(bn_case({1, 3}, false));        // batch 1 is fine with running statistics
  check_op(bn_case({1, 2, 1, 1}, false));
  check_op(bn_case({2, 2, 3, 3}, false, /*eps=*/0.5));
}

// ---- instances driven directly ---------------------------------------------------

std::shared_ptr<OpInstance> make_instance(const Shape& src, const AttrMap& attrs = {}) {
  const OpKernel& k = builtin_registry().op("batch_norm");
  const Shape in[] = {src};
  return k.create("bn", k.resolve_attrs(attrs, "bn"), in);
}

/// weights, bias, running_mean, running_var for C channels, as fill_params draws them.
std::vector<Tensor> random_params(int64_t c, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<Tensor> p;
  for (size_t j = 0; j < 4; ++j) {
    p.push_back(Tensor::empty({c}));
    fill_params(j, p.back().span(), rng);
  }
  return p;
}

std::vector<Tensor> clone_all(const std::vector<Tensor>& ts) {
  std::vector<Tensor> r;
  for (const Tensor& t : ts) r.push_back(t.clone());
  return r;
}

RefArgs ref_args(const Tensor& x, const std::vector<Tensor>& params) {
  RefArgs a;
  a.src = {to_double(x)};
  a.src_shapes = {x.shape()};
  for (const Tensor& p : params) {
    a.params.push_back(to_double(p));
    a.param_shapes.push_back(p.shape());
  }
  return a;
}

/// Expects |got - want| <= tol * max(1, max |want|) elementwise.
void expect_close_rel(const std::string& what, const Tensor& got, std::span<const double> want, double tol = 1e-5) {
  const double scale = std::max(1.0, detail::max_abs(want));
  detail::expect_close(what, got.span(), want, [&](double) { return tol * scale; });
}

TEST(BatchNorm, RunningStatisticsFollowTheFormula) {
  const Shape shape{3, 4, 5, 3};
  const Dims d = dims_of(shape);
  const double momentum = 0.3;
  auto inst = make_instance(shape, {{"momentum", AttrValue(momentum)}});
  std::vector<Tensor> params = random_params(d.c, 1);
  std::vector<double> mean = to_double(params[kRunningMean]), var = to_double(params[kRunningVar]);
  for (uint64_t k = 0; k < 3; ++k) {  // three training forwards, each updating the running statistics
    const Tensor x = random_tensor(shape, 10 + k);
    const Tensor src[] = {x};
    inst->forward(src, params, /*training=*/true);
    const std::vector<double> xd = to_double(x);
    for (int64_t ch = 0; ch < d.c; ++ch) {
      const auto [bm, bv] = batch_stats(xd, d, ch);
      const double unbiased = bv * static_cast<double>(d.m()) / static_cast<double>(d.m() - 1);
      mean[static_cast<size_t>(ch)] = (1 - momentum) * mean[static_cast<size_t>(ch)] + momentum * bm;
      var[static_cast<size_t>(ch)] = (1 - momentum) * var[static_cast<size_t>(ch)] + momentum * unbiased;
    }
  }
  expect_close_rel("running_mean", params[kRunningMean], mean);
  expect_close_rel("running_var", params[kRunningVar], var);

  // An eval forward normalizes with them and leaves them as they are.
  const std::vector<Tensor> before = clone_all(params);
  const Tensor x = random_tensor(shape, 20);
  const Tensor src[] = {x};
  const Tensor y = inst->forward(src, params, /*training=*/false);
  expect_close_rel("eval dst", y, batch_norm_ref(ref_args(x, params), 1e-5, false));
  for (size_t j = 0; j < params.size(); ++j) EXPECT_TRUE(same_bits(params[j], before[j])) << "parameter " << j;
}

struct Grads {
  Tensor src, weights, bias;
};

Grads run_backward(const OpInstance& inst, const Tensor& x, const std::vector<Tensor>& params, const Tensor& diff_dst,
                   const Tensor& workspace) {
  Grads g{Tensor::empty(x.shape()), Tensor::empty(params[0].shape()), Tensor::empty(params[1].shape())};
  const Tensor src[] = {x};
  Tensor diff_src[] = {g.src};
  Tensor diff_params[] = {g.weights, g.bias, Tensor(), Tensor()};  // state parameters take no gradient
  inst.backward(src, params, Tensor(), diff_dst, diff_src, diff_params, workspace);
  return g;
}

bool same_grads(const Grads& a, const Grads& b) {
  return same_bits(a.src, b.src) && same_bits(a.weights, b.weights) && same_bits(a.bias, b.bias);
}

// Backward reads the statistics its own forward kept in the workspace: another
// forward in between (new batch statistics, updated running statistics)
// changes nothing, in either mode.
TEST(BatchNorm, BackwardUsesTheStatisticsOfItsOwnForward) {
  const Shape shape{4, 3, 3, 3};
  auto inst = make_instance(shape, {{"momentum", AttrValue(0.5)}});
  const std::vector<Tensor> initial = random_params(3, 2);
  const Tensor x1 = random_tensor(shape, 31), x2 = random_tensor(shape, 32), r = random_tensor(shape, 33);
  const Tensor src1[] = {x1}, src2[] = {x2};
  for (const bool training : {true, false}) {
    SCOPED_TRACE(training ? "training" : "eval");
    std::vector<Tensor> p_alone = clone_all(initial);
    Tensor ws_alone;
    inst->forward(src1, p_alone, training, 0, &ws_alone);
    const Grads want = run_backward(*inst, x1, p_alone, r, ws_alone);

    std::vector<Tensor> p = clone_all(initial);
    Tensor ws1, ws2;
    inst->forward(src1, p, training, 0, &ws1);
    inst->forward(src2, p, /*training=*/true, 0, &ws2);  // moves the running statistics
    ASSERT_FALSE(same_bits(p[kRunningMean], initial[kRunningMean]));
    EXPECT_TRUE(same_grads(run_backward(*inst, x1, p, r, ws1), want));
    // The workspace matters: the other forward's statistics give other gradients.
    EXPECT_FALSE(same_grads(run_backward(*inst, x1, p, r, ws2), want));
  }
}

TEST(BatchNorm, BackwardWithoutItsForwardsWorkspaceIsAnError) {
  const Shape shape{2, 3, 2, 2};
  auto inst = make_instance(shape);
  const std::vector<Tensor> params = random_params(3, 3);
  const Tensor x = random_tensor(shape, 4);
  const Tensor garbage = Tensor::zeros({inst->workspace_bytes() / 4});  // no forward wrote it
  EXPECT_GT(inst->workspace_bytes(), 0);
  expect_error([&] { run_backward(*inst, x, params, x, garbage); }, ErrorCode::kPlugin, {"workspace"});
}

// ---- blocked layouts -------------------------------------------------------------

struct TapeRun {
  Tensor dst, diff_src, diff_weights, diff_bias, running_mean, running_var;
};

/// dst = batch_norm(x) on a tape, x converted to `layout` first (null: plain),
/// then backward with diff_dst = r; gradients come back plain.
TapeRun run_on_tape(const std::shared_ptr<const OpInstance>& inst, const Tensor& x,
                    const std::vector<Tensor>& initial, const Tensor& r, bool training,
                    const std::shared_ptr<const Layout>& layout) {
  Tape tape;
  const std::vector<Tensor> params = clone_all(initial);
  const Value xv = tape.leaf(x, true);
  std::vector<Value> pv;
  for (size_t j = 0; j < params.size(); ++j) pv.push_back(tape.leaf(params[j], j < kRunningMean));
  const Value src[] = {layout ? to_layout(tape, xv, layout) : xv};
  const Value y = apply(tape, inst, src, pv, training);
  EXPECT_EQ(y.data().layout(), layout) << "dst is in src's layout";
  const Value plain = to_plain(tape, y);
  tape.backward(plain, r);
  return {plain.data(), xv.grad(), pv[0].grad(), pv[1].grad(), params[kRunningMean], params[kRunningVar]};
}

void expect_same_within(const std::string& what, const Tensor& got, const Tensor& want) {
  ASSERT_FALSE(got.blocked()) << what;
  ASSERT_EQ(got.shape(), want.shape()) << what;
  expect_close_rel(what, got, to_double(want), 1e-5);
}

TEST(BatchNorm, BlockedLayoutMatchesPlain) {
  const Shape shape{2, 5, 5, 3};  // C = 5: nChw8c pads the channels to 8
  const dnnl::memory::desc md({2, 5, 5, 3}, dnnl::memory::data_type::f32, dnnl::memory::format_tag::nChw8c);
  const std::shared_ptr<const Layout> layout = Layout::intern(&md.data, shape);
  ASSERT_NE(layout, nullptr);
  const OpKernel& k = builtin_registry().op("batch_norm");
  const ResolvedAttrs attrs = k.resolve_attrs({}, "bn");
  const Shape in[] = {shape};
  const std::shared_ptr<const Layout> layouts[] = {layout};
  auto plain = k.create("bn", attrs, in);
  auto blocked = k.create("bn", attrs, in, layouts, /*layouts=*/true);
  EXPECT_EQ(plain->dst_layout(), nullptr);
  ASSERT_EQ(blocked->src_layouts()[0], layout);
  ASSERT_EQ(blocked->dst_layout(), layout);

  const std::vector<Tensor> params = random_params(5, 5);
  const Tensor x = random_tensor(shape, 6), r = random_tensor(shape, 7);
  for (const bool training : {true, false}) {
    SCOPED_TRACE(training ? "training" : "eval");
    const TapeRun want = run_on_tape(plain, x, params, r, training, nullptr);
    const TapeRun got = run_on_tape(blocked, x, params, r, training, layout);
    expect_same_within("dst", got.dst, want.dst);
    expect_same_within("diff_src", got.diff_src, want.diff_src);
    expect_same_within("diff_weights", got.diff_weights, want.diff_weights);
    expect_same_within("diff_bias", got.diff_bias, want.diff_bias);
    expect_same_within("running_mean", got.running_mean, want.running_mean);
    expect_same_within("running_var", got.running_var, want.running_var);
  }
}

// dst would have to be blocked like src: without layouts the op refuses the
// blocked src, and the runtime makes a plain instance instead.
TEST(BatchNorm, BlockedSrcWithoutLayoutsFallsBackToPlain) {
  const Shape shape{2, 8, 3, 3};
  const dnnl::memory::desc md({2, 8, 3, 3}, dnnl::memory::data_type::f32, dnnl::memory::format_tag::nChw8c);
  const std::shared_ptr<const Layout> layouts[] = {Layout::intern(&md.data, shape)};
  const OpKernel& k = builtin_registry().op("batch_norm");
  const Shape in[] = {shape};
  auto inst = k.create("bn", k.resolve_attrs({}, "bn"), in, layouts, /*layouts=*/false);
  EXPECT_EQ(inst->src_layouts()[0], nullptr);
  EXPECT_EQ(inst->dst_layout(), nullptr);
}

// ---- declaration, shapes and errors ------------------------------------------------

TEST(BatchNorm, DeclaresStateParametersAndInfersShapes) {
  const OpKernel& k = builtin_registry().op("batch_norm");
  EXPECT_EQ(k.kind(), PLX_KIND_LAYER);
  EXPECT_EQ(k.desc().flags, uint32_t{PLX_OP_SAVES_SRC | PLX_OP_LAYOUTS});
  ASSERT_EQ(k.desc().param_count, 4u);
  const char* names[] = {"weights", "bias", "running_mean", "running_var"};
  const int32_t inits[] = {PLX_INIT_CONSTANT, PLX_INIT_ZEROS, PLX_INIT_ZEROS, PLX_INIT_CONSTANT};
  const double values[] = {1.0, 0.0, 0.0, 1.0};
  for (uint32_t j = 0; j < 4; ++j) {
    EXPECT_STREQ(k.desc().params[j].name, names[j]);
    EXPECT_EQ(k.desc().params[j].default_init, inits[j]) << names[j];
    EXPECT_EQ(k.desc().params[j].default_init_value, values[j]) << names[j];
    EXPECT_EQ(k.param_is_state(j), j >= kRunningMean) << names[j];
  }
  for (const Shape& s : {Shape{8, 6}, Shape{8, 6, 11}, Shape{8, 6, 5, 7}, Shape{1, 6, 2, 3, 4}}) {
    const Shape in[] = {s};
    const InferResult r = k.infer("bn", k.resolve_attrs({}, "bn"), in);
    EXPECT_EQ(r.dst, s);
    ASSERT_EQ(r.params.size(), 4u);
    for (const Shape& p : r.params) EXPECT_EQ(p, (Shape{6})) << s.str();
  }
}

void expect_infer_error(const Shape& src, const AttrMap& attrs, const std::vector<std::string>& parts) {
  const OpKernel& k = builtin_registry().op("batch_norm");
  const Shape in[] = {src};
  expect_error([&] { k.infer("bn_bad", k.resolve_attrs(attrs, "bn_bad"), in); }, ErrorCode::kInvalid, parts);
}

TEST(BatchNorm, BadShapesAndAttributesAreErrors) {
  expect_infer_error({8}, {}, {"bn_bad", "[N, C]", "[8]"});
  expect_infer_error({1, 2, 3, 4, 5, 6}, {}, {"at most 3 spatial", "[1, 2, 3, 4, 5, 6]"});
  expect_infer_error({2, 0, 3}, {}, {"C and every spatial size > 0", "[2, 0, 3]"});
  expect_infer_error({2, 3}, {{"momentum", AttrValue(1.5)}}, {"'momentum'", "[0, 1]", "1.5"});
  expect_infer_error({2, 3}, {{"eps", AttrValue(0.0)}}, {"'eps'", "> 0"});
}

// As PyTorch: training needs more than one value per channel; eval does not.
TEST(BatchNorm, TrainingOnOneValuePerChannelIsAnError) {
  const Shape shape{1, 3};
  auto inst = make_instance(shape);
  std::vector<Tensor> params = random_params(3, 8);
  const Tensor src[] = {random_tensor(shape, 9)};
  expect_error([&] { inst->forward(src, params, /*training=*/true); }, ErrorCode::kInvalid,
               {"more than one value per channel", "[1, 3]"});
  EXPECT_EQ(inst->forward(src, params, /*training=*/false).shape(), shape);
}

// ---- in a model ------------------------------------------------------------------

const char* kModel = R"(
format_version: 1
inputs { name: "image" shape: 1 shape: 6 shape: 6 source: "features" }
inputs { name: "label" source: "labels" }
nodes { name: "conv" kernel: "conv2d" inputs: "image"
        attrs { key: "out_channels" value { i: 4 } } attrs { key: "kernel" value { i: 3 } }
        attrs { key: "padding" value { i: 1 } } }
nodes { name: "bn" kernel: "batch_norm" inputs: "conv" attrs { key: "momentum" value { f: 0.2 } } }
nodes { name: "flat" kernel: "flatten" inputs: "bn" }
nodes { name: "fc" kernel: "linear" inputs: "flat" attrs { key: "out_features" value { i: 3 } } }
nodes { name: "xent" kernel: "softmax_cross_entropy" inputs: "fc" inputs: "label" }
output: "fc"
loss: "xent"
)";

/// n samples of 6x6 images, N(0, 3^2) pixels, labels 0..2 as floats.
Dataset synthetic_data(int64_t n) {
  Dataset d;
  d.features = random_tensor({n, 36}, 41);
  d.labels = Tensor::empty({n});
  for (int64_t i = 0; i < n; ++i) d.labels.data()[i] = static_cast<float>(i % 3);
  d.source = "synthetic";
  return d;
}

bool all_equal(const Tensor& t, float v) {
  for (float x : t.span())
    if (x != v) return false;
  return true;
}

std::vector<std::string> names_of(const std::vector<std::pair<std::string, Shape>>& shapes) {
  std::vector<std::string> r;
  for (const auto& [name, shape] : shapes) r.push_back(name);
  return r;
}

TEST(BatchNormModel, TrainsCheckpointsAndEvaluatesWithRunningStatistics) {
  RuntimeOptions ro;
  ro.threads = 1;  // bit-reproducible evaluations
  Runtime rt(ro);
  Model model(rt, parse_model_def_text(kModel, "bn_model.pbtxt"), "bn_model.pbtxt");
  const std::vector<std::string> learned = names_of(model.learned_param_shapes());
  EXPECT_EQ(learned, (std::vector<std::string>{"conv.weights", "conv.bias", "bn.weights", "bn.bias", "fc.weights",
                                               "fc.bias"}));
  EXPECT_EQ(model.param_shapes().size(), 8u);  // checkpoints hold the running statistics too
  EXPECT_TRUE(model.is_state_param("bn.running_mean"));
  EXPECT_TRUE(model.is_state_param("bn.running_var"));
  EXPECT_FALSE(model.is_state_param("bn.weights"));

  model.init_params(1);  // the declared defaults: gamma 1, beta 0, mean 0, var 1
  EXPECT_TRUE(all_equal(model.param("bn.weights"), 1.f));
  EXPECT_TRUE(all_equal(model.param("bn.running_mean"), 0.f));
  EXPECT_TRUE(all_equal(model.param("bn.running_var"), 1.f));

  const Dataset data = synthetic_data(40);
  TrainOptions opt;
  opt.batch_size = 8;
  opt.hparams["lr"] = AttrValue(0.05);
  opt.seed = 3;
  Trainer trainer(model, opt);
  trainer.fit(data, nullptr);
  EXPECT_EQ(trainer.step(), 5);
  EXPECT_FALSE(all_equal(model.param("bn.running_mean"), 0.f));  // the training forwards updated them
  EXPECT_FALSE(all_equal(model.param("bn.running_var"), 1.f));
  EXPECT_FALSE(all_equal(model.param("bn.weights"), 1.f));       // and the optimizer updated gamma

  // Eval normalizes with the running statistics and never changes them:
  // the same result twice, and (up to summation order) for any batch size.
  const Tensor mean = model.param("bn.running_mean").clone(), var = model.param("bn.running_var").clone();
  const EvalResult a = evaluate(model, data), b = evaluate(model, data);
  EXPECT_EQ(a.loss, b.loss);
  EXPECT_EQ(a.correct, b.correct);
  EXPECT_NEAR(evaluate(model, data, 3).loss, a.loss, 1e-5 * (1 + std::abs(a.loss)));
  EXPECT_TRUE(same_bits(model.param("bn.running_mean"), mean));
  EXPECT_TRUE(same_bits(model.param("bn.running_var"), var));

  // A checkpoint restores every parameter, running statistics included, bit for bit.
  const std::string path = temp_dir() + "/bn.ckpt";
  model.save_weights(path);
  Model fresh(rt, parse_model_def_text(kModel, "bn_model.pbtxt"), "bn_model.pbtxt");
  fresh.load_weights(path);
  for (const auto& [name, shape] : model.param_shapes())
    EXPECT_TRUE(same_bits(fresh.param(name), model.param(name))) << name;
  EXPECT_EQ(evaluate(fresh, data).loss, a.loss);

  // And eval really reads them: shifting running_mean changes the loss.
  for (float& v : fresh.param("bn.running_mean").span()) v += 1.f;
  EXPECT_NE(evaluate(fresh, data).loss, a.loss);
}

}  // namespace
}  // namespace plexus::test
