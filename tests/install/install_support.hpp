// Helpers of the tests that install this build into a temporary prefix and
// use it the way a third party does, as real processes.
#ifndef PLEXUS_TESTS_INSTALL_SUPPORT_HPP
#define PLEXUS_TESTS_INSTALL_SUPPORT_HPP

#include "support/test_support.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace plexus::test {

/// `s` quoted for sh.
inline std::string quote(const std::string& s) {
  std::string r = "'";
  for (char c : s) r += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return r + "'";
}

inline std::string slurp(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

inline bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

/// The line of `text` holding `part`, or "".
inline std::string line_with(const std::string& text, const std::string& part) {
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line))
    if (contains(line, part)) return line;
  return "";
}

/// No environment of this process leaks build-tree libraries, plugins or
/// packages into the installed binaries or the examples' configuration.
inline const std::string kCleanEnv =
    "env -u LD_LIBRARY_PATH -u PLEXUS_PLUGIN_PATH -u CMAKE_PREFIX_PATH -u CPATH -u CPLUS_INCLUDE_PATH "
    "-u C_INCLUDE_PATH -u LIBRARY_PATH -u PKG_CONFIG_PATH -u Plexus_DIR -u Plexus_ROOT -u CMAKE_GENERATOR ";

}  // namespace plexus::test

#endif
