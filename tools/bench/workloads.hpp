// The workloads of `plexus bench` (tools/bench/README.md): fixed models on
// seeded synthetic data of fixed shapes, timed through the public runtime API
// as a host would run them (Trainer::train_step, Session::run).
//
//   plexus::bench::Options o{.threads = 1};
//   plexus::bench::Result r = plexus::bench::run_workload("mlp", o);
//   // r.median: steps/s; r.allocs_per_step: tensor memory taken from the system per step
#ifndef PLEXUS_BENCH_WORKLOADS_HPP
#define PLEXUS_BENCH_WORKLOADS_HPP

#include <cstdint>
#include <string>
#include <vector>

namespace plexus::bench {

struct Options {
  int threads = 1;
  int repeats = 7;       ///< timed runs; the figures are their median, slowest and fastest
  double scale = 1.0;    ///< multiplies each workload's steps per run and warm-up (0.05: a smoke run)
};

struct Result {
  std::string workload;
  int threads = 0;
  std::string unit;                  ///< "steps/s" or "us/call"
  double median = 0.0, min = 0.0, max = 0.0;  ///< over the timed runs, in `unit`
  int repeats = 0;
  int64_t steps_per_run = 0;
  double peak_rss_mb = 0.0;          ///< the process's peak resident memory after this workload
  double allocs_per_step = 0.0;      ///< tensor-pool blocks taken from the system per timed step
  uint64_t cache_hits = 0;           ///< op instances and reorders reused during the timed steps
  uint64_t cache_misses = 0;         ///< ... and created
  double ms_per_step = 0.0;          ///< median time per step (or call)
};

/// mlp, lenet, logreg, lista, mlp_infer1.
const std::vector<std::string>& workload_names();
/// One line describing the workload.
std::string workload_summary(const std::string& name);
/// Runs one workload; an unknown name is an Error listing the known ones.
Result run_workload(const std::string& name, const Options& o);

}  // namespace plexus::bench

#endif
