// `--set NAME=VALUE` on plexus train and eval: a repeat count chosen on the
// command line runs a different number of steps of the same model file.
#include "support/test_support.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace plexus {
namespace {

test::ProcessResult run(const std::string& args) {
  return test::run_shell(std::string(PLEXUS_BINARY_DIR) + "/bin/plexus " + args + " 2>&1");
}

// Logistic regression on breast_cancer after T shared tanh layers.
std::string write_model(const std::string& dir) {
  const std::string data = test::source_path("models/data/uci/breast_cancer.csv");
  const std::string spec = "format: \"csv\" path: \"" + data +
                           "\" header: \"sklearn\" label_column: -1 test_fraction: 0.2 split_seed: 42 "
                           "standardize: true label_map: \"pm1\"";
  const std::string path = dir + "/deep_logreg.pbtxt";
  std::ofstream(path) << R"(
inputs { name: "x" shape: 30 source: "features" }
inputs { name: "y" source: "labels" }
repeats {
  name: "deep" times: "T" carry: "h" init: "x" result: "act"
  nodes { name: "lin" kernel: "linear" inputs: "h" attrs { key: "out_features" value { i: 30 } }
          attrs { key: "bias" value { b: false } } params { role: "weights" name: "shared" } }
  nodes { name: "act" kernel: "tanh" inputs: "lin" }
}
nodes { name: "score" kernel: "linear" inputs: "deep" attrs { key: "out_features" value { i: 1 } } }
nodes { name: "loss" kernel: "logistic" inputs: "score" inputs: "y" }
vars { key: "T" value: 1 }
output: "score"
loss: "loss"
train { train_data { )" + spec + R"( split: "train" } test_data { )" + spec + R"( split: "test" }
        epochs: 2 batch_size: 16 optimizer: "sgd" optimizer_hparams { key: "lr" value { f: 0.05 } } seed: 1 }
)";
  return path;
}

TEST(SetVars, RepeatCountFromTheCommandLine) {
  const std::string dir = test::temp_dir();
  const std::string model = write_model(dir), ckpt = dir + "/deep.ckpt";
  test::ProcessResult r = run("train " + model + " --set T=3 --save " + ckpt);
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("test accuracy"), std::string::npos) << r.out;
  // The shared weights fit any count: evaluate the same checkpoint with 3 and with 5 steps.
  r = run("eval " + model + " --set T=3 --weights " + ckpt);
  EXPECT_EQ(r.code, 0) << r.out;
  r = run("eval " + model + " --set T=5 --weights " + ckpt);
  EXPECT_EQ(r.code, 0) << r.out;
}

TEST(SetVars, BadSetsAreClearErrors) {
  const std::string dir = test::temp_dir();
  const std::string model = write_model(dir);
  test::ProcessResult r = run("train " + model + " --set K=2 --epochs 1");
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.out.find("deep_logreg.pbtxt"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("no variable 'K'"), std::string::npos) << r.out;
  r = run("train " + model + " --set T=many --epochs 1");
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.out.find("expected an integer"), std::string::npos) << r.out;
  r = run("train " + model + " --set T=-1 --epochs 1");
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.out.find(">= 0"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace plexus
