// The relu-after-pool rewrite (Model::forward with `rewrite`, what Trainer
// steps run): relu -> max_pool2d runs as max_pool2d -> relu, for a relu node
// and for a conv2d's fused relu. On real MNIST images it gives the loss,
// output and parameter gradients of the graph as written, the pool's value
// is unchanged, and only the moved relu's node is missing from the values;
// a relu that another node reads too, or that is the output, stays put.
#include <plexus/data.hpp>
#include <plexus/layout.hpp>
#include <plexus/model.hpp>
#include <plexus/profile.hpp>
#include <plexus/session.hpp>
#include <plexus/trainer.hpp>

#include "support/test_support.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <numeric>

namespace plexus {
namespace {

const char* const kHead = R"(
inputs { name: "image" shape: 1 shape: 28 shape: 28 source: "features" }
inputs { name: "label" source: "labels" }
)";

const char* const kTail = R"(
nodes { name: "flat" kernel: "flatten" inputs: "pool2" }
nodes { name: "fc" kernel: "linear" inputs: "flat" attrs { key: "out_features" value { i: 10 } } }
nodes { name: "xent" kernel: "softmax_cross_entropy" inputs: "fc" inputs: "label" }
output: "fc"
loss: "xent"
)";

// LeNet's front with the relus fused into the convolutions.
const std::string kFused = std::string(kHead) + R"(
nodes { name: "conv1" kernel: "conv2d" inputs: "image" attrs { key: "out_channels" value { i: 6 } }
        attrs { key: "kernel" value { i: 5 } } attrs { key: "padding" value { i: 2 } }
        attrs { key: "activation" value { s: "relu" } } }
nodes { name: "pool1" kernel: "max_pool2d" inputs: "conv1" attrs { key: "kernel" value { i: 2 } } }
nodes { name: "conv2" kernel: "conv2d" inputs: "pool1" attrs { key: "out_channels" value { i: 16 } }
        attrs { key: "kernel" value { i: 5 } } attrs { key: "activation" value { s: "relu" } } }
nodes { name: "pool2" kernel: "max_pool2d" inputs: "conv2" attrs { key: "kernel" value { i: 2 } } }
)" + kTail;

// The same with relu nodes (as models/mnist_lenet.pbtxt is written).
const std::string kNodes = std::string(kHead) + R"(
nodes { name: "conv1" kernel: "conv2d" inputs: "image" attrs { key: "out_channels" value { i: 6 } }
        attrs { key: "kernel" value { i: 5 } } attrs { key: "padding" value { i: 2 } } }
nodes { name: "relu1" kernel: "relu" inputs: "conv1" }
nodes { name: "pool1" kernel: "max_pool2d" inputs: "relu1" attrs { key: "kernel" value { i: 2 } } }
nodes { name: "conv2" kernel: "conv2d" inputs: "pool1" attrs { key: "out_channels" value { i: 16 } }
        attrs { key: "kernel" value { i: 5 } } }
nodes { name: "relu2" kernel: "relu" inputs: "conv2" }
nodes { name: "pool2" kernel: "max_pool2d" inputs: "relu2" attrs { key: "kernel" value { i: 2 } } }
)" + kTail;

// What the rewrite runs, written out: pool first, then relu.
const std::string kSwapped = std::string(kHead) + R"(
nodes { name: "conv1" kernel: "conv2d" inputs: "image" attrs { key: "out_channels" value { i: 6 } }
        attrs { key: "kernel" value { i: 5 } } attrs { key: "padding" value { i: 2 } } }
nodes { name: "max1" kernel: "max_pool2d" inputs: "conv1" attrs { key: "kernel" value { i: 2 } } }
nodes { name: "pool1" kernel: "relu" inputs: "max1" }
nodes { name: "conv2" kernel: "conv2d" inputs: "pool1" attrs { key: "out_channels" value { i: 16 } }
        attrs { key: "kernel" value { i: 5 } } }
nodes { name: "max2" kernel: "max_pool2d" inputs: "conv2" attrs { key: "kernel" value { i: 2 } } }
nodes { name: "pool2" kernel: "relu" inputs: "max2" }
)" + kTail;

Runtime& runtime() {
  static Runtime rt([] {
    RuntimeOptions o;
    o.threads = 1;
    return o;
  }());
  return rt;
}

