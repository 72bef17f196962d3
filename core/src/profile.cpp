#include <plexus/profile.hpp>

namespace plexus {

namespace {
thread_local Profile* t_profile = nullptr;
}  // namespace

void Profile::add(const std::string& phase, const std::string& op, double seconds) {
  Entry& e = entries_[{phase, op}];
  ++e.calls;
  e.seconds += seconds;
}

Profile::Entry Profile::phase(const std::string& phase) const {
  auto it = entries_.find({phase, ""});
  return it == entries_.end() ? Entry{} : it->second;
}

Profile* Profile::current() { return t_profile; }

Profile::Scope::Scope(Profile* p) : previous_(t_profile) { t_profile = p; }

Profile::Scope::~Scope() { t_profile = previous_; }

}  // namespace plexus
