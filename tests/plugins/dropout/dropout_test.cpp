// dropout: the mask's rate and determinism (seed, OpenMP team size), exact
// scaling, gradients (exact and finite differences), eval mode, attribute
// errors, and a small MLP with a dropout node trained end to end.
#include "support/gradcheck.hpp"

#include <plexus/model.hpp>
#include <plexus/trainer.hpp>

#include <gtest/gtest.h>
#include <omp.h>

#include <cmath>
#include <limits>
#include <map>
#include <random>
#include <string>
#include <vector>

namespace plexus::test {
namespace {

std::shared_ptr<OpInstance> make_dropout(double p, const Shape& s, const std::string& node = "drop") {
  const OpKernel& k = builtin_registry().op("dropout");
  const Shape in[] = {s};
  return k.create(node, k.resolve_attrs({{"p", AttrValue(p)}}, node), in);
}

/// Values in +-[0.1, 1]: an element of dst is 0 exactly when it was dropped.
Tensor nonzero_tensor(const Shape& s, uint32_t seed) {
  std::mt19937 rng(seed);
  Tensor t = Tensor::empty(s);
  fill_away_from_zero(t.span(), rng);
  return t;
}

/// A forward's output and the workspace its backward needs.
struct Forward {
  Tensor dst, workspace;
};

Forward forward(const OpInstance& inst, const Tensor& src, bool training, uint64_t seed) {
  Forward f;
  f.dst = inst.forward(std::vector<Tensor>{src}, {}, training, seed, &f.workspace);
  return f;
}

/// diff_src for diff_dst after forward `f`; starts as NaN so an unwritten element fails.
Tensor backward(const OpInstance& inst, const Forward& f, const Tensor& diff_dst) {
  std::vector<Tensor> diff_src{Tensor::full(diff_dst.shape(), std::numeric_limits<float>::quiet_NaN())};
  inst.backward(std::vector<Tensor>(1), {}, Tensor(), diff_dst, diff_src, {}, f.workspace);
  return diff_src[0];
}

/// What a kept element must hold: v / (1 - p), rounded once to f32.
float scaled(float v, double p) { return static_cast<float>(static_cast<double>(v) / (1.0 - p)); }

int64_t count_zeros(const Tensor& t) {
  int64_t n = 0;
  for (float v : t.span()) n += v == 0.0f;
  return n;
}

TEST(Dropout, Declaration) {
  const plx_op_desc& d = builtin_registry().op("dropout").desc();
  EXPECT_EQ(d.kind, PLX_KIND_ACTIVATION);
  EXPECT_EQ(d.flags, 0u);  // backward reads only the workspace and diff_dst
  ASSERT_EQ(d.input_count, 1u);
  EXPECT_STREQ(d.inputs[0], "src");
  ASSERT_EQ(d.attr_count, 1u);
  EXPECT_STREQ(d.attrs[0].name, "p");
  EXPECT_EQ(d.attrs[0].default_value.type, PLX_VALUE_F64);
  EXPECT_EQ(d.attrs[0].default_value.as.f64, 0.5);
  const Shape s{2, 3, 4, 5};  // any shape: dst has src's
  EXPECT_EQ(make_dropout(0.5, s)->shapes().dst, s);
}

// 100k Bernoulli draws: the dropped fraction is within 4 sigma of p, and every
// kept element is exactly src / (1 - p).
TEST(Dropout, DroppedFractionIsPAndKeptValuesAreScaled) {
  const Shape s{100, 1000};
  const Tensor x = nonzero_tensor(s, 1);
  for (double p : {0.1, 0.5, 0.9}) {
    SCOPED_TRACE("p = " + std::to_string(p));
    const Tensor y = forward(*make_dropout(p, s), x, true, 1234).dst;
    const double n = static_cast<double>(s.numel());
    EXPECT_NEAR(static_cast<double>(count_zeros(y)) / n, p, 4 * std::sqrt(p * (1 - p) / n));
    int64_t wrong = 0;
    for (int64_t i = 0; i < s.numel(); ++i)
      wrong += y.data()[i] != 0.0f && y.data()[i] != scaled(x.data()[i], p);
    EXPECT_EQ(wrong, 0) << "kept elements not equal to src / (1 - p)";
  }
}

TEST(Dropout, SameSeedSameMaskOtherSeedOtherMask) {
  const Shape s{50, 200};
  const Tensor x = nonzero_tensor(s, 2);
  auto inst = make_dropout(0.5, s);
  const Tensor a = forward(*inst, x, true, 77).dst;
  EXPECT_TRUE(same_bits(a, forward(*inst, x, true, 77).dst));
  EXPECT_TRUE(same_bits(a, forward(*make_dropout(0.5, s, "other"), x, true, 77).dst)) << "a fresh instance";
  // Neighbouring seeds and seeds differing only in the top bit: about half
  // of the elements change between two independent masks at p = 0.5.
  for (uint64_t other : {uint64_t{78}, uint64_t{77} | (uint64_t{1} << 63)}) {
    const Tensor b = forward(*inst, x, true, other).dst;
    int64_t differ = 0;
    for (int64_t i = 0; i < s.numel(); ++i) differ += (a.data()[i] == 0.0f) != (b.data()[i] == 0.0f);
    EXPECT_GT(differ, s.numel() / 3) << "seed " << other;
    EXPECT_LT(differ, 2 * s.numel() / 3) << "seed " << other;
  }
}

// Big enough for the plugin's parallel path; forward and backward give the
// same bits with teams of 1, 2 and 3 threads.
TEST(Dropout, MaskDoesNotDependOnTheOpenMpTeamSize) {
  const Shape s{4, 50000};
  const Tensor x = nonzero_tensor(s, 3), r = random_tensor(s, 4);
  auto inst = make_dropout(0.3, s);
  const int saved = omp_get_max_threads();
  std::vector<Tensor> dst, diff_src;
  for (int team : {1, 2, 3}) {
    omp_set_num_threads(team);
    const Forward f = forward(*inst, x, true, 5);
    dst.push_back(f.dst);
    diff_src.push_back(backward(*inst, f, r));
  }
  omp_set_num_threads(saved);
  for (size_t t = 1; t < dst.size(); ++t) {
    EXPECT_TRUE(same_bits(dst[0], dst[t])) << "forward, team " << t + 1;
    EXPECT_TRUE(same_bits(diff_src[0], diff_src[t])) << "backward, team " << t + 1;
  }
}

// diff_src = diff_dst * mask / (1 - p) exactly, through OpInstance and through
// apply() on a tape with the same seed.
TEST(Dropout, GradientIsDiffDstThroughTheMask) {
  const Shape s{64, 300};
  const double p = 0.3;
  const uint64_t seed = 99;
  const Tensor x = nonzero_tensor(s, 6), r = random_tensor(s, 7);
  auto inst = make_dropout(p, s);
  const Forward f = forward(*inst, x, true, seed);
  const Tensor g = backward(*inst, f, r);
  int64_t wrong = 0;
  for (int64_t i = 0; i < s.numel(); ++i) {
    const float want = f.dst.data()[i] == 0.0f ? 0.0f : scaled(r.data()[i], p);
    wrong += g.data()[i] != want;
  }
  EXPECT_EQ(wrong, 0);

  Tape tape;
  const Value xv = tape.leaf(x, true);
  const Value y = apply(tape, inst, std::vector<Value>{xv}, {}, true, seed);
  EXPECT_TRUE(same_bits(y.data(), f.dst)) << "apply draws the mask OpInstance::forward draws";
  tape.backward(y, r);
  EXPECT_TRUE(same_bits(tape.grad(xv), g)) << "the tape hands backward its forward's workspace";
}

// Central differences of the f32 op at a fixed seed (the mask does not move
// with src) against backward, as gradcheck.hpp does for ops without a seed.
TEST(Dropout, FiniteDifferencesWithAFixedSeed) {
  const Shape s{3, 7};
  const uint64_t seed = 11;
  auto inst = make_dropout(0.4, s);
  Tensor x = nonzero_tensor(s, 8);
  const Tensor r = random_tensor(s, 9);
  const Forward f = forward(*inst, x, true, seed);
  const int64_t zeros = count_zeros(f.dst);
  ASSERT_GT(zeros, 0) << "pick a seed that drops some elements";
  ASSERT_LT(zeros, s.numel()) << "pick a seed that keeps some elements";
  const Tensor analytic = backward(*inst, f, r);

  const auto objective = [&] {  // J = sum(dst * r), so dJ/dsrc = backward(diff_dst = r)
    const Tensor d = forward(*inst, x, true, seed).dst;
    double j = 0;
    for (int64_t k = 0; k < d.numel(); ++k) j += static_cast<double>(d.data()[k]) * r.data()[k];
    return j;
  };
  const float step = 1e-2f;
  std::vector<double> numeric(static_cast<size_t>(s.numel()));
  for (int64_t k = 0; k < s.numel(); ++k) {
    float& v = x.data()[k];
    const float v0 = v;
    v = v0 + step;
    const double hp = static_cast<double>(v) - v0, jp = objective();
    v = v0 - step;
    const double hm = static_cast<double>(v0) - v, jm = objective();
    v = v0;
    numeric[static_cast<size_t>(k)] = (jp - jm) / (hp + hm);
  }
  detail::expect_close("finite differences vs diff_src", analytic.span(), numeric,
                       [](double n) { return 1e-3 * (1 + std::abs(n)); });
}

// Eval mode at any p, and p = 0 in either mode: dst = src and diff_src = diff_dst.
TEST(Dropout, EvalAndPZeroAreTheIdentity) {
  const Shape s{8, 9};
  const Tensor x = random_tensor(s, 10), r = random_tensor(s, 11);
  struct Case {
    double p;
    bool training;
  };
  for (const Case c : {Case{0.5, false}, Case{0.9, false}, Case{0.0, false}, Case{0.0, true}}) {
    SCOPED_TRACE("p = " + std::to_string(c.p) + (c.training ? ", training" : ", eval"));
    auto inst = make_dropout(c.p, s);
    const Forward f = forward(*inst, x, c.training, 12);
    EXPECT_TRUE(same_bits(f.dst, x));
    EXPECT_TRUE(same_bits(backward(*inst, f, r), r));
  }
  // One instance, a training then an eval forward: each backward follows its own forward.
  auto inst = make_dropout(0.5, s);
  const Forward train = forward(*inst, x, true, 13), eval = forward(*inst, x, false, 13);
  EXPECT_TRUE(same_bits(backward(*inst, eval, r), r));
  EXPECT_FALSE(same_bits(backward(*inst, train, r), r));
}

TEST(Dropout, EmptyBatch) {
  const Shape s{0, 5};
  auto inst = make_dropout(0.5, s);
  const Forward f = forward(*inst, Tensor::empty(s), true, 1);
  EXPECT_EQ(f.dst.shape(), s);
  EXPECT_EQ(backward(*inst, f, Tensor::empty(s)).numel(), 0);
}

TEST(Dropout, POutsideZeroOneNamesTheNode) {
  const OpKernel& k = builtin_registry().op("dropout");
  const Shape in[] = {Shape{2, 3}};
  const auto infer = [&](double p) { k.infer("drop7", k.resolve_attrs({{"p", AttrValue(p)}}, "drop7"), in); };
  expect_error([&] { infer(1.0); }, ErrorCode::kInvalid, {"node 'drop7'", "dropout", "'p'", "[0, 1)", "got 1"});
  expect_error([&] { infer(1.5); }, ErrorCode::kInvalid, {"node 'drop7'", "[0, 1)", "got 1.5"});
  expect_error([&] { infer(-0.1); }, ErrorCode::kInvalid, {"node 'drop7'", "[0, 1)", "got -0.1"});
  expect_error([&] { infer(std::nan("")); }, ErrorCode::kInvalid, {"node 'drop7'", "[0, 1)", "nan"});
  EXPECT_NO_THROW(infer(0.0));
  EXPECT_NO_THROW(infer(0.999));
}

// ---- a model with a dropout node ---------------------------------------------

const Runtime& runtime() {
  static Runtime* rt = new Runtime([] {
    RuntimeOptions o;
    o.threads = 1;  // the trainer is deterministic for a given seed and thread count
    return o;
  }());
  return *rt;
}

// 8 -> 16 -> relu -> dropout -> 3, softmax cross-entropy.
const char* kMlp = R"(
format_version: 1
inputs { name: "x" shape: 8 source: "features" }
inputs { name: "y" source: "labels" }
nodes { name: "fc1"   kernel: "linear" inputs: "x" attrs { key: "out_features" value { i: 16 } } }
nodes { name: "relu1" kernel: "relu" inputs: "fc1" }
nodes { name: "drop1" kernel: "dropout" inputs: "relu1" attrs { key: "p" value { f: 0.3 } } }
nodes { name: "fc2"   kernel: "linear" inputs: "drop1" attrs { key: "out_features" value { i: 3 } } }
nodes { name: "xent"  kernel: "softmax_cross_entropy" inputs: "fc2" inputs: "y" }
output: "fc2"
loss: "xent"
)";

std::string replace(std::string s, const std::string& from, const std::string& to) {
  const size_t at = s.find(from);
  EXPECT_NE(at, std::string::npos) << "test bug: '" << from << "' not in the model text";
  if (at != std::string::npos) s.replace(at, from.size(), to);
  return s;
}

Model mlp(const std::string& text = kMlp) {
  return Model(runtime(), parse_model_def_text(text, "drop.pbtxt"), "drop.pbtxt");
}

/// 96 samples of 8 N(0, 1) features; the class (0, 1, 2) is which third of
/// the line x0 + x1 falls in, so a small MLP can learn it.
Dataset synthetic() {
  const int64_t n = 96, d = 8;
  std::mt19937_64 rng(21);
  std::normal_distribution<float> normal;
  Dataset data;
  data.features = Tensor::empty(Shape{n, d});
  data.labels = Tensor::empty(Shape{n});
  data.source = "synthetic";
  for (int64_t i = 0; i < n; ++i) {
    float* row = data.features.data() + i * d;
    for (int64_t j = 0; j < d; ++j) row[j] = normal(rng);
    const float s = row[0] + row[1];
    data.labels.data()[i] = s < -0.5f ? 0.0f : (s < 0.5f ? 1.0f : 2.0f);
  }
  return data;
}

TrainOptions options(uint64_t seed) {
  TrainOptions o;
  o.epochs = 4;
  o.batch_size = 16;
  o.optimizer = "sgd";
  o.hparams["lr"] = AttrValue(0.1);
  o.seed = seed;
  return o;
}

/// Every parameter after training a fresh model with `o`, copied out.
/// `init_seed` >= 0 fixes the initial parameters independently of o.seed.
std::map<std::string, Tensor> trained_params(const TrainOptions& o, int64_t init_seed = -1) {
  Model m = mlp();
  if (init_seed >= 0) m.init_params(static_cast<uint64_t>(init_seed));
  Trainer(m, o).fit(synthetic(), nullptr);
  std::map<std::string, Tensor> params;
  for (const auto& [name, shape] : m.param_shapes()) params[name] = m.param(name).clone();
  return params;
}

TEST(DropoutModel, SameSeedGivesBitIdenticalParameters) {
  const auto a = trained_params(options(3)), b = trained_params(options(3));
  ASSERT_EQ(a.size(), 4u);
  for (const auto& [name, t] : a) EXPECT_TRUE(same_bits(t, b.at(name))) << name;
}

// Same initial parameters and sample order: only the dropout masks see the seed.
TEST(DropoutModel, DifferentSeedsGiveDifferentParameters) {
  TrainOptions o3 = options(3), o4 = options(4);
  o3.shuffle = o4.shuffle = false;
  const auto a = trained_params(o3, 1), b = trained_params(o4, 1);
  EXPECT_FALSE(same_bits(a.at("fc1.weights"), b.at("fc1.weights")));
  EXPECT_FALSE(same_bits(a.at("fc2.weights"), b.at("fc2.weights")));
}

// Eval mode is deterministic, and it is the model without the dropout node.
TEST(DropoutModel, EvaluateIsDeterministicAndSkipsDropout) {
  const Dataset data = synthetic();
  Model m = mlp();
  Trainer(m, options(5)).fit(data, nullptr);
  const EvalResult first = evaluate(m, data), second = evaluate(m, data);
  EXPECT_EQ(first.loss, second.loss);
  EXPECT_EQ(first.correct, second.correct);

  Model plain = mlp(replace(replace(kMlp, "inputs: \"drop1\"", "inputs: \"relu1\""),
                            "nodes { name: \"drop1\" kernel: \"dropout\" inputs: \"relu1\" "
                            "attrs { key: \"p\" value { f: 0.3 } } }",
                            ""));
  plain.init_params(0);
  for (const auto& [name, shape] : m.param_shapes()) plain.param(name).copy_from(m.param(name));
  EXPECT_EQ(evaluate(plain, data).loss, first.loss);
}

TEST(DropoutModel, TrainingLowersTheLoss) {
  const Dataset data = synthetic();
  Model m = mlp();
  m.init_params(6);
  const double before = evaluate(m, data).loss;
  TrainOptions o = options(6);
  o.epochs = 20;
  Trainer(m, o).fit(data, nullptr);
  const double after = evaluate(m, data).loss;
  EXPECT_LT(after, 0.7 * before) << "loss " << before << " -> " << after;
}

TEST(DropoutModel, BadPNamesTheFileAndNode) {
  expect_error([] { mlp(replace(kMlp, "value { f: 0.3 }", "value { f: 1 }")); }, ErrorCode::kInvalid,
               {"drop.pbtxt", "node 'drop1'", "'p'", "[0, 1)", "got 1"});
}

}  // namespace
}  // namespace plexus::test
