// A plugin built for ABI 1.0 (tests/plugins/fixtures/abi10_op.c) in a network
// of ABI 1.1 built-ins: it loads unchanged, and although conv2d hands on a
// blocked tensor, the 1.0 ops only ever see plain data (they fail on any
// layout), and their gradients flow back into conv2d's layout. Results equal
// the run with blocked layouts off, the weight gradient of the 1.0 layer
// matches finite differences, and a Trainer lowers the loss.
#include <plexus/data.hpp>
#include <plexus/layout.hpp>
#include <plexus/model.hpp>
#include <plexus/trainer.hpp>

#include "support/test_support.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>

namespace plexus {
namespace {

const std::string kPluginFile = PLEXUS_FIXTURE_PLUGIN_DIR "/abi10/libfixture_abi10.so";
constexpr int64_t kChannels = 16;

// conv2d on a 1-channel plain image picks a blocked dst (nChw16c with AVX-512);
// the two ABI 1.0 ops sit right behind it.
const char* const kModelText = R"pb(
format_version: 1
name: "abi10"
inputs { name: "image" shape: 1 shape: 12 shape: 12 source: "features" }
inputs { name: "label" source: "labels" }
nodes { name: "conv" kernel: "conv2d" inputs: "image"
        attrs { key: "out_channels" value { i: 16 } } attrs { key: "kernel" value { i: 3 } }
        attrs { key: "padding" value { i: 1 } } }
nodes { name: "cscale" kernel: "abi10_channel_scale" inputs: "conv" }
nodes { name: "relu" kernel: "relu" inputs: "cscale" }
nodes { name: "scale" kernel: "abi10_scale" inputs: "relu" }
nodes { name: "pool" kernel: "max_pool2d" inputs: "scale" attrs { key: "kernel" value { i: 2 } } }
nodes { name: "flat" kernel: "flatten" inputs: "pool" }
nodes { name: "fc" kernel: "linear" inputs: "flat" attrs { key: "out_features" value { i: 10 } } }
nodes { name: "xent" kernel: "softmax_cross_entropy" inputs: "fc" inputs: "label" }
output: "fc"
loss: "xent"
)pb";

RuntimeOptions options(bool blocked) {
  RuntimeOptions o;
  o.threads = 1;
  o.plugin_files = {kPluginFile};
  o.blocked_layouts = blocked;
  return o;
}

Model make_model(const Runtime& rt) { return Model(rt, parse_model_def_text(kModelText, "abi10.pbtxt"), "abi10.pbtxt"); }

// Seeded parameters, with distinct positive channel factors (so that a channel
// mix-up shows and relu/max-pool stay smooth in them: relu(w x) = w relu(x)).
void init(Model& model) {
  model.init_params(7);
  Tensor& w = model.param("cscale.weights");
  for (int64_t c = 0; c < kChannels; ++c) w.data()[c] = 0.5f + 0.05f * static_cast<float>(c);
}

std::map<std::string, Tensor> batch(int64_t n, uint64_t seed) {
  Tensor image = test::random_tensor(Shape{n, 1, 12, 12}, seed);
  Tensor label = Tensor::empty(Shape{n});
  for (int64_t i = 0; i < n; ++i) label.data()[i] = static_cast<float>((i * 3 + static_cast<int64_t>(seed)) % 10);
  return {{"image", image}, {"label", label}};
}

struct StepResult {
  float loss = 0;
  Tensor output;
  std::map<std::string, Tensor> grads;  // parameters, plain
  Tensor conv, diff_cscale;             // what cscale read (plain) and the gradient it got
  bool conv_blocked = false, conv_grad_blocked_like_conv = false, one_zero_values_plain = true;
};

StepResult step(bool blocked, const std::map<std::string, Tensor>& feeds) {
  Runtime rt(options(blocked));
  Model model = make_model(rt);
  init(model);
  Tape tape;
  Model::Forward fw = model.forward(tape, feeds, /*training=*/true, /*with_loss=*/true);
  tape.backward(fw.loss, /*retain_graph=*/true);  // keeps the intermediates' gradients
  StepResult r;
  r.loss = fw.loss.data().data()[0];
  r.output = fw.output.data().clone();
  for (const auto& [name, shape] : model.learned_param_shapes()) r.grads[name] = tape.grad(fw.params.at(name)).clone();
  const Value& conv = fw.values.at("conv");
  r.conv_blocked = conv.data().blocked();
  r.conv_grad_blocked_like_conv = tape.grad(conv).layout() == conv.data().layout();
  r.conv = to_plain(conv.data());
  r.diff_cscale = tape.grad(fw.values.at("cscale")).clone();
  for (const char* name : {"cscale", "scale"}) r.one_zero_values_plain &= !fw.values.at(name).data().blocked();
  return r;
}

TEST(Abi10Plugin, LoadsWithItsReportedVersion) {
  Runtime rt(options(true));
  for (const char* name : {"abi10_scale", "abi10_channel_scale"}) {
    const OpKernel& k = rt.registry().op(name);
    EXPECT_EQ(k.origin().file, kPluginFile) << name;
    EXPECT_EQ(k.origin().plugin, "fixture-abi10") << name;
    EXPECT_EQ(k.origin().plugin_version, "1.0.3") << name;
    EXPECT_EQ(k.origin().abi_major, 1u) << name;
    EXPECT_EQ(k.origin().abi_minor, 0u) << name;  // what the plugin declared, not the runtime's 1.1
    EXPECT_EQ(k.desc().struct_size, PLX_END_OF(plx_op_desc, metric)) << name;
    EXPECT_FALSE(k.takes_layouts()) << name;
  }
  const OpKernel& layer = rt.registry().op("abi10_channel_scale");
  EXPECT_EQ(layer.kind(), PLX_KIND_LAYER);
  ASSERT_EQ(layer.desc().param_count, 2u);
  EXPECT_EQ(layer.desc().params[0].struct_size, PLX_END_OF(plx_param_desc, doc));
  EXPECT_FALSE(layer.param_is_state(0)) << "flags read past a 1.0 parameter descriptor";
  EXPECT_FALSE(layer.param_is_state(1)) << "flags read past a 1.0 parameter descriptor";
  EXPECT_EQ(rt.registry().op("abi10_scale").kind(), PLX_KIND_ACTIVATION);
  EXPECT_NE(rt.registry().find_op("conv2d"), nullptr);  // the built-ins load next to it

  // Its 1.0 parameter table gives the default initializer: constant 1.
  Model model = make_model(rt);
  model.init_params(3);
  EXPECT_EQ(model.param("cscale.weights").shape(), Shape{kChannels});
  for (float v : model.param("cscale.weights").span()) EXPECT_EQ(v, 1.0f);
  EXPECT_FALSE(model.is_state_param("cscale.weights"));
  // The second entry of the 1.0 table (40 bytes after the first, not 48).
  EXPECT_STREQ(layer.desc().params[1].name, "bias");
  EXPECT_EQ(layer.desc().params[1].default_init, PLX_INIT_ZEROS);
  EXPECT_FALSE(model.is_state_param("cscale.bias"));
  EXPECT_EQ(model.param("cscale.bias").shape(), Shape{kChannels});
  for (float v : model.param("cscale.bias").span()) EXPECT_EQ(v, 0.0f);
}

// The guard the other tests rely on: handed a view with a layout, the 1.0
// kernels fail with PLX_E_INVALID and say why (called through the C ABI, as
// the runtime never does this).
TEST(Abi10Plugin, RefusesAViewWithALayout) {
  Runtime rt(options(true));
  for (const char* name : {"abi10_scale", "abi10_channel_scale"}) {
    const plx_op_desc& d = rt.registry().op(name).desc();
    const plx_shape in = Shape{2, kChannels, 3, 3}.raw();
    plx_instance_args ia{};
    ia.struct_size = PLX_END_OF(plx_instance_args, thread_budget);  // what a 1.0 runtime passed
    ia.node_name = "n";
    ia.input_count = 1;
    ia.inputs = &in;
    void* inst = nullptr;
    plx_error err{};
    err.struct_size = sizeof err;
    ASSERT_EQ(d.create(&ia, &inst, &err), PLX_OK) << err.message;

    Tensor src = test::random_tensor(Shape{2, kChannels, 3, 3}, 1);
    Tensor w = Tensor::full(Shape{kChannels}, 1.0f);
    Tensor dst = Tensor::empty(src.shape());
    const int fake_md = 0;  // any non-NULL layout must be refused, it is never dereferenced
    plx_tensor_view sv = src.view();
    Tensor b = Tensor::zeros(Shape{kChannels});
    plx_tensor_view pv[2] = {w.view(), b.view()};  // weights, bias
    plx_forward_args fa{};
    fa.struct_size = sizeof fa;
    fa.instance = inst;
    fa.src = &sv;
    fa.params = d.param_count ? pv : nullptr;
    fa.dst = dst.view();
    EXPECT_EQ(d.forward(&fa, &err), PLX_OK) << name << ": " << err.message;
    sv.layout = &fake_md;
    err = plx_error{};
    EXPECT_EQ(d.forward(&fa, &err), PLX_E_INVALID) << name;
    EXPECT_EQ(err.code, PLX_E_INVALID) << name;
    EXPECT_NE(std::string(err.message).find("src arrived with a blocked layout"), std::string::npos) << err.message;
    EXPECT_NE(std::string(err.message).find("node 'n'"), std::string::npos) << err.message;
    sv.layout = nullptr;
    fa.struct_size = PLX_END_OF(plx_forward_args, training);  // smaller than 1.0's
    EXPECT_EQ(d.forward(&fa, &err), PLX_E_ABI) << name;

    Tensor diff_dst = test::random_tensor(src.shape(), 2), diff_src = Tensor::empty(src.shape());
    Tensor diff_w = Tensor::empty(w.shape()), diff_b = Tensor::empty(w.shape());
    plx_tensor_view dsv = diff_src.view(), dwv[2] = {diff_w.view(), diff_b.view()};
    plx_backward_args ba{};
    ba.struct_size = sizeof ba;
    ba.instance = inst;
    ba.src = &sv;
    ba.params = fa.params;
    ba.diff_dst = diff_dst.view();
    ba.diff_src = &dsv;
    ba.diff_params = d.param_count ? dwv : nullptr;
    EXPECT_EQ(d.backward(&ba, &err), PLX_OK) << name << ": " << err.message;
    ba.diff_dst.layout = &fake_md;
    err = plx_error{};
    EXPECT_EQ(d.backward(&ba, &err), PLX_E_INVALID) << name;
    EXPECT_NE(std::string(err.message).find("diff_dst arrived with a blocked layout"), std::string::npos)
        << err.message;
    ba.diff_dst.layout = nullptr;
    dsv.layout = &fake_md;
    EXPECT_EQ(d.backward(&ba, &err), PLX_E_INVALID) << name;
    EXPECT_NE(std::string(err.message).find("diff_src arrived with a blocked layout"), std::string::npos)
        << err.message;
    d.destroy(inst);
  }
}

TEST(Abi10Plugin, BehindABlockedConvGivesThePlainResults) {
  const auto feeds = batch(4, 11);
  const StepResult plain = step(false, feeds);
  const StepResult blocked = step(true, feeds);
  EXPECT_FALSE(plain.conv_blocked);
  // The 1.0 layer's input really was blocked: the runtime reordered it on the tape.
  EXPECT_TRUE(blocked.conv_blocked) << "conv2d kept a plain dst; the test no longer feeds the 1.0 op a blocked value";
  EXPECT_TRUE(blocked.one_zero_values_plain);
  // Its gradient went back through the reorder into conv2d's own layout.
  EXPECT_TRUE(blocked.conv_grad_blocked_like_conv);

  EXPECT_NEAR(blocked.loss, plain.loss, 1e-5 * std::max(1.0f, std::abs(plain.loss)));
  test::expect_close_to_scale(blocked.output, plain.output, 1e-5, "output");
  ASSERT_EQ(blocked.grads.size(), plain.grads.size());
  ASSERT_TRUE(plain.grads.count("cscale.weights"));
  ASSERT_TRUE(plain.grads.count("cscale.bias"));
  for (const auto& [name, g] : plain.grads) test::expect_close_to_scale(blocked.grads.at(name), g, 1e-5, "grad " + name);
  test::expect_close_to_scale(blocked.conv, plain.conv, 1e-5, "conv (what abi10_channel_scale read)");
  test::expect_close_to_scale(blocked.diff_cscale, plain.diff_cscale, 1e-5, "diff_dst of abi10_channel_scale");

  // diff_weights[c] = sum_{n,h,w} diff_dst * src, in double from what the op read.
  const Tensor& x = blocked.conv;
  const Tensor& dy = blocked.diff_cscale;
  const int64_t n = x.dim(0), hw = x.dim(2) * x.dim(3);
  std::vector<double> want(kChannels, 0.0);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t c = 0; c < kChannels; ++c)
      for (int64_t j = 0; j < hw; ++j) {
        const int64_t k = (i * kChannels + c) * hw + j;
        want[static_cast<size_t>(c)] += static_cast<double>(dy.data()[k]) * x.data()[k];
      }
  const Tensor want_t = Tensor::from(Shape{kChannels}, std::vector<float>(want.begin(), want.end()));
  test::expect_close_to_scale(blocked.grads.at("cscale.weights"), want_t, 1e-5, "diff_weights vs double reference");
}

