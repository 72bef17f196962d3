// The "framework overhead = 0" bound of the bench workloads W1 (mlp) and W2
// (lenet): one training step as raw oneDNN 2.x primitives and plain loops,
// everything created once, the timed loop only executing (README.md).
//
//   plexus::bench::BoundTiming t = plexus::bench::run_bound("mlp", /*threads=*/2);
//   std::printf("%s: %.3f ms/step\n", t.workload.c_str(), t.median_ms);
#ifndef PLEXUS_TOOLS_BENCH_BOUND_HPP
#define PLEXUS_TOOLS_BENCH_BOUND_HPP

#include <string>
#include <vector>

namespace plexus::bench {

struct BoundTiming {
  std::string workload;
  int threads = 1;
  std::vector<double> ms_per_step;  ///< one per timed repeat
  double median_ms = 0;
  double min_ms = 0;
  double max_ms = 0;
};

/// Workload "mlp" (W1) or "lenet" (W2): runs `warmup` untimed steps, then
/// `repeats` timed runs of `steps` steps each with omp_set_num_threads(threads),
/// on seeded synthetic data. Unknown workload: std::invalid_argument.
BoundTiming run_bound(const std::string& workload, int threads, int repeats = 7, int steps = 50, int warmup = 10);

/// Workloads with a bound: {"mlp", "lenet"}.
std::vector<std::string> bound_workloads();

/// Self-check: 30 training steps on a fixed small learnable batch; returns the
/// loss ratio last/first (well below 1 when forward, backward and update agree).
double bound_check(const std::string& workload);

}  // namespace plexus::bench

#endif  // PLEXUS_TOOLS_BENCH_BOUND_HPP
