// End to end: the bundled models train to their promised accuracies with the
// defaults in their files, through the same API the command line uses.
#include <plexus/data.hpp>
#include <plexus/model.hpp>
#include <plexus/trainer.hpp>

#include "support/test_support.hpp"

#include <gtest/gtest.h>

namespace plexus {
namespace {

struct TrainRun {
  std::vector<EpochInfo> history;
  EvalResult test;
};

TrainRun train_bundled(const std::string& rel, int threads = 2) {
  RuntimeOptions ro;
  ro.threads = threads;
  Runtime rt(ro);
  const std::string path = test::source_path(rel);
  Model model(rt, load_model_def(path), path);
  const auto& d = model.def().train();
  const std::string dir = path.substr(0, path.find_last_of('/'));
  Dataset train = load_dataset(data_spec_from_proto(d.train_data(), dir));
  Dataset test = load_dataset(data_spec_from_proto(d.test_data(), dir));
  TrainOptions opt;
  opt.epochs = d.epochs();
  opt.batch_size = d.batch_size();
  opt.optimizer = d.optimizer();
  for (const auto& [k, v] : d.optimizer_hparams())
    opt.hparams[k] = v.value_case() == proto::AttrValue::kS ? AttrValue(v.s()) : AttrValue(v.f());
  opt.seed = d.seed();
  Trainer trainer(model, opt);
  TrainRun r;
  r.history = trainer.fit(train, &test);
  r.test = trainer.evaluate(test);
  return r;
}

TEST(EndToEnd, MnistMlpReaches93PercentIn5Epochs) {
  TrainRun r = train_bundled("models/mnist_mlp.pbtxt");
  ASSERT_EQ(r.history.size(), 5u);
  EXPECT_EQ(r.test.samples, 2000);
  EXPECT_GE(r.test.accuracy, 0.93) << "test loss " << r.test.loss;
  EXPECT_LT(r.history.back().train_loss, r.history.front().train_loss);
}

TEST(EndToEnd, MnistLenetReaches96PercentIn10Epochs) {
  // conv2d, max_pool2d, flatten and linear from three plugin families.
  TrainRun r = train_bundled("models/mnist_lenet.pbtxt");
  ASSERT_EQ(r.history.size(), 10u);
  EXPECT_EQ(r.test.samples, 2000);
  EXPECT_GE(r.test.accuracy, 0.96) << "test loss " << r.test.loss;
  EXPECT_LT(r.history.back().train_loss, r.history.front().train_loss);
}

// Batch norm (train and eval modes), residual adds and blocked layouts on a
// real task: the residual network must beat LeNet in the same 10 epochs,
// evaluated (eval mode, running statistics) after every epoch and at the end.
TEST(EndToEnd, MnistResnetBeatsLenetIn10Epochs) {
  TrainRun lenet = train_bundled("models/mnist_lenet.pbtxt");
  TrainRun resnet = train_bundled("models/mnist_resnet_small.pbtxt");
  ASSERT_EQ(resnet.history.size(), 10u);
  EXPECT_GT(resnet.test.accuracy, lenet.test.accuracy) << "resnet test loss " << resnet.test.loss;
  EXPECT_GE(resnet.test.accuracy, 0.98);
  // The last epoch's evaluation and the final one agree: eval mode does not
  // touch the running statistics.
  ASSERT_TRUE(resnet.history.back().has_test);
  EXPECT_EQ(resnet.history.back().test.accuracy, resnet.test.accuracy);
  EXPECT_EQ(resnet.history.back().test.loss, resnet.test.loss);
}

TEST(EndToEnd, LogisticRegressionBreastCancerReaches95Percent) {
  TrainRun r = train_bundled("models/logreg_breast_cancer.pbtxt");
  EXPECT_EQ(r.test.samples, 114);
  EXPECT_GE(r.test.accuracy, 0.95) << "test loss " << r.test.loss;
}

TEST(EndToEnd, TrainingIsDeterministicForASeedAndThreadCount) {
  TrainRun a = train_bundled("models/logreg_breast_cancer.pbtxt", 1);
  TrainRun b = train_bundled("models/logreg_breast_cancer.pbtxt", 1);
  ASSERT_EQ(a.history.size(), b.history.size());
  for (size_t i = 0; i < a.history.size(); ++i) EXPECT_EQ(a.history[i].train_loss, b.history[i].train_loss);
  EXPECT_EQ(a.test.loss, b.test.loss);
}

}  // namespace
}  // namespace plexus
