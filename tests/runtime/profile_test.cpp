// TrainOptions::profile: every step's phases and op calls are counted (and
// fit()'s per-epoch evaluation is not), and `plexus train --profile` prints
// the table.
#include <plexus/profile.hpp>
#include <plexus/trainer.hpp>

#include "support/test_support.hpp"

#include <gtest/gtest.h>

#include <string>

namespace plexus {
namespace {

TEST(Profile, CountsEveryStepsPhasesAndOpsButNotEvaluation) {
  Runtime rt{[] {
    RuntimeOptions o;
    o.threads = 1;
    return o;
  }()};
  const std::string path = test::source_path("models/logreg_breast_cancer.pbtxt");
  const std::string dir = path.substr(0, path.find_last_of('/'));
  const proto::ModelDef def = load_model_def(path);
  const Dataset train = load_dataset(data_spec_from_proto(def.train().train_data(), dir));
  const Dataset test = load_dataset(data_spec_from_proto(def.train().test_data(), dir));
  Model model(rt, def, path);

  Profile prof;
  TrainOptions o;
  o.epochs = 2;
  o.batch_size = 16;
  o.optimizer = "sgd";
  o.hparams["lr"] = AttrValue(0.1);
  o.profile = &prof;
  Trainer trainer(model, o);
  trainer.fit(train, &test);  // evaluates the test set after each epoch
  const int64_t steps = 2 * 29;  // 455 samples, batch 16
  EXPECT_EQ(prof.steps, steps);
  for (const char* phase : {"data", "forward", "backward", "metric", "update"}) {
    SCOPED_TRACE(phase);
    EXPECT_EQ(prof.phase(phase).calls, steps);
    EXPECT_GT(prof.phase(phase).seconds, 0.0);
  }
  // One linear node and one logistic loss: one forward and one backward call
  // each per step. Evaluation's forward calls would add to these.
  for (const char* op : {"linear", "logistic"})
    for (const char* phase : {"forward", "backward"}) {
      SCOPED_TRACE(std::string(phase) + " " + op);
      const auto it = prof.entries().find({phase, op});
      ASSERT_NE(it, prof.entries().end());
      EXPECT_EQ(it->second.calls, steps);
    }
  // Ops run inside their phase: their time is part of it.
  for (const char* phase : {"forward", "backward"}) {
    double ops = 0.0;
    for (const auto& [key, e] : prof.entries())
      if (key.first == phase && !key.second.empty()) ops += e.seconds;
    EXPECT_LE(ops, prof.phase(phase).seconds) << phase;
  }
  EXPECT_EQ(Profile::current(), nullptr) << "fit() leaves no profile installed";

  // train_step profiles too; without TrainOptions::profile nothing is recorded.
  Profile one;
  o.profile = &one;
  Trainer stepper(model, o);
  std::map<std::string, Tensor> feeds{{model.feature_input(), train.features.rows(0, 16)},
                                      {model.label_input(), train.labels.rows(0, 16)}};
  stepper.train_step(feeds);
  EXPECT_EQ(one.steps, 1);
  EXPECT_EQ(one.phase("update").calls, 1);
  o.profile = nullptr;
  Trainer quiet(model, o);
  quiet.train_step(feeds);
  EXPECT_EQ(one.steps, 1);
}

TEST(Profile, TrainProfilePrintsPhasesAndOps) {
  const test::ProcessResult r =
      test::run_shell(std::string(PLEXUS_BINARY_DIR) + "/bin/plexus train " +
                      test::source_path("models/logreg_breast_cancer.pbtxt") + " --epochs 1 --threads 1 --profile 2>&1");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("profile: 29 steps"), std::string::npos) << r.out;
  for (const char* line : {"\n  data ", "\n  forward ", "\n    linear ", "\n    (framework) ", "\n  backward ",
                           "\n  update "})
    EXPECT_NE(r.out.find(line), std::string::npos) << "missing '" << line << "' in\n" << r.out;
  const test::ProcessResult quiet =
      test::run_shell(std::string(PLEXUS_BINARY_DIR) + "/bin/plexus train " +
                      test::source_path("models/logreg_breast_cancer.pbtxt") + " --epochs 1 --threads 1 2>&1");
  ASSERT_EQ(quiet.code, 0) << quiet.out;
  EXPECT_EQ(quiet.out.find("profile:"), std::string::npos) << quiet.out;
}

}  // namespace
}  // namespace plexus
