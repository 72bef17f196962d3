// Reading a whole file, transparently gunzipping it when it is gzip.
#include "data_formats.hpp"

#include <plexus/error.hpp>

#include <zlib.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

namespace plexus::detail {

namespace {

constexpr size_t kChunk = size_t{1} << 20;

struct FileCloser {
  void operator()(std::FILE* f) const noexcept { std::fclose(f); }
};
using File = std::unique_ptr<std::FILE, FileCloser>;

std::string gunzip_file(const std::string& path) {
  gzFile gz = gzopen(path.c_str(), "rb");
  if (gz == nullptr)
    throw Error(ErrorCode::kIo, "cannot open '" + path + "': " + std::strerror(errno));
  gzbuffer(gz, 128 * 1024);
  std::string out;
  for (;;) {
    const size_t old = out.size();
    out.resize(old + kChunk);
    const int n = gzread(gz, out.data() + old, static_cast<unsigned>(kChunk));
    if (n < 0) {
      int errnum = 0;
      const std::string msg = gzerror(gz, &errnum);
      gzclose(gz);
      throw Error(ErrorCode::kFormat, "corrupt gzip data in '" + path + "': " + msg);
    }
    out.resize(old + static_cast<size_t>(n));
    if (n == 0) break;
  }
  int errnum = Z_OK;
  const std::string msg = gzerror(gz, &errnum);
  gzclose(gz);
  // zlib reports a stream cut short as Z_BUF_ERROR "unexpected end of file"
  // while still returning the bytes it could decompress.
  if (errnum != Z_OK)
    throw Error(ErrorCode::kFormat, "corrupt or truncated gzip data in '" + path + "': " + msg +
                                        " (after " + std::to_string(out.size()) + " decompressed bytes)");
  return out;
}

}  // namespace

std::string read_file_bytes(const std::string& path, bool gunzip) {
  File f(std::fopen(path.c_str(), "rb"));
  if (!f) throw Error(ErrorCode::kIo, "cannot open '" + path + "': " + std::strerror(errno));
  if (gunzip) {
    unsigned char magic[2] = {0, 0};
    const size_t got = std::fread(magic, 1, 2, f.get());
    if (got == 2 && magic[0] == 0x1f && magic[1] == 0x8b) {
      f.reset();
      return gunzip_file(path);
    }
    std::rewind(f.get());
  }
  std::string out;
  for (;;) {
    const size_t old = out.size();
    out.resize(old + kChunk);
    const size_t n = std::fread(out.data() + old, 1, kChunk, f.get());
    out.resize(old + n);
    if (n < kChunk) {
      if (std::ferror(f.get()))
        throw Error(ErrorCode::kIo, "cannot read '" + path + "': " + std::strerror(errno));
      break;
    }
  }
  return out;
}

}  // namespace plexus::detail
