// plexus_bound: times the "framework overhead = 0" bound of W1/W2 (bound.hpp).
//
//   plexus_bound [--workload mlp|lenet|all] [--threads N] [--repeats R] [--steps S] [--json]
#include "bound.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

constexpr const char* kUsage =
    "usage: plexus_bound [--workload mlp|lenet|all] [--threads N] [--repeats R] [--steps S] [--json]\n";

struct Options {
  std::string workload = "all";
  int threads = 1;
  int repeats = 7;
  int steps = 50;
  bool json = false;
};

int positive_int(const std::string& flag, const char* text) {
  char* end = nullptr;
  const long v = std::strtol(text, &end, 10);
  if (end == text || *end != '\0' || v < 1 || v > 1000000)
    throw std::invalid_argument(flag + " needs a positive integer, got '" + text + "'");
  return static_cast<int>(v);
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--json") {
      o.json = true;
      continue;
    }
    if (arg == "--help" || arg == "-h") {
      std::fputs(kUsage, stdout);
      std::exit(0);
    }
    const bool takes_value = arg == "--workload" || arg == "--threads" || arg == "--repeats" || arg == "--steps";
    if (!takes_value) throw std::invalid_argument("unknown option '" + arg + "'");
    if (i + 1 >= argc) throw std::invalid_argument(arg + " needs a value");
    const char* value = argv[++i];
    if (arg == "--workload") o.workload = value;
    else if (arg == "--threads") o.threads = positive_int(arg, value);
    else if (arg == "--repeats") o.repeats = positive_int(arg, value);
    else o.steps = positive_int(arg, value);
  }
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const Options o = parse(argc, argv);
    const std::vector<std::string> names =
        o.workload == "all" ? plexus::bench::bound_workloads() : std::vector<std::string>{o.workload};
    const std::vector<std::string> known = plexus::bench::bound_workloads();
    if (std::find(known.begin(), known.end(), names[0]) == known.end())
      throw std::invalid_argument("no bound for workload '" + names[0] + "' (known: mlp, lenet, all)");
    if (!o.json) std::printf("%-8s %7s %12s %12s %12s\n", "workload", "threads", "median ms", "min ms", "max ms");
    for (const std::string& name : names) {
      const plexus::bench::BoundTiming t = plexus::bench::run_bound(name, o.threads, o.repeats, o.steps);
      if (o.json)
        std::printf("{\"workload\": \"%s\", \"threads\": %d, \"unit\": \"ms/step\", \"median\": %.4f, \"min\": %.4f, "
                    "\"max\": %.4f}\n",
                    t.workload.c_str(), t.threads, t.median_ms, t.min_ms, t.max_ms);
      else
        std::printf("%-8s %7d %12.4f %12.4f %12.4f\n", t.workload.c_str(), t.threads, t.median_ms, t.min_ms,
                    t.max_ms);
      std::fflush(stdout);
    }
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "plexus_bound: %s\n%s", e.what(), kUsage);
    return 2;
  }
}
