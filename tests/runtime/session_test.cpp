// plexus::Session: inference from many host threads on one loaded model,
// named inputs and outputs, and the errors a host can run into.
#include "support/test_support.hpp"

#include <plexus/data.hpp>
#include <plexus/session.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <thread>
#include <vector>

namespace plexus {
namespace {

const std::string kMnist = test::source_path("models/mnist_mlp.pbtxt");

Dataset mnist_test_set(const Model& model) {
  return load_dataset(data_spec_from_proto(model.def().train().test_data(), test::source_path("models")));
}

Tensor rows(const Tensor& src, int64_t begin, int64_t count) {
  std::vector<int64_t> idx(static_cast<size_t>(count));
  std::iota(idx.begin(), idx.end(), begin);
  return gather_rows(src, idx);
}

/// Runs `calls` batches from each of `threads` host threads on one session
/// and compares every output with `expected` (the single-threaded run):
/// returns {exact matches, calls within `tolerance`, errors}.
struct Tally {
  int exact = 0, close = 0, errors = 0;
};
Tally hammer(const Session& session, const std::vector<Tensor>& inputs, const std::vector<Tensor>& expected,
             int threads, int calls, float tolerance) {
  std::atomic<int> exact{0}, close{0}, errors{0};
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      for (int c = 0; c < calls; ++c) {
        const size_t i = static_cast<size_t>((t * 7 + c) % static_cast<int>(inputs.size()));
        try {
          const Tensor out = session.run({{"image", inputs[i]}}).at("fc3");
          if (test::same_bits(out, expected[i])) ++exact;
          float worst = 0.0f;
          for (int64_t k = 0; k < out.numel(); ++k)
            worst = std::max(worst, std::abs(out.data()[k] - expected[i].data()[k]));
          if (out.shape() == expected[i].shape() && worst <= tolerance) ++close;
        } catch (const std::exception&) {
          ++errors;
        }
      }
    });
  }
  for (auto& th : pool) th.join();
  return {exact.load(), close.load(), errors.load()};
}

/// `n` distinct MNIST batches of `batch` rows and their single-threaded outputs.
void references(const Session& session, const Dataset& test, int n, int batch, std::vector<Tensor>& inputs,
                std::vector<Tensor>& expected) {
  for (int i = 0; i < n; ++i) {
    inputs.push_back(rows(test.features, (i * batch) % (test.size() - batch), batch));
    expected.push_back(session.run({{"image", inputs.back()}}).at("fc3"));
  }
}

TEST(Session, EightHostThreadsWithFixedThreadsPerCallMatchASingleThreadedRunBitForBit) {
  Runtime rt;  // the machine's budget; each call runs on exactly one thread of it
  Model model(rt, kMnist);
  model.init_params(7);
  const Session session(model, SessionOptions{1});
  std::vector<Tensor> inputs, expected;
  references(session, mnist_test_set(model), 40, 100, inputs, expected);
  const Tally r = hammer(session, inputs, expected, 8, 1000, 0.0f);
  EXPECT_EQ(r.errors, 0);
  EXPECT_EQ(r.exact, 8 * 1000);
}

TEST(Session, EightHostThreadsWithAdaptiveSharesMatchASingleThreadedRun) {
  // Shares of the budget vary with the concurrency, and with them oneDNN's
  // summation order: equal to float rounding, not necessarily to the bit.
  Runtime rt;
  Model model(rt, kMnist);
  model.init_params(7);
  const Session session(model);
  std::vector<Tensor> inputs, expected;
  references(session, mnist_test_set(model), 40, 100, inputs, expected);
  float scale = 0.0f;
  for (const Tensor& e : expected)
    for (float v : e.span()) scale = std::max(scale, std::abs(v));
  const Tally r = hammer(session, inputs, expected, 8, 1000, 1e-5f * scale);
  EXPECT_EQ(r.errors, 0);
  EXPECT_EQ(r.close, 8 * 1000);
  std::printf("adaptive shares: %d of 8000 outputs bit-identical to the single-threaded run\n", r.exact);
}

TEST(Session, ThreadsPerCallMustNotBeNegative) {
  Runtime rt;
  Model model(rt, kMnist);
  test::expect_error([&] { Session s(model, SessionOptions{-1}); }, ErrorCode::kInvalid, {"'threads_per_call'", "-1"});
}

