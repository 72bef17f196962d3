// The trainer: checkpoints written during and after training, restoring them,
// resuming, and refusing checkpoints that do not fit the model.
#include <plexus/checkpoint.hpp>
#include <plexus/error.hpp>
#include <plexus/trainer.hpp>

#include "support/test_support.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

namespace plexus {
namespace {

using test::expect_error;
using test::same_bits;

struct Fixture {
  Runtime rt{[] {
    RuntimeOptions o;
    o.threads = 1;
    return o;
  }()};
  std::string path = test::source_path("models/logreg_breast_cancer.pbtxt");
  std::string dir = path.substr(0, path.find_last_of('/'));
  Dataset train, test;
  Fixture() {
    proto::ModelDef def = load_model_def(path);
    train = load_dataset(data_spec_from_proto(def.train().train_data(), dir));
    test = load_dataset(data_spec_from_proto(def.train().test_data(), dir));
  }
  Model model() { return Model(rt, load_model_def(path), path); }
};

TrainOptions options(int64_t epochs) {
  TrainOptions o;
  o.epochs = epochs;
  o.batch_size = 16;
  o.optimizer = "sgd";
  o.hparams["lr"] = AttrValue(0.1);
  o.seed = 5;
  return o;
}

TEST(Trainer, CheckpointRestoresParametersStepAndRng) {
  Fixture f;
  const std::string ck = test::temp_dir() + "/a.ckpt";
  Model m1 = f.model();
  TrainOptions o = options(2);
  o.save_path = ck;
  Trainer t1(m1, o);
  t1.fit(f.train, nullptr);
  EXPECT_EQ(t1.step(), 2 * 29);  // 455 samples, batch 16

  Checkpoint loaded = load_checkpoint(ck);
  EXPECT_EQ(loaded.step, 58);
  EXPECT_EQ(loaded.epoch, 2);
  EXPECT_EQ(loaded.optimizer, "sgd");
  EXPECT_FALSE(loaded.rng_state.empty());

  Model m2 = f.model();
  Trainer t2(m2, options(1));
  t2.restore(loaded);
  EXPECT_EQ(t2.step(), 58);
  for (const auto& [name, shape] : m1.param_shapes()) EXPECT_TRUE(same_bits(m1.param(name), m2.param(name))) << name;
  EXPECT_EQ(t1.evaluate(f.test).loss, t2.evaluate(f.test).loss);

  // Both continue one more epoch: same shuffle (RNG restored), same parameters.
  Trainer t1b(m1, options(1));
  t1b.restore(t1.checkpoint());
  t1b.fit(f.train, nullptr);
  t2.fit(f.train, nullptr);
  for (const auto& [name, shape] : m1.param_shapes()) EXPECT_TRUE(same_bits(m1.param(name), m2.param(name))) << name;
}

TEST(Trainer, SaveEveryWritesCheckpointsDuringTraining) {
  Fixture f;
  const std::string ck = test::temp_dir() + "/every.ckpt";
  Model m = f.model();
  TrainOptions o = options(1);
  o.save_path = ck;
  o.save_every = 10;
  Trainer t(m, o);
  std::vector<int64_t> seen_steps;
  TrainCallbacks cb;
  cb.on_step = [&](const StepInfo& s) {
    if (s.step == 15 || s.step == 25) seen_steps.push_back(load_checkpoint(ck).step);
  };
  t.fit(f.train, nullptr, cb);
  EXPECT_EQ(seen_steps, (std::vector<int64_t>{10, 20}));
  EXPECT_EQ(load_checkpoint(ck).step, 29);
}

TEST(Trainer, RestoreRefusesACheckpointOfAnotherModel) {
  Fixture f;
  Model m = f.model();
  Trainer t(m, options(1));
  Checkpoint ck = t.checkpoint();
  ck.tensors[0].data = Tensor::zeros(Shape{1, 29});
  expect_error([&] { t.restore(ck); }, ErrorCode::kFormat, {"'score.weights'", "[1, 29]", "[1, 30]"});
  ck.tensors.erase(ck.tensors.begin());
  expect_error([&] { t.restore(ck); }, ErrorCode::kFormat, {"no parameter 'score.weights'"});
}

TEST(Trainer, MetricsCsvHasOneRowPerEpoch) {
  Fixture f;
  const std::string csv = test::temp_dir() + "/m.csv";
  Model m = f.model();
  TrainOptions o = options(3);
  o.metrics_csv = csv;
  Trainer t(m, o);
  auto history = t.fit(f.train, &f.test);
  ASSERT_EQ(history.size(), 3u);
  EXPECT_TRUE(history[2].has_test);
  EXPECT_GT(history[2].test.accuracy, 0.9);
  std::ifstream in(csv);
  std::string line;
  int rows = 0;
  std::getline(in, line);
  EXPECT_EQ(line, "epoch,step,train_loss,train_accuracy,test_loss,test_accuracy,lr,seconds,samples_per_sec");
  while (std::getline(in, line)) {
    ++rows;
    EXPECT_EQ(line.rfind(std::to_string(rows) + ",", 0), 0u) << line;
  }
  EXPECT_EQ(rows, 3);
}

TEST(Trainer, BadOptionsAreClearErrors) {
  Fixture f;
  Model m = f.model();
  TrainOptions o = options(1);
  o.optimizer = "adamx";
  expect_error([&] { Trainer t(m, o); }, ErrorCode::kNotFound, {"adamx", "sgd"});
  o = options(1);
  o.hparams["momentum"] = AttrValue(0.9);
  expect_error([&] { Trainer t(m, o); }, ErrorCode::kInvalid, {"optimizer 'sgd'", "unknown attribute 'momentum'"});
  o = options(1);
  o.hparams["lr"] = AttrValue(-1.0);
  expect_error([&] { Trainer t(m, o); }, ErrorCode::kInvalid, {"'lr'", "positive"});
  o = options(1);
  o.batch_size = 0;
  expect_error([&] { Trainer t(m, o); }, ErrorCode::kInvalid, {"batch size"});
}

TEST(Trainer, CallbacksCanStopEarlyAndSave) {
  Fixture f;
  Model m = f.model();
  Trainer t(m, options(5));
  const std::string ck = test::temp_dir() + "/from_callback.ckpt";
  TrainCallbacks cb;
  cb.on_step = [&](const StepInfo& s) {
    if (s.step == 10) t.save(ck);
    if (s.step == 40) t.stop();
  };
  std::vector<EpochInfo> epochs = t.fit(f.train, nullptr, cb);
  EXPECT_EQ(t.step(), 40);           // stopped right after step 40, inside epoch 2
  ASSERT_EQ(epochs.size(), 2u);
  EXPECT_EQ(epochs[1].step, 40);
  EXPECT_EQ(load_checkpoint(ck).step, 10);
  // fit() goes on after a stop.
  t.fit(f.train, nullptr);
  EXPECT_EQ(t.step(), 40 + 5 * 29);
  int epochs_seen = 0;
  cb.on_step = nullptr;
  cb.on_epoch = [&](const EpochInfo&) {
    if (++epochs_seen == 1) t.stop();
  };
  EXPECT_EQ(t.fit(f.train, nullptr, cb).size(), 1u);
}

TEST(Trainer, TrainStepIsOneOptimizerStepAndKeepsLoadedWeights) {
  Fixture f;
  Model a = f.model();
  Trainer ta(a, options(1));
  ta.fit(f.train, nullptr);
  const std::string ck = test::temp_dir() + "/w.ckpt";
  a.save_weights(ck);
  const double trained = ta.evaluate(f.test).loss;

  // A host loads the weights and fine-tunes batch by batch: nothing re-initializes them.
  Model b = f.model();
  b.load_weights(ck);
  Trainer tb(b, options(1));
  EXPECT_DOUBLE_EQ(tb.evaluate(f.test).loss, trained);
  std::vector<int64_t> idx(16);
  for (int64_t i = 0; i < 16; ++i) idx[static_cast<size_t>(i)] = i;
  const std::map<std::string, Tensor> feeds{
      {"x", gather_rows(f.train.features, idx)}, {"y", gather_rows(f.train.labels, idx)}};
  const StepResult r = tb.train_step(feeds);
  EXPECT_EQ(tb.step(), 1);
  EXPECT_FALSE(r.skipped);
  EXPECT_GT(r.loss, 0.0);
  EXPECT_EQ(r.counted, 16);
  EXPECT_NE(tb.evaluate(f.test).loss, trained);  // the step changed the weights
}

// Repeated train_step calls are plain SGD steps, each on the gradient of the
// step's own forward pass; a parameter the loss does not reach (a second
// head that only feeds the output side) gets no step and keeps its values.
TEST(Trainer, TrainStepsStepReachedParametersOnly) {
  const char* text = R"(
format_version: 1
inputs { name: "x" shape: 5 source: "features" }
inputs { name: "y" source: "labels" }
nodes { name: "score" kernel: "linear" inputs: "x" attrs { key: "out_features" value { i: 1 } } }
nodes { name: "side" kernel: "linear" inputs: "x" attrs { key: "out_features" value { i: 2 } } }
nodes { name: "loss" kernel: "logistic" inputs: "score" inputs: "y" }
output: "side"
loss: "loss"
)";
  Runtime rt;
  Model trained(rt, parse_model_def_text(text, "two_heads.pbtxt"), "two_heads.pbtxt");
  Model ref(rt, parse_model_def_text(text, "two_heads.pbtxt"), "two_heads.pbtxt");
  trained.init_params(11);
  ref.init_params(11);
  const Tensor side_before = trained.param("side.weights").clone();
  TrainOptions o = options(1);
  o.hparams["lr"] = AttrValue(0.25);
  Trainer t(trained, o);
  const double lr = 0.25;
  for (int step = 0; step < 3; ++step) {
    std::vector<float> xs(6 * 5), ys(6);
    for (size_t i = 0; i < xs.size(); ++i) xs[i] = std::sin(0.7f * static_cast<float>(i + 31 * step));
    for (size_t i = 0; i < ys.size(); ++i) ys[i] = (i + static_cast<size_t>(step)) % 3 == 0 ? 1.0f : -1.0f;
    const std::map<std::string, Tensor> feeds{{"x", Tensor::from(Shape{6, 5}, xs)}, {"y", Tensor::from(Shape{6}, ys)}};
    // The reference step: forward and backward on a tape of its own, then theta - lr * g.
    Tape tape;
    const auto fw = ref.forward(tape, feeds, true, true);
    tape.backward(fw.loss);
    for (const char* name : {"score.weights", "score.bias"}) {
      const Tensor g = tape.grad(fw.params.at(name));
      ASSERT_TRUE(g.defined()) << name;
      Tensor& p = ref.param(name);
      for (int64_t i = 0; i < p.numel(); ++i)
        p.data()[i] = static_cast<float>(static_cast<double>(p.data()[i]) - lr * static_cast<double>(g.data()[i]));
    }
    EXPECT_FALSE(tape.grad(fw.params.at("side.weights")).defined());
    const StepResult r = t.train_step(feeds);
    EXPECT_FALSE(r.skipped);
    EXPECT_EQ(r.counted, 6);
    for (const char* name : {"score.weights", "score.bias"})
      EXPECT_TRUE(same_bits(trained.param(name), ref.param(name))) << name << " after step " << step + 1;
  }
  EXPECT_EQ(t.step(), 3);
  EXPECT_TRUE(same_bits(trained.param("side.weights"), side_before));
}

}  // namespace
}  // namespace plexus
