// Shared helpers for the test suite.
#ifndef PLEXUS_TEST_SUPPORT_HPP
#define PLEXUS_TEST_SUPPORT_HPP

#include <plexus/kernel.hpp>

#include <string>

namespace plexus::test {

/// A registry holding the built-in plugins of this build, loaded from disk once
/// per test process through the real PluginLoader.
const Registry& builtin_registry();

/// PLEXUS_SOURCE_DIR + "/" + rel.
std::string source_path(const std::string& rel);

/// A fresh empty directory under the system temp folder, unique per call.
std::string temp_dir();

}  // namespace plexus::test

#endif
