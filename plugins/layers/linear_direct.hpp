// linear's own loops for the shapes where oneDNN's inner product costs more
// to call than to compute: a single sample (a matrix-vector product) and tiny
// layers. Plain row-major buffers, as in Linear:
//   src [batch, in], weights [out, in], bias [out] (or null), dst [batch, out].
//
// Each dst element is one dot product summed in a fixed order, so results do
// not depend on the OpenMP team size. The forward dot products are summed in
// eight-lane vectors, the backward ones with `omp simd` loops; either way
// lanes are added in a tree, not left to right.
#ifndef PLEXUS_PLUGINS_LAYERS_LINEAR_DIRECT_HPP
#define PLEXUS_PLUGINS_LAYERS_LINEAR_DIRECT_HPP

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>

namespace plexus::plugins::linear_direct {

/// Whether the calls of one instance's loop split over the OpenMP team or
/// stay on the calling thread, decided by timing both. Whether a split pays
/// depends on the machine more than on the shape: a team-of-2 parallel
/// region costs 0.7 us on one 2-core VM and 3 us on another (where every
/// futex call is a hypervisor exit), and a split buys twice the cache
/// bandwidth only when the two threads are on separate cores. So the first
/// kWarm calls take the split (untimed; they fault pages in and fill caches),
/// the next kTrials calls alternate the two ways under a clock, and the
/// split is kept for the instance's life only if its median is at least 10%
/// below the single thread's (a split also takes the other core, and in a
/// near tie it lost: 784 -> 256 at batch 1 measured 9.23 us split against
/// 9.27 alone, and the whole W5 call then took 15.3 us against 14.0-14.7).
/// The two ways give bit-identical results (each output is one dot product
/// in a fixed order), so the choice changes only the time. Calls below kTryMacs multiply-adds,
/// on a team of 1, or under ThreadSanitizer always stay on the calling thread.
/// Safe for concurrent calls (forward and backward are const and may run
/// concurrently): the trial slots are handed out by an atomic counter.
class TeamChoice {
 public:
  static constexpr int kWarm = 4;
  static constexpr int kTrials = 16;  // 8 each way
  static constexpr int64_t kTryMacs = int64_t{1} << 15;
  static constexpr float kSplitGain = 0.9f;  // split's median must be below this times one thread's

  explicit TeamChoice(int64_t macs) : macs_(macs) {}
  TeamChoice(const TeamChoice&) = delete;
  TeamChoice& operator=(const TeamChoice&) = delete;

  /// Calls body(split) once, with split chosen as above.
  template <class Body>
  void run(Body&& body) const {
    if (!eligible()) {
      body(false);
      return;
    }
    const int decided = decided_.load(std::memory_order_acquire);
    if (decided >= 0) {
      body(decided == 1);
      return;
    }
    const int call = calls_.fetch_add(1, std::memory_order_relaxed);
    const int slot = call - kWarm;
    if (slot < 0 || slot >= kTrials) {  // warming up, or others' trials still running
      body(true);
      return;
    }
    const bool split = slot % 2 == 1;
    const auto start = std::chrono::steady_clock::now();
    body(split);
    record(slot, std::chrono::duration<float, std::micro>(std::chrono::steady_clock::now() - start).count());
  }

  /// -1 while undecided, else whether calls split (for tests and profiles).
  int decided() const { return decided_.load(std::memory_order_acquire); }

 private:
  bool eligible() const;
  void record(int slot, float us) const;

  int64_t macs_;
  mutable std::atomic<int> calls_{0};
  mutable std::atomic<int> recorded_{0};
  mutable std::atomic<int> decided_{-1};
  mutable std::array<std::atomic<float>, kTrials> us_{};
};

/// dst = src W^T + b, then max(., 0) when `relu`. A split divides the outputs
/// over the OpenMP team; `team` says when (one TeamChoice per loop of an
/// instance).
void forward(const float* src, const float* weights, const float* bias, float* dst, int64_t batch, int64_t in,
             int64_t out, bool relu, const TeamChoice& team);

/// diff_src = diff_dst W.
void backward_data(const float* diff_dst, const float* weights, float* diff_src, int64_t batch, int64_t in,
                   int64_t out, const TeamChoice& team);

/// diff_weights = diff_dst^T src (when non-null), diff_bias = column sums of
/// diff_dst (when non-null).
void backward_weights(const float* src, const float* diff_dst, float* diff_weights, float* diff_bias, int64_t batch,
                      int64_t in, int64_t out, const TeamChoice& team);

}  // namespace plexus::plugins::linear_direct

#endif  // PLEXUS_PLUGINS_LAYERS_LINEAR_DIRECT_HPP