TEST(Abi10Plugin, WeightGradientMatchesFiniteDifferences) {
  Runtime rt(options(true));
  Model model = make_model(rt);
  init(model);
  const auto feeds = batch(4, 23);
  Tape tape;
  Model::Forward fw = model.forward(tape, feeds, true, true);
  ASSERT_TRUE(fw.values.at("conv").data().blocked());
  tape.backward(fw.loss);
  const Tensor g = tape.grad(fw.params.at("cscale.weights")).clone();

  auto loss_at = [&](int64_t c, float delta) {
    Tensor& w = model.param("cscale.weights");
    const float keep = w.data()[c];
    w.data()[c] = keep + delta;
    Tape t;
    NoGrad no_grad(t);
    const double loss = model.forward(t, feeds, true, true).loss.data().data()[0];
    w.data()[c] = keep;
    return loss;
  };
  // The loss is smooth in each factor (they stay positive), so only f32
  // rounding of the loss limits the central difference.
  const float h = 1e-2f;
  double scale = 0;
  for (float v : g.span()) scale = std::max(scale, static_cast<double>(std::abs(v)));
  ASSERT_GT(scale, 1e-4) << "the weight gradient vanishes; the check would prove nothing";
  for (int64_t c = 0; c < kChannels; ++c) {
    const double numeric = (loss_at(c, h) - loss_at(c, -h)) / (2.0 * h);
    EXPECT_NEAR(g.data()[c], numeric, 2e-3 * scale + 1e-4) << "channel " << c;
  }
}