std::map<std::string, Tensor> mnist_batch(int64_t n) {
  const std::string path = test::source_path("models/mnist_lenet.pbtxt");
  Model model(runtime(), path);
  const std::string dir = path.substr(0, path.find_last_of('/'));
  Dataset data = load_dataset(data_spec_from_proto(model.def().train().train_data(), dir));
  std::vector<int64_t> idx(static_cast<size_t>(n));
  std::iota(idx.begin(), idx.end(), 0);
  return {{"image", gather_rows(data.features, idx).reshape(Shape{n, 1, 28, 28})},
          {"label", gather_rows(data.labels, idx)}};
}

std::unique_ptr<Model> model_of(const std::string& text, const std::string& name) {
  auto m = std::make_unique<Model>(runtime(), parse_model_def_text(text, name), name);
  m->init_params(11);
  return m;
}

struct Step {
  float loss = 0;
  Tensor output;
  std::map<std::string, Tensor> grads;
  std::map<std::string, Tensor> values;  // plain copies of every value in Forward::values
};

Step step(const Model& m, const std::map<std::string, Tensor>& feeds, bool rewrite) {
  Tape tape;
  Model::Forward fw = m.forward(tape, feeds, /*training=*/true, /*with_loss=*/true, /*seed=*/0, rewrite);
  Step r;
  for (const auto& [name, v] : fw.values) r.values[name] = to_plain(v.data()).clone();
  tape.backward(fw.loss);
  r.loss = fw.loss.data().data()[0];
  r.output = fw.output.data().clone();
  for (const auto& [name, shape] : m.learned_param_shapes()) r.grads[name] = to_plain(tape.grad(fw.params.at(name)));
  return r;
}

// Equal as numbers, element by element (+0 == -0: a pooled zero's sign may
// differ between the two orders, which no later value or gradient sees).
void expect_equal(const Tensor& a, const Tensor& b, const std::string& what) {
  ASSERT_EQ(a.shape(), b.shape()) << what;
  int64_t differ = 0;
  for (int64_t i = 0; i < a.numel(); ++i) differ += a.data()[i] == b.data()[i] ? 0 : 1;
  EXPECT_EQ(differ, 0) << what << ": " << differ << " of " << a.numel() << " elements differ";
}

void expect_same_step(const Step& a, const Step& b) {
  EXPECT_EQ(a.loss, b.loss);
  expect_equal(a.output, b.output, "output");
  ASSERT_EQ(a.grads.size(), b.grads.size());
  for (const auto& [name, g] : a.grads) expect_equal(g, b.grads.at(name), "gradient of " + name);
}

TEST(ReluAfterPool, FusedReluGivesTheGraphsLossOutputAndGradients) {
  const auto feeds = mnist_batch(32);
  const auto m = model_of(kFused, "fused.pbtxt");
  const Step as_written = step(*m, feeds, false);
  const Step rewritten = step(*m, feeds, true);
  expect_same_step(as_written, rewritten);
  for (const char* pool : {"pool1", "pool2"}) expect_equal(as_written.values.at(pool), rewritten.values.at(pool), pool);
  // The convolutions' values are their relus': not computed when rewriting.
  EXPECT_TRUE(as_written.values.count("conv1") && as_written.values.count("conv2"));
  EXPECT_FALSE(rewritten.values.count("conv1") || rewritten.values.count("conv2"));
  EXPECT_EQ(rewritten.values.size(), as_written.values.size() - 2);
  // Real data gives dead windows (all four <= 0), which exercise the mask.
  const Tensor& c1 = as_written.values.at("conv1");
  EXPECT_GT(std::count(c1.data(), c1.data() + c1.numel(), 0.0f), c1.numel() / 10);
}

TEST(ReluAfterPool, ReluNodesGiveTheGraphsLossOutputAndGradients) {
  const auto feeds = mnist_batch(32);
  const auto m = model_of(kNodes, "nodes.pbtxt");
  const Step as_written = step(*m, feeds, false);
  const Step rewritten = step(*m, feeds, true);
  expect_same_step(as_written, rewritten);
  for (const char* pool : {"pool1", "pool2"}) expect_equal(as_written.values.at(pool), rewritten.values.at(pool), pool);
  EXPECT_FALSE(rewritten.values.count("relu1") || rewritten.values.count("relu2"));
  for (const char* kept : {"conv1", "conv2"}) expect_equal(as_written.values.at(kept), rewritten.values.at(kept), kept);
}

