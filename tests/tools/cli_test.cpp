// The `plexus` command line, run as a real process: train, eval, plugins,
// checkpoint export/import, and the bad-input paths (clear message, non-zero
// exit, nothing half-written).
#include "support/test_support.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <sys/wait.h>

namespace plexus {
namespace {

using Result = test::ProcessResult;

Result run(const std::string& args) {
  return test::run_shell(std::string(PLEXUS_BINARY_DIR) + "/bin/plexus " + args);
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

const std::string kLogreg = test::source_path("models/logreg_breast_cancer.pbtxt");

TEST(Cli, HelpOnEveryCommand) {
  for (const char* c : {"--help", "train --help", "eval --help", "plugins --help", "checkpoint --help",
                        "checkpoint export --help", "checkpoint import --help"}) {
    Result r = run(c);
    EXPECT_EQ(r.code, 0) << c << "\n" << r.out;
    EXPECT_NE(r.out.find("usage"), std::string::npos) << c << "\n" << r.out;
  }
  EXPECT_NE(run("frobnicate").code, 0);
}

TEST(Cli, PluginsListsEveryBuiltInKernel) {
  Result r = run("plugins --json");
  ASSERT_EQ(r.code, 0) << r.out;
  for (const char* k : {"\"linear\"", "\"identity\"", "\"relu\"", "\"tanh\"", "\"sigmoid\"", "\"softmax\"",
                        "\"squared_error\"", "\"logistic\"", "\"softmax_cross_entropy\"", "\"sgd\"", "\"out_features\"",
                        "libplexus_layers.so"})
    EXPECT_NE(r.out.find(k), std::string::npos) << k << " missing:\n" << r.out;
  Result text = run("plugins");
  EXPECT_EQ(text.code, 0);
  EXPECT_NE(text.out.find("out_features"), std::string::npos);
  for (const char* o : {"weight_decay", "clip_norm", "lr_schedule", "cosine", "lr_lipschitz"})
    EXPECT_NE(text.out.find(o), std::string::npos) << o << " missing:\n" << text.out;
}

TEST(Cli, TrainEvalExportImport) {
  const std::string dir = test::temp_dir();
  Result t = run("train " + kLogreg + " --epochs 3 --save " + dir + "/lr.ckpt --metrics " + dir + "/m.csv");
  ASSERT_EQ(t.code, 0) << t.out;
  EXPECT_NE(t.out.find("epoch 1/3"), std::string::npos) << t.out;
  EXPECT_NE(t.out.find("epoch 3/3"), std::string::npos) << t.out;
  EXPECT_NE(t.out.find("test accuracy:"), std::string::npos) << t.out;
  EXPECT_EQ(t.out.find('\r'), std::string::npos) << "no progress bar when stdout is not a terminal";
  const std::string csv = slurp(dir + "/m.csv");
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 4) << csv;
  EXPECT_EQ(csv.rfind("epoch,step,train_loss", 0), 0u) << csv;

  Result e = run("eval " + kLogreg + " --weights " + dir + "/lr.ckpt --json");
  ASSERT_EQ(e.code, 0) << e.out;
  EXPECT_NE(e.out.find("\"samples\": 114"), std::string::npos) << e.out;

  Result x = run("checkpoint export " + dir + "/lr.ckpt " + dir + "/npy");
  ASSERT_EQ(x.code, 0) << x.out;
  EXPECT_TRUE(std::filesystem::exists(dir + "/npy/score.weights.npy"));
  EXPECT_TRUE(std::filesystem::exists(dir + "/npy/score.bias.npy"));
  Result i = run("checkpoint import " + kLogreg + " " + dir + "/npy --out " + dir + "/imported.ckpt");
  ASSERT_EQ(i.code, 0) << i.out;
  Result e2 = run("eval " + kLogreg + " --weights " + dir + "/imported.ckpt --json");
  ASSERT_EQ(e2.code, 0) << e2.out;
  EXPECT_EQ(e2.out, e.out) << "the imported weights evaluate exactly like the originals";
}

TEST(Cli, MalformedModelFileIsAClearError) {
  const std::string dir = test::temp_dir();
  std::ofstream(dir + "/bad.pbtxt") << "nodes { name: \"a\" kernel: \"relu\" \n";
  Result r = run("train " + dir + "/bad.pbtxt --data " + test::source_path("models/data/uci/iris.csv"));
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("bad.pbtxt:"), std::string::npos) << r.out;
}

TEST(Cli, UnknownOptimizerListsKnownOnes) {
  Result r = run("train " + kLogreg + " --optimizer adamx --epochs 1");
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("adamx"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("sgd"), std::string::npos) << r.out;
}

TEST(Cli, CorruptCheckpointIsRefused) {
  const std::string dir = test::temp_dir();
  std::ofstream(dir + "/junk.ckpt") << "this is not a checkpoint";
  Result r = run("eval " + kLogreg + " --weights " + dir + "/junk.ckpt");
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("junk.ckpt"), std::string::npos) << r.out;
}

TEST(Cli, NanLossStopsAndKeepsTheLastCheckpoint) {
  const std::string dir = test::temp_dir();
  // A good checkpoint first.
  ASSERT_EQ(run("train " + kLogreg + " --epochs 1 --save " + dir + "/keep.ckpt").code, 0);
  const std::string before = slurp(dir + "/keep.ckpt");
  // Data with a NaN feature makes the loss NaN.
  {
    std::ofstream f(dir + "/nan.csv");
    for (int i = 0; i < 40; ++i) {
      for (int j = 0; j < 30; ++j) f << (i == 7 && j == 3 ? "nan" : std::to_string(0.01 * (i + j))) << ",";
      f << (i % 2) << "\n";
    }
  }
  Result r = run("train " + kLogreg + " --data " + dir + "/nan.csv,header=none,label_map=pm1 --epochs 1 --save " + dir +
                 "/keep.ckpt");
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("NaN"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("loss"), std::string::npos) << r.out;
  EXPECT_EQ(slurp(dir + "/keep.ckpt"), before) << "the last checkpoint must be intact";
  for (auto& e : std::filesystem::directory_iterator(dir))
    EXPECT_EQ(e.path().string().find(".tmp"), std::string::npos) << "left behind: " << e.path();
}

TEST(Cli, DefaultModelTrainsWithNoDataFlags) {
  Result r = run("train " + test::source_path("models/mnist_mlp.pbtxt") + " --epochs 1 --threads 2");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("8000 training samples, 2000 test samples"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("test accuracy:"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace plexus
