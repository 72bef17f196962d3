#include "fs_util.hpp"

#include <plexus/error.hpp>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>

namespace plexus::detail {

void write_file_atomic(const std::string& path, std::string_view bytes, const std::string& what) {
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  auto fail = [&](const char* step) {
    const int e = errno;
    ::unlink(tmp.c_str());
    return Error(ErrorCode::kIo, "cannot write " + what + " '" + path + "': " + step + ": " + std::strerror(e));
  };
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    const int e = errno;
    throw Error(ErrorCode::kIo, "cannot write " + what + " '" + path + "': " + std::strerror(e));
  }
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      Error err = fail("write");
      ::close(fd);
      throw err;
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) {
    Error err = fail("fsync");
    ::close(fd);
    throw err;
  }
  if (::close(fd) != 0) throw fail("close");
  if (::rename(tmp.c_str(), path.c_str()) != 0) throw fail("rename");
  // Make the rename itself durable.
  const size_t slash = path.find_last_of('/');
  const std::string dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
}

}  // namespace plexus::detail
