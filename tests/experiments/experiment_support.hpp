// Shared set-up of the experiment tests: reduced runs on the project's own
// model definitions, writing into a fresh temp folder.
#ifndef PLEXUS_TESTS_EXPERIMENT_SUPPORT_HPP
#define PLEXUS_TESTS_EXPERIMENT_SUPPORT_HPP

#include "experiment.hpp"
#include "support/test_support.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

namespace plexus::test {

inline experiments::Options reduced_options() {
  experiments::Options o;
  o.models_dir = source_path("models");
  o.out_dir = temp_dir();
  o.reduced = true;
  return o;
}

/// Every file exists in `dir` and is not empty.
inline void expect_outputs(const std::string& dir, const std::vector<std::string>& files) {
  for (const std::string& f : files) {
    const std::string path = dir + "/" + f;
    ASSERT_TRUE(std::filesystem::is_regular_file(path)) << path;
    EXPECT_GT(std::filesystem::file_size(path), 0u) << path;
  }
}

}  // namespace plexus::test

#endif
