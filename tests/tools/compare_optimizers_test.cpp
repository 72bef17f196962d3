// plexus train --optimizer a,b: one run per optimizer from the same
// initialization, one metrics CSV each, and a comparison chart.
#include "support/test_support.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

namespace plexus {
namespace {

test::ProcessResult run(const std::string& args) {
  return test::run_shell(std::string(PLEXUS_BINARY_DIR) + "/bin/plexus " + args + " 2>&1");
}

std::string data_args() {
  const std::string d = test::source_path("models/data/mnist10k/");
  const std::string common = "idx:" + d + "images-idx3-ubyte.gz,labels=" + d + "labels-idx1-ubyte.gz,scale=0.00392156862745098";
  return " --data " + common + ",rows=0:512 --test-data " + common + ",rows=8000:8256";
}

std::vector<std::string> lines_with(const std::string& text, const std::string& needle) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (line.find(needle) != std::string::npos) out.push_back(line);
  return out;
}

TEST(CompareOptimizers, OneRunPerOptimizerFromOneInitializationAndAChart) {
  const std::string dir = test::temp_dir();
  const std::string model = test::source_path("models/mnist_mlp.pbtxt");
  // lr = 1e-30 for sgd and adagrad: far below an f32 ulp, so neither moves and both evaluate the same
  // starting point; momentum.lr overrides the shared lr for momentum only.
  test::ProcessResult r = run("train " + model + data_args() +
                              " --epochs 1 --optimizer sgd,adagrad,momentum --opt lr=1e-30 --opt momentum.lr=0.05"
                              " --metrics " + dir + "/mlp.csv");
  ASSERT_EQ(r.code, 0) << r.out;
  const auto headers = lines_with(r.out, "plexus train");
  ASSERT_EQ(headers.size(), 3u) << r.out;
  EXPECT_NE(headers[0].find("optimizer sgd, lr 1e-30,"), std::string::npos) << headers[0];
  EXPECT_NE(headers[2].find("optimizer momentum, lr 0.05,"), std::string::npos) << headers[2];
  const auto finals = lines_with(r.out, "test accuracy:");
  ASSERT_EQ(finals.size(), 3u) << r.out;
  EXPECT_EQ(finals[0], finals[1]) << "sgd and adagrad with lr 1e-30 did not start from the same parameters";
  EXPECT_NE(finals[0], finals[2]) << "momentum with lr 0.05 did not train";
  for (const char* f : {"mlp.sgd.csv", "mlp.adagrad.csv", "mlp.momentum.csv", "mlp.compare.html"})
    EXPECT_TRUE(std::filesystem::exists(dir + "/" + f)) << f << "\n" << r.out;
  std::ifstream in(dir + "/mlp.compare.html");
  std::stringstream html;
  html << in.rdbuf();
  for (const char* label : {">sgd<", ">adagrad<", ">momentum<"})
    EXPECT_NE(html.str().find(label), std::string::npos) << label;
}

TEST(CompareOptimizers, OptionForAnOptimizerNotRunIsAnError) {
  const std::string model = test::source_path("models/mnist_mlp.pbtxt");
  test::ProcessResult r = run("train " + model + data_args() + " --epochs 1 --optimizer sgd,adam --opt rmsprop.lr=0.1");
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.out.find("'rmsprop' is not one of the optimizers run"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace plexus
