// Blocked layouts on and off: the same network on the same batch gives the
// same loss, output and parameter gradients within f32 rounding, and with
// them on, tensors between the oneDNN ops really are blocked.
#include <plexus/data.hpp>
#include <plexus/layout.hpp>
#include <plexus/model.hpp>
#include <plexus/trainer.hpp>

#include "support/test_support.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>

namespace plexus {
namespace {

struct StepResult {
  float loss = 0;
  Tensor output;
  std::map<std::string, Tensor> grads;
  int blocked_values = 0;  // values of the forward kept in a blocked layout
};

std::map<std::string, Tensor> mnist_batch(const std::string& model_path, int64_t n) {
  RuntimeOptions ro;
  ro.threads = 1;
  Runtime rt(ro);
  Model model(rt, model_path);
  const std::string dir = model_path.substr(0, model_path.find_last_of('/'));
  Dataset data = load_dataset(data_spec_from_proto(model.def().train().train_data(), dir));
  std::vector<int64_t> idx(static_cast<size_t>(n));
  std::iota(idx.begin(), idx.end(), 0);
  Tensor x = gather_rows(data.features, idx);
  std::vector<int64_t> dims{n};
  const Shape per = model.input_shape(model.feature_input());
  for (int d = 0; d < per.ndim(); ++d) dims.push_back(per[d]);
  return {{model.feature_input(), x.reshape(Shape(std::span<const int64_t>(dims)))},
          {model.label_input(), gather_rows(data.labels, idx)}};
}

StepResult step(const std::string& model_path, bool blocked, const std::map<std::string, Tensor>& feeds) {
  RuntimeOptions ro;
  ro.threads = 2;
  ro.blocked_layouts = blocked;
  Runtime rt(ro);
  Model model(rt, model_path);
  model.init_params(7);
  Tape tape;
  Model::Forward fw = model.forward(tape, feeds, /*training=*/true, /*with_loss=*/true);
  tape.backward(fw.loss);
  StepResult r;
  r.loss = fw.loss.data().data()[0];
  r.output = fw.output.data().clone();
  for (const auto& [name, v] : fw.values) r.blocked_values += v.data().blocked() ? 1 : 0;
  for (const auto& [name, shape] : model.learned_param_shapes()) r.grads[name] = tape.grad(fw.params.at(name)).clone();
  return r;
}

void check_model(const std::string& rel, int64_t batch) {
  const std::string path = test::source_path(rel);
  const auto feeds = mnist_batch(path, batch);
  const StepResult plain = step(path, false, feeds);
  const StepResult blocked = step(path, true, feeds);
  EXPECT_EQ(plain.blocked_values, 0);
  EXPECT_GT(blocked.blocked_values, 0) << "no value of " << rel << " stayed in a blocked layout";
  EXPECT_NEAR(blocked.loss, plain.loss, 1e-5 * std::max(1.0f, std::abs(plain.loss)));
  test::expect_close_to_scale(blocked.output, plain.output, 1e-5, rel + " output");
  ASSERT_EQ(blocked.grads.size(), plain.grads.size());
  for (const auto& [name, g] : plain.grads) test::expect_close_to_scale(blocked.grads.at(name), g, 1e-4, rel + " grad " + name);
}

TEST(BlockedLayouts, LenetGivesThePlainResults) { check_model("models/mnist_lenet.pbtxt", 32); }

TEST(BlockedLayouts, OddBatchGivesThePlainResults) { check_model("models/mnist_lenet.pbtxt", 5); }

// Batch norm in training mode, residual adds in blocked layouts.
TEST(BlockedLayouts, ResnetGivesThePlainResults) { check_model("models/mnist_resnet_small.pbtxt", 8); }

// Several training steps: from the second on, blocked tensors get blocks
// their own layout had in the step before, not zeroed again (the pool
// counts them), and the run still ends where the plain one does.
TEST(BlockedLayouts, StepsThatReuseBlocksUnzeroedGiveThePlainResults) {
  const std::string path = test::source_path("models/mnist_lenet.pbtxt");
  const auto feeds = mnist_batch(path, 16);
  auto run = [&](bool blocked) {
    RuntimeOptions ro;
    ro.threads = 1;
    ro.blocked_layouts = blocked;
    Runtime rt(ro);
    Model model(rt, path);
    model.init_params(3);
    TrainOptions o;
    o.optimizer = "sgd";
    o.hparams["lr"] = AttrValue(0.05);
    Trainer t(model, o);
    std::vector<double> losses;
    for (int i = 0; i < 4; ++i) losses.push_back(t.train_step(feeds).loss);
    std::map<std::string, Tensor> params;
    for (const auto& [name, shape] : model.learned_param_shapes()) params[name] = model.param(name).clone();
    return std::pair{losses, params};
  };
  const auto [plain_losses, plain_params] = run(false);
  const uint64_t clean_before = Pool::global()->clean_reuses();
  const auto [losses, params] = run(true);
  EXPECT_GT(Pool::global()->clean_reuses(), clean_before) << "no blocked tensor reused its layout's block";
  for (size_t i = 0; i < losses.size(); ++i)
    EXPECT_NEAR(losses[i], plain_losses[i], 1e-4 * std::max(1.0, std::abs(plain_losses[i]))) << "step " << i + 1;
  for (const auto& [name, p] : plain_params) test::expect_close_to_scale(params.at(name), p, 1e-4, "parameter " + name);
}

TEST(BlockedLayouts, UsersAlwaysSeePlainData) {
  const std::string path = test::source_path("models/mnist_lenet.pbtxt");
  const auto feeds = mnist_batch(path, 4);
  const StepResult r = step(path, true, feeds);
  EXPECT_FALSE(r.output.blocked());
  for (const auto& [name, g] : r.grads) EXPECT_FALSE(g.blocked()) << name;
}

}  // namespace
}  // namespace plexus
