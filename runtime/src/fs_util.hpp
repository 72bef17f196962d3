// File helpers shared by the runtime (internal).
#ifndef PLEXUS_RUNTIME_FS_UTIL_HPP
#define PLEXUS_RUNTIME_FS_UTIL_HPP

#include <string>
#include <string_view>

namespace plexus::detail {

/// Writes `bytes` to `path` so that a crash never leaves a half-written file:
/// a temporary file in the same folder, flushed and fsync'ed, then renamed
/// over `path`. On failure the temporary is removed, `path` is untouched, and
/// an Error(kIo) names the file and the system's reason. `what` names the kind
/// of file in messages ("checkpoint", "metrics").
void write_file_atomic(const std::string& path, std::string_view bytes, const std::string& what);

}  // namespace plexus::detail

#endif
