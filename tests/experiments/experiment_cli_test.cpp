// plexus experiment NAME: the command runs an experiment into --out and
// prints its figures; an unknown name or a missing model folder is a clear
// error with a non-zero exit and no output folder.
#include "support/test_support.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

namespace plexus {
namespace {

test::ProcessResult plexus_experiment(const std::string& args) {
  return test::run_shell(std::string(PLEXUS_BINARY_DIR) + "/bin/plexus experiment " + args + " 2>&1");
}

TEST(ExperimentCli, RunsIntoTheOutputFolderAndPrintsTheFigures) {
  const std::string out = test::temp_dir() + "/toy";
  const test::ProcessResult r = plexus_experiment("toy --reduced --models " + test::source_path("models") + " --out " + out);
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("not convex:  L(midpoint) - mean of the ends = +1.0000 > 0"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("report: " + out + "/report.html"), std::string::npos) << r.out;
  for (const char* f : {"report.html", "toy.svg", "toy.csv", "toy_trajectories.csv"})
    EXPECT_TRUE(std::filesystem::is_regular_file(out + "/" + f)) << f;
}

TEST(ExperimentCli, UnknownNameListsTheExperiments) {
  const test::ProcessResult r = plexus_experiment("lasso --out " + test::temp_dir() + "/x");
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.out.find("unknown experiment 'lasso'"), std::string::npos) << r.out;
  for (const char* name : {"separability", "approximation", "toy", "sgd-rate", "lista"})
    EXPECT_NE(r.out.find(name), std::string::npos) << name << "\n" << r.out;
}

TEST(ExperimentCli, MissingModelFolderNamesTheFileAndWritesNothing) {
  const std::string dir = test::temp_dir();
  const test::ProcessResult r = plexus_experiment("approximation --models " + dir + "/none --out " + dir + "/out");
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.out.find(dir + "/none/approx_1d.pbtxt: no such model definition"), std::string::npos) << r.out;
  EXPECT_FALSE(std::filesystem::exists(dir + "/out"));
}

}  // namespace
}  // namespace plexus