// Ten classes, each a bright 3x3 square at its own place, plus noise.
Dataset synthetic(int64_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> noise(0.0f, 0.3f);
  Dataset d;
  d.features = Tensor::empty(Shape{n, 144});
  d.labels = Tensor::empty(Shape{n});
  d.source = "synthetic";
  for (int64_t i = 0; i < n; ++i) {
    const int64_t label = i % 10;
    const int64_t top = 1 + 4 * (label / 4), left = 3 * (label % 4);
    float* x = d.features.data() + i * 144;
    for (int64_t p = 0; p < 144; ++p) x[p] = noise(rng);
    for (int64_t r = 0; r < 3; ++r)
      for (int64_t q = 0; q < 3; ++q) x[(top + r) * 12 + left + q] += 1.0f;
    d.labels.data()[i] = static_cast<float>(label);
  }
  return d;
}

TEST(Abi10Plugin, TrainerLowersTheLoss) {
  Runtime rt(options(true));
  Model model = make_model(rt);
  const Dataset train = synthetic(80, 5);
  TrainOptions o;
  o.epochs = 4;  // 4 x 5 batches of 16: 20 steps
  o.batch_size = 16;
  o.optimizer = "sgd";
  o.hparams["lr"] = AttrValue(0.05);
  o.seed = 3;
  Trainer trainer(model, o);
  model.init_params(o.seed);
  const Tensor w0 = model.param("cscale.weights").clone();
  const double before = trainer.evaluate(train).loss;
  const auto epochs = trainer.fit(train, nullptr);
  EXPECT_EQ(trainer.step(), 20);
  ASSERT_EQ(epochs.size(), 4u);
  const double after = trainer.evaluate(train).loss;
  EXPECT_TRUE(std::isfinite(after));
  EXPECT_LT(after, 0.5 * before) << "loss before " << before << ", after 20 steps " << after;
  EXPECT_LT(epochs.back().train_loss, epochs.front().train_loss);
  // The optimizer updated the 1.0 layer's weights too.
  EXPECT_FALSE(test::same_bits(model.param("cscale.weights"), w0));
}

}  // namespace
}  // namespace plexus