// Trainer steps rewrite: the fused graph's steps run relu kernels (two a
// step, on the pooled values), and Adam on it ends bit for bit where the graph
// written as pool -> relu ends, which runs the same kernels in order.
TEST(ReluAfterPool, TrainerStepsEndWhereTheSwappedGraphEnds) {
  const auto feeds = mnist_batch(16);
  const int steps = 3;
  auto train = [&](const std::string& text, const std::string& name, int64_t* relu_calls) {
    const auto m = model_of(text, name);
    Profile profile;
    TrainOptions o;
    o.optimizer = "adam";
    o.hparams["lr"] = AttrValue(1e-3);
    o.profile = &profile;
    Trainer t(*m, o);
    std::vector<float> losses;
    for (int i = 0; i < steps; ++i) losses.push_back(static_cast<float>(t.train_step(feeds).loss));
    std::map<std::string, Tensor> params;
    for (const auto& [p, shape] : m->learned_param_shapes()) params[p] = m->param(p).clone();
    auto it = profile.entries().find({"forward", "relu"});
    *relu_calls = it == profile.entries().end() ? 0 : it->second.calls;
    return std::pair{losses, params};
  };
  int64_t fused_relus = 0, swapped_relus = 0;
  const auto [fused_losses, fused_params] = train(kFused, "fused.pbtxt", &fused_relus);
  const auto [swapped_losses, swapped_params] = train(kSwapped, "swapped.pbtxt", &swapped_relus);
  EXPECT_EQ(fused_relus, 2 * steps);
  EXPECT_EQ(swapped_relus, 2 * steps);
  EXPECT_EQ(fused_losses, swapped_losses);
  EXPECT_LT(fused_losses.back(), fused_losses.front());
  ASSERT_EQ(fused_params.size(), swapped_params.size());
  for (const auto& [name, p] : fused_params) EXPECT_TRUE(test::same_bits(p, swapped_params.at(name))) << name;
}

// A relu that a second node reads, or that is the model's output, keeps its
// place and its value; so does every value of Session::run.
TEST(ReluAfterPool, ReluReadElsewhereOrReturnedStaysPut) {
  const std::string shared = std::string(kHead) + R"(
nodes { name: "conv1" kernel: "conv2d" inputs: "image" attrs { key: "out_channels" value { i: 6 } }
        attrs { key: "kernel" value { i: 5 } } attrs { key: "padding" value { i: 2 } }
        attrs { key: "activation" value { s: "relu" } } }
nodes { name: "poolA" kernel: "max_pool2d" inputs: "conv1" attrs { key: "kernel" value { i: 2 } } }
nodes { name: "poolB" kernel: "avg_pool2d" inputs: "conv1" attrs { key: "kernel" value { i: 2 } } }
nodes { name: "pool2" kernel: "add" inputs: "poolA" inputs: "poolB" }
)" + kTail;
  const std::string returned = std::string(kHead) + R"(
nodes { name: "conv1" kernel: "conv2d" inputs: "image" attrs { key: "out_channels" value { i: 6 } }
        attrs { key: "kernel" value { i: 5 } } attrs { key: "activation" value { s: "relu" } } }
nodes { name: "pool1" kernel: "max_pool2d" inputs: "conv1" attrs { key: "kernel" value { i: 2 } } }
output: "conv1"
)";
  const auto feeds = mnist_batch(8);
  for (const auto& [text, name] : {std::pair{shared, "shared.pbtxt"}, {returned, "returned.pbtxt"}}) {
    SCOPED_TRACE(name);
    const auto m = model_of(text, name);
    Tape tape;
    const Model::Forward fw = m->forward(tape, feeds, true, !m->def().loss().empty(), 0, true);
    ASSERT_TRUE(fw.values.count("conv1"));
    const Tensor conv = to_plain(fw.values.at("conv1").data());
    EXPECT_EQ(std::count_if(conv.data(), conv.data() + conv.numel(), [](float v) { return v < 0.0f; }), 0);
  }
  const auto m = model_of(kFused, "fused.pbtxt");
  Session session(*m);
  const auto out = session.run({{"image", feeds.at("image")}}, {"conv1", "pool1"});
  const Step as_written = step(*m, feeds, false);
  expect_equal(out.at("conv1"), as_written.values.at("conv1"), "Session conv1");
  expect_equal(out.at("pool1"), as_written.values.at("pool1"), "Session pool1");
}

}  // namespace
}  // namespace plexus
