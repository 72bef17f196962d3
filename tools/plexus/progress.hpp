// Training progress on the terminal: a live bar with loss, samples/s and ETA
// when stdout is a terminal; one plain line per epoch otherwise.
#ifndef PLEXUS_TOOLS_PROGRESS_HPP
#define PLEXUS_TOOLS_PROGRESS_HPP

#include <plexus/trainer.hpp>

#include <cstdint>

namespace plexus::cli {

class Progress {
 public:
  Progress(int64_t epochs, bool terminal);
  void step(const StepInfo& s);
  void epoch(const EpochInfo& e);

 private:
  int64_t epochs_;
  bool terminal_;
  double last_draw_ = -1.0;
};

/// "1:05" or "1:02:03".
std::string format_duration(double seconds);

}  // namespace plexus::cli

#endif
