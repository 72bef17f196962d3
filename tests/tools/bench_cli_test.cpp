// plexus bench: every workload runs through the public API and reports its
// figures as JSON lines (tools/bench/README.md). Behaviour only: steady state
// takes no tensor memory from the system and creates no op instance; no
// figure here is a time limit.
#include "support/test_support.hpp"

#include <gtest/gtest.h>

#include <boost/property_tree/json_parser.hpp>
#include <boost/property_tree/ptree.hpp>

#include <sstream>
#include <string>
#include <vector>

namespace plexus {
namespace {

namespace pt = boost::property_tree;

test::ProcessResult bench(const std::string& args) {
  return test::run_shell(std::string(PLEXUS_BINARY_DIR) + "/bin/plexus bench " + args + " 2>&1");
}

std::vector<pt::ptree> json_lines(const std::string& out) {
  std::vector<pt::ptree> lines;
  std::istringstream in(out);
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] != '{') continue;
    std::istringstream one(line);
    pt::ptree t;
    pt::read_json(one, t);
    lines.push_back(t);
  }
  return lines;
}

TEST(BenchCli, EveryWorkloadReportsItsFiguresAndSteadyStateAllocatesNothing) {
  const test::ProcessResult r = bench("--quick --repeats 2 --threads 1 --json");
  ASSERT_EQ(r.code, 0) << r.out;
  const std::vector<pt::ptree> lines = json_lines(r.out);
  ASSERT_EQ(lines.size(), 5u) << r.out;
  const std::vector<std::string> names{"mlp", "lenet", "logreg", "lista", "mlp_infer1"};
  for (size_t i = 0; i < lines.size(); ++i) {
    const pt::ptree& l = lines[i];
    SCOPED_TRACE(names[i]);
    EXPECT_EQ(l.get<std::string>("workload"), names[i]);
    EXPECT_EQ(l.get<int>("threads"), 1);
    EXPECT_EQ(l.get<std::string>("unit"), names[i] == "mlp_infer1" ? "us/call" : "steps/s");
    const double median = l.get<double>("median"), lo = l.get<double>("min"), hi = l.get<double>("max");
    EXPECT_GT(median, 0.0);
    EXPECT_LE(lo, median);
    EXPECT_LE(median, hi);
    EXPECT_EQ(l.get<int>("repeats"), 2);
    EXPECT_GT(l.get<double>("peak_rss_mb"), 0.0);
    EXPECT_EQ(l.get<double>("allocs_per_step"), 0.0) << "tensor memory taken from the system in steady state";
    EXPECT_EQ(l.get<int>("cache_misses"), 0) << "op instances created in steady state";
    EXPECT_GT(l.get<int>("cache_hits"), 0);
    const bool bounded = names[i] == "mlp" || names[i] == "lenet";
    EXPECT_EQ(l.get<std::string>("bound") == "null", !bounded) << l.get<std::string>("bound");
    if (bounded) {
      EXPECT_GT(l.get<double>("vs_bound"), 0.0);
    }
  }
}

TEST(BenchCli, TableOnATerminalAndBadArgumentsAreErrors) {
  const test::ProcessResult table = bench("--quick --repeats 1 --workload logreg,mlp_infer1 --no-bound");
  ASSERT_EQ(table.code, 0) << table.out;
  EXPECT_NE(table.out.find("logreg"), std::string::npos) << table.out;
  EXPECT_NE(table.out.find("us/call"), std::string::npos) << table.out;

  const test::ProcessResult unknown = bench("--workload resnet50");
  EXPECT_NE(unknown.code, 0);
  EXPECT_NE(unknown.out.find("unknown workload 'resnet50' (known: mlp, lenet, logreg, lista, mlp_infer1)"),
            std::string::npos) << unknown.out;
  const test::ProcessResult threads = bench("--threads 0");
  EXPECT_NE(threads.code, 0);
  EXPECT_NE(threads.out.find("--threads: '0' is not a positive count"), std::string::npos) << threads.out;
}

}  // namespace
}  // namespace plexus
