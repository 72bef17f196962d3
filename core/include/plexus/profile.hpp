// Where a training step's time goes: per phase (data, forward, backward,
// update) and, within forward and backward, per op kind (the kernel's name).
//
//   plexus::Profile prof;
//   {
//     plexus::Profile::Scope on(&prof);       // this thread's op calls are timed
//     ... run steps ...
//   }
//   for (const auto& [key, e] : prof.entries()) ...  // key: {phase, op}
//
// Op calls (OpInstance::forward/backward, layout reorders) record into the
// profile of the thread that makes them; with no Scope on that thread they
// cost one thread-local load. Phases are timed by whoever runs the steps
// (Trainer, with TrainOptions::profile). Not thread-safe: one Profile per
// thread that runs steps.
#ifndef PLEXUS_PROFILE_HPP
#define PLEXUS_PROFILE_HPP

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <utility>

namespace plexus {

class Profile {
 public:
  struct Entry {
    int64_t calls = 0;
    double seconds = 0.0;
  };
  using Key = std::pair<std::string, std::string>;  // {phase, op}; op "" = the whole phase

  /// Adds one call of `seconds` to (phase, op).
  void add(const std::string& phase, const std::string& op, double seconds);
  const std::map<Key, Entry>& entries() const { return entries_; }
  /// The whole phase (op ""), or zeros.
  Entry phase(const std::string& phase) const;
  int64_t steps = 0;  // steps the phases cover (set by the trainer)

  /// The profile op calls on the calling thread record into, or nullptr.
  static Profile* current();

  /// Makes `p` the calling thread's profile while it lives (nests; restores).
  /// nullptr pauses profiling (evaluation inside fit() is not a step).
  class Scope {
   public:
    explicit Scope(Profile* p);
    ~Scope();
    Scope(const Scope&) = delete;
    Scope& operator=(const Scope&) = delete;

   private:
    Profile* previous_;
  };

  /// Times its own lifetime into (phase, op) of the current profile, if any.
  class Timer {
   public:
    Timer(const char* phase, const char* op) : profile_(current()), phase_(phase), op_(op) {
      if (profile_ != nullptr) start_ = std::chrono::steady_clock::now();
    }
    ~Timer() {
      if (profile_ == nullptr) return;
      const std::chrono::duration<double> d = std::chrono::steady_clock::now() - start_;
      try {
        profile_->add(phase_, op_, d.count());
      } catch (...) {  // out of memory for a new entry: the call goes uncounted
      }
    }
    Timer(const Timer&) = delete;
    Timer& operator=(const Timer&) = delete;

   private:
    Profile* profile_;
    const char* phase_;
    const char* op_;
    std::chrono::steady_clock::time_point start_;
  };

 private:
  std::map<Key, Entry> entries_;
};

}  // namespace plexus

#endif  // PLEXUS_PROFILE_HPP
