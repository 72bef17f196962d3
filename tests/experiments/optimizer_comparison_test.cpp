// Experiment 5 (reduced): the MNIST MLP trained with sgd, momentum, adagrad,
// rmsprop and adam from one initialization, through the documented command
// (docs/experiments.md) on fewer images and epochs. Checks that every run
// learns, that the adaptive methods get ahead in training loss first (the
// "converge fast" half of the course's claim), and the chart.
#include "support/test_support.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace plexus {
namespace {

/// Column `name` of a metrics CSV, one value per epoch.
std::vector<double> column(const std::string& path, const std::string& name) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  std::vector<std::string> header;
  std::stringstream hs(line);
  for (std::string cell; std::getline(hs, cell, ',');) header.push_back(cell);
  size_t col = header.size();
  for (size_t i = 0; i < header.size(); ++i)
    if (header[i] == name) col = i;
  EXPECT_LT(col, header.size()) << path << " has no column " << name;
  std::vector<double> out;
  while (std::getline(in, line)) {
    std::stringstream ls(line);
    std::string cell;
    for (size_t i = 0; i <= col && std::getline(ls, cell, ','); ++i) {
    }
    out.push_back(std::stod(cell));
  }
  return out;
}

TEST(OptimizerComparison, EveryOptimizerLearnsAdaptiveOnesLeadEarlyAndOneChartShowsThemAll) {
  const std::string dir = test::temp_dir();
  const std::string d = test::source_path("models/data/mnist10k/");
  const std::string spec = "idx:" + d + "images-idx3-ubyte.gz,labels=" + d + "labels-idx1-ubyte.gz,scale=0.00392156862745098";
  // The command of docs/experiments.md with 2,000 training images, 500 test images and 2 epochs.
  const std::string cmd = std::string(PLEXUS_BINARY_DIR) + "/bin/plexus train " + test::source_path("models/mnist_mlp.pbtxt") +
                          " --data " + spec + ",rows=0:2000 --test-data " + spec + ",rows=8000:8500 --epochs 2" +
                          " --optimizer sgd,momentum,adagrad,rmsprop,adam --opt sgd.lr=0.05 --opt momentum.lr=0.01"
                          " --opt adagrad.lr=0.01 --opt rmsprop.lr=0.0005 --opt adam.lr=0.0005 --threads 1"
                          " --metrics " + dir + "/mlp.csv --report " + dir + "/report.html 2>&1";
  const test::ProcessResult r = test::run_shell(cmd);
  ASSERT_EQ(r.code, 0) << r.out;

  std::map<std::string, std::vector<double>> loss, acc;
  for (const char* opt : {"sgd", "momentum", "adagrad", "rmsprop", "adam"}) {
    const std::string csv = dir + "/mlp." + opt + ".csv";
    loss[opt] = column(csv, "train_loss");
    acc[opt] = column(csv, "test_accuracy");
    ASSERT_EQ(loss[opt].size(), 2u) << csv;
    EXPECT_LT(loss[opt][1], loss[opt][0]) << opt << ": training loss did not fall";
    EXPECT_GE(acc[opt][1], 0.85) << opt;
  }
  // Per-coordinate step sizes get ahead of plain SGD in the first epoch.
  EXPECT_LT(loss["adagrad"][0], loss["sgd"][0]);
  EXPECT_LT(loss["rmsprop"][0], loss["sgd"][0]);

  std::ifstream in(dir + "/report.html");
  std::stringstream html;
  html << in.rdbuf();
  for (const char* title : {": train_loss<", ": test_accuracy<"})
    EXPECT_NE(html.str().find(title), std::string::npos) << title;
  for (const char* label : {">sgd<", ">momentum<", ">adagrad<", ">rmsprop<", ">adam<"})
    EXPECT_NE(html.str().find(label), std::string::npos) << label;
}

}  // namespace
}  // namespace plexus