TEST(Session, NamedOutputsIncludeInnerNodesAndTheLossWhenLabelsAreFed) {
  Runtime rt;
  Model model(rt, kMnist);
  model.init_params(3);
  const Dataset test = mnist_test_set(model);
  Session session(model);
  EXPECT_EQ(session.input_names(), std::vector<std::string>{"image"});
  EXPECT_EQ(session.output_name(), "fc3");
  const Tensor x = rows(test.features, 0, 4), y = rows(test.labels, 0, 4);
  auto out = session.run({{"image", x}, {"label", y}}, {"relu1", "fc3", "xent"});
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out.at("relu1").shape(), (Shape{4, 256}));
  for (float v : out.at("relu1").span()) EXPECT_GE(v, 0.0f);
  EXPECT_EQ(out.at("xent").numel(), 1);
  EXPECT_GT(out.at("xent").data()[0], 0.0f);
  EXPECT_TRUE(test::same_bits(out.at("fc3"), session.run({{"image", x}}).at("fc3")));
  // An input asked for as an output is a copy, not the caller's buffer.
  Tensor img = session.run({{"image", x}}, {"image"}).at("image");
  EXPECT_NE(img.data(), x.data());
  EXPECT_TRUE(test::same_bits(img, x));
}

TEST(Session, BadCallsNameWhatIsWrong) {
  Runtime rt;
  Model model(rt, kMnist);
  model.init_params(3);
  Session session(model);
  const Tensor x = test::random_tensor(Shape{2, 784}, 1);
  test::expect_error([&] { session.run({{"img", x}}); }, ErrorCode::kInvalid, {"mnist_mlp.pbtxt", "'img'", "image, label"});
  test::expect_error([&] { session.run({{"image", x}}, {"fc9"}); }, ErrorCode::kInvalid, {"'fc9'", "fc1, relu1"});
  test::expect_error([&] { session.run({{"image", test::random_tensor(Shape{2, 783}, 1)}}); }, ErrorCode::kInvalid,
                     {"input 'image'", "[2, 783]", "[784]"});
  test::expect_error([&] { session.run({}); }, ErrorCode::kInvalid, {"input 'image' was not fed"});
  test::expect_error([&] { session.run({{"image", x}}, {"xent"}); }, ErrorCode::kInvalid, {"'label'"});
}

TEST(Session, ModelWithAMissingPluginFailsAtLoadNotAtFirstRun) {
  // Two runtimes in one process with different plugin sets: the full one
  // loads the model; the one without the layers plugin refuses it at load.
  RuntimeOptions partial;
  partial.load_default_plugins = false;
  for (const char* p : {"activations", "losses", "optimizers"})
    partial.plugin_files.push_back(std::string(PLEXUS_BUILD_PLUGIN_DIR) + "/libplexus_" + p + ".so");
  Runtime full, small(partial);
  EXPECT_EQ(small.loader().files().size(), 3u);
  Model ok(full, kMnist);
  ok.init_params(1);
  test::expect_error([&] { Model m(small, kMnist); }, ErrorCode::kNotFound,
                     {"mnist_mlp.pbtxt", "node 'fc1'", "unknown kernel 'linear'", "known: "});
  // The full runtime is untouched by the other one's failure.
  Session s(ok);
  EXPECT_EQ(s.run({{"image", test::random_tensor(Shape{1, 784}, 2)}}).at("fc3").shape(), (Shape{1, 10}));
}

TEST(Session, OneModelFileLoadsIntoTwoRuntimesWithDifferentPluginFolders) {
  RuntimeOptions by_dir;
  by_dir.load_default_plugins = false;
  by_dir.plugin_dirs.push_back(PLEXUS_BUILD_PLUGIN_DIR);
  Runtime a, b(by_dir);
  Model ma(a, kMnist), mb(b, kMnist);
  ma.init_params(5);
  mb.init_params(5);
  const Tensor x = test::random_tensor(Shape{3, 784}, 4);
  Session sa(ma), sb(mb);
  EXPECT_TRUE(test::same_bits(sa.run({{"image", x}}).at("fc3"), sb.run({{"image", x}}).at("fc3")));
}

TEST(Session, WeightsSavedAndLoadedGiveTheSameOutputs) {
  Runtime rt;
  Model a(rt, kMnist), b(rt, kMnist);
  a.init_params(11);
  EXPECT_FALSE(b.params_set());
  const std::string path = test::temp_dir() + "/w.ckpt";
  a.save_weights(path);
  b.load_weights(path);
  EXPECT_TRUE(b.params_set());
  const Tensor x = test::random_tensor(Shape{6, 784}, 9);
  EXPECT_TRUE(test::same_bits(Session(a).run({{"image", x}}).at("fc3"), Session(b).run({{"image", x}}).at("fc3")));
  test::expect_error([&] { b.load_weights(path + ".missing"); }, ErrorCode::kIo, {"w.ckpt.missing"});
}

}  // namespace
}  // namespace plexus
