#include "progress.hpp"

#include <cmath>
#include <cstdio>

namespace plexus::cli {

std::string format_duration(double seconds) {
  const long s = std::lround(std::max(0.0, seconds));
  char buf[32];
  if (s >= 3600) std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", s / 3600, (s / 60) % 60, s % 60);
  else std::snprintf(buf, sizeof buf, "%ld:%02ld", s / 60, s % 60);
  return buf;
}

Progress::Progress(int64_t epochs, bool terminal) : epochs_(epochs), terminal_(terminal) {}

void Progress::step(const StepInfo& s) {
  if (!terminal_) return;
  const bool last = s.batch + 1 == s.batches;
  if (!last && s.elapsed - last_draw_ < 0.1) return;  // redraw at most 10 times a second
  last_draw_ = s.elapsed;
  const int width = 30;
  const double frac = static_cast<double>(s.batch + 1) / static_cast<double>(s.batches);
  const int filled = static_cast<int>(frac * width);
  std::string bar(static_cast<size_t>(filled), '#');
  bar += std::string(static_cast<size_t>(width - filled), '.');
  const double eta = frac > 0 ? s.elapsed * (1.0 - frac) / frac : 0.0;
  std::printf("\r\033[Kepoch %lld/%lld [%s] %lld/%lld loss %.4f  %.0f samples/s  ETA %s",
              static_cast<long long>(s.epoch), static_cast<long long>(epochs_), bar.c_str(),
              static_cast<long long>(s.batch + 1), static_cast<long long>(s.batches), s.running_loss,
              s.samples_per_sec, format_duration(eta).c_str());
  std::fflush(stdout);
}

void Progress::epoch(const EpochInfo& e) {
  if (terminal_) std::printf("\r\033[K");
  std::printf("epoch %lld/%lld  train loss %.4f", static_cast<long long>(e.epoch), static_cast<long long>(epochs_),
              e.train_loss);
  if (e.train_accuracy > 0) std::printf("  train acc %.4f", e.train_accuracy);
  if (e.has_test) std::printf("  test loss %.4f  test acc %.4f", e.test.loss, e.test.accuracy);
  if (e.skipped_steps > 0) std::printf("  skipped %lld non-finite steps", static_cast<long long>(e.skipped_steps));
  std::printf("  %.0f samples/s  %s\n", e.samples_per_sec, format_duration(e.seconds).c_str());
  std::fflush(stdout);
  last_draw_ = -1.0;
}

}  // namespace plexus::cli
