// plexus bench [--workload a,b|all] [--threads 1,2] [--repeats R] [--quick] [--json]:
// the fixed workloads of tools/bench/README.md, timed through the runtime API,
// next to the raw-oneDNN bound where there is one.
#include "commands.hpp"
#include "common.hpp"

#include "bound.hpp"
#include "workloads.hpp"

#include <plexus/error.hpp>

#include <algorithm>
#include <cstdio>
#include <optional>
#include <sstream>

namespace plexus::cli {

namespace {

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream in(text);
  for (std::string item; std::getline(in, item, ',');)
    if (!item.empty()) out.push_back(item);
  return out;
}

std::string json_number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

}  // namespace

int cmd_bench(int argc, char** argv) {
  po::options_description o("options");
  o.add_options()
      ("workload", po::value<std::string>()->default_value("all"), "comma-separated workloads, or all")
      ("threads", po::value<std::string>()->default_value("1"), "thread budgets to run at, e.g. 1,2")
      ("repeats", po::value<int>()->default_value(7), "timed runs per workload; figures are their median and range")
      ("quick", "a smoke run: a tenth of the steps per run and 3 repeats")
      ("no-bound", "skip the raw-oneDNN bound")
      ("json", "one JSON object per workload and line");
  po::positional_options_description pos;
  std::string usage = "plexus bench [options]\n\nworkloads:\n";
  for (const std::string& w : bench::workload_names())
    usage += "  " + w + std::string(12 - std::min<size_t>(11, w.size()), ' ') + bench::workload_summary(w) + "\n";
  auto vm = parse(argc, argv, usage, o, pos);
  if (!vm) return 0;

  std::vector<std::string> names = split_list((*vm)["workload"].as<std::string>());
  if (names.size() == 1 && names[0] == "all") names = bench::workload_names();
  for (const std::string& n : names) bench::workload_summary(n);  // unknown names fail before any run
  std::vector<int> threads;
  for (const std::string& t : split_list((*vm)["threads"].as<std::string>())) {
    size_t used = 0;
    int v = 0;
    try {
      v = std::stoi(t, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != t.size() || v < 1) throw Error(ErrorCode::kInvalid, "--threads: '" + t + "' is not a positive count");
    threads.push_back(v);
  }
  bench::Options opt;
  opt.repeats = (*vm)["repeats"].as<int>();
  if (opt.repeats < 1) throw Error(ErrorCode::kInvalid, "--repeats must be at least 1");
  if (vm->count("quick")) {
    opt.scale = 0.1;
    opt.repeats = std::min(opt.repeats, 3);
  }
  const bool json = vm->count("json") != 0;
  const std::vector<std::string> bounded = bench::bound_workloads();

  if (!json)
    std::printf("%-11s %7s %12s %22s %8s %9s %10s %12s %10s\n", "workload", "threads", "median", "min - max", "unit",
                "rss MB", "allocs/st", "cache h/m", "x bound");
  for (int t : threads) {
    for (const std::string& name : names) {
      opt.threads = t;
      const bench::Result r = bench::run_workload(name, opt);
      std::optional<double> bound_rate;  // the bound in the workload's unit
      double vs_bound = 0.0;
      if (!vm->count("no-bound") && std::find(bounded.begin(), bounded.end(), name) != bounded.end()) {
        const bench::BoundTiming b = bench::run_bound(name, t, opt.repeats,
                                                      std::max(3, static_cast<int>(50 * opt.scale)),
                                                      std::max(1, static_cast<int>(10 * opt.scale)));
        bound_rate = 1000.0 / b.median_ms;
        vs_bound = r.ms_per_step / b.median_ms;
      }
      if (json) {
        std::printf("{\"workload\": \"%s\", \"threads\": %d, \"unit\": \"%s\", \"median\": %s, \"min\": %s, \"max\": %s, "
                    "\"repeats\": %d, \"steps_per_run\": %lld, \"peak_rss_mb\": %s, \"allocs_per_step\": %s, "
                    "\"cache_hits\": %llu, \"cache_misses\": %llu, \"bound\": %s, \"vs_bound\": %s}\n",
                    r.workload.c_str(), r.threads, r.unit.c_str(), json_number(r.median).c_str(),
                    json_number(r.min).c_str(), json_number(r.max).c_str(), r.repeats,
                    static_cast<long long>(r.steps_per_run), json_number(r.peak_rss_mb).c_str(),
                    json_number(r.allocs_per_step).c_str(), static_cast<unsigned long long>(r.cache_hits),
                    static_cast<unsigned long long>(r.cache_misses),
                    bound_rate ? json_number(*bound_rate).c_str() : "null",
                    bound_rate ? json_number(vs_bound).c_str() : "null");
      } else {
        char range[64], cache[32], xb[16];
        std::snprintf(range, sizeof range, "%.4g - %.4g", r.min, r.max);
        std::snprintf(cache, sizeof cache, "%llu/%llu", static_cast<unsigned long long>(r.cache_hits),
                      static_cast<unsigned long long>(r.cache_misses));
        if (bound_rate) std::snprintf(xb, sizeof xb, "%.2f", vs_bound);
        else std::snprintf(xb, sizeof xb, "-");
        std::printf("%-11s %7d %12.4g %22s %8s %9.1f %10.3g %12s %10s\n", r.workload.c_str(), r.threads, r.median,
                    range, r.unit.c_str(), r.peak_rss_mb, r.allocs_per_step, cache, xb);
      }
      std::fflush(stdout);
    }
  }
  return 0;
}

}  // namespace plexus::cli
