// Checkpoint files: preamble, protobuf CheckpointHeader, raw tensor bytes.
// The layout, byte by byte, and every check made on load are in
// docs/checkpoint-format.md; keep the two in step.
#include <plexus/checkpoint.hpp>
#include <plexus/error.hpp>

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <zlib.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <limits>
#include <set>
#include <sys/stat.h>
#include <unistd.h>

namespace plexus {

static_assert(std::endian::native == std::endian::little,
              "checkpoint tensor bytes are little-endian f32, written and read as they lie in memory");

namespace {

constexpr char kMagic[8] = {'P', 'L', 'X', 'C', 'K', 'P', 'T', '\0'};
constexpr uint32_t kFormatVersion = 1;
constexpr uint64_t kPreambleSize = 32;  // magic 8, version 4, flags 4, header length 8, header crc 4, reserved 4
constexpr uint64_t kAlign = 64;

uint64_t align_up(uint64_t n) { return (n + kAlign - 1) / kAlign * kAlign; }

std::string quoted(const std::string& s) { return "'" + s + "'"; }

std::string hex32(uint32_t v) {
  char buf[11];
  std::snprintf(buf, sizeof buf, "0x%08x", v);
  return buf;
}

// ---- little-endian fields -------------------------------------------------

void put_u32(std::string& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out += static_cast<char>((v >> (8 * i)) & 0xFF);
}
void put_u64(std::string& out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out += static_cast<char>((v >> (8 * i)) & 0xFF);
}
uint32_t get_u32(const unsigned char* p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= uint32_t{p[i]} << (8 * i);
  return v;
}
uint64_t get_u64(const unsigned char* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= uint64_t{p[i]} << (8 * i);
  return v;
}

/// zlib's crc32 over any length (its length argument is 32-bit).
uint32_t crc32_of(const void* data, uint64_t n) {
  const auto* p = static_cast<const Bytef*>(data);
  uLong crc = crc32(0L, Z_NULL, 0);
  while (n > 0) {
    const auto chunk = static_cast<uInt>(std::min<uint64_t>(n, uint64_t{1} << 30));
    crc = crc32(crc, p, chunk);
    p += chunk;
    n -= chunk;
  }
  return static_cast<uint32_t>(crc);
}

// ---- AttrMap <-> proto map --------------------------------------------------

void to_proto(const AttrMap& in, google::protobuf::Map<std::string, proto::AttrValue>& out, const std::string& where) {
  for (const auto& [name, value] : in) {
    proto::AttrValue& v = out[name];
    const auto& var = value.get();
    if (const auto* f = std::get_if<double>(&var)) v.set_f(*f);
    else if (const auto* i = std::get_if<int64_t>(&var)) v.set_i(*i);
    else if (const auto* b = std::get_if<bool>(&var)) v.set_b(*b);
    else if (const auto* s = std::get_if<std::string>(&var)) v.set_s(*s);
    else throw Error(ErrorCode::kInvalid, where + ": hyperparameter '" + name + "' has no value");
  }
}

AttrMap from_proto(const google::protobuf::Map<std::string, proto::AttrValue>& in, const std::string& where) {
  AttrMap out;
  for (const auto& [name, v] : in) {
    switch (v.value_case()) {
      case proto::AttrValue::kF: out.emplace(name, AttrValue(v.f())); break;
      case proto::AttrValue::kI: out.emplace(name, AttrValue(static_cast<int64_t>(v.i()))); break;
      case proto::AttrValue::kB: out.emplace(name, AttrValue(v.b())); break;
      case proto::AttrValue::kS: out.emplace(name, AttrValue(v.s())); break;
      default:
        throw Error(ErrorCode::kFormat, where + ": optimizer_hparams['" + name + "'] has no value (expected one of f, i, b, s)");
    }
  }
  return out;
}

bool known_role(int role) {
  return role == proto::TENSOR_ROLE_PARAM || role == proto::TENSOR_ROLE_OPTIMIZER_STATE;
}

// ---- file descriptors -------------------------------------------------------

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  /// Closes now, reporting the result (close can report a deferred write error).
  int close() {
    const int r = ::close(fd_);
    fd_ = -1;
    return r;
  }

 private:
  int fd_;
};

std::string sys_error() { return std::strerror(errno); }

// ---- save -------------------------------------------------------------------

/// The temporary file of one save; removed unless committed.
class TempFile {
 public:
  explicit TempFile(std::string target) : target_(std::move(target)), path_(target_ + ".tmp." + std::to_string(::getpid())) {}
  ~TempFile() {
    if (!committed_) ::unlink(path_.c_str());
  }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  const std::string& path() const { return path_; }
  void commit() { committed_ = true; }

 private:
  std::string target_;
  std::string path_;
  bool committed_ = false;
};

[[noreturn]] void save_failed(const std::string& path, const std::string& step) {
  throw Error(ErrorCode::kIo, "cannot write checkpoint '" + path + "': " + step + ": " + sys_error());
}

void write_all(int fd, const char* data, uint64_t n, const std::string& path) {
  while (n > 0) {
    const ssize_t w = ::write(fd, data, static_cast<size_t>(std::min<uint64_t>(n, uint64_t{1} << 30)));
    if (w < 0) {
      if (errno == EINTR) continue;
      save_failed(path, "write");
    }
    data += w;
    n -= static_cast<uint64_t>(w);
  }
}

void write_zeros(int fd, uint64_t n, const std::string& path) {
  static const char zeros[kAlign] = {};
  while (n > 0) {
    const uint64_t k = std::min<uint64_t>(n, kAlign);
    write_all(fd, zeros, k, path);
    n -= k;
  }
}

/// The header for `ck`, with each record's offset, size and CRC filled in.
proto::CheckpointHeader make_header(const std::string& path, const Checkpoint& ck) {
  const std::string where = "checkpoint " + quoted(path);
  proto::CheckpointHeader h;
  h.set_format_version(kFormatVersion);
  *h.mutable_model() = ck.model;
  h.set_step(ck.step);
  h.set_epoch(ck.epoch);
  h.set_optimizer(ck.optimizer);
  h.set_optimizer_version(ck.optimizer_version);
  to_proto(ck.optimizer_hparams, *h.mutable_optimizer_hparams(), where);
  h.set_rng_state(ck.rng_state);
  std::set<std::string> names;
  uint64_t offset = 0;
  for (const CheckpointTensor& t : ck.tensors) {
    if (t.name.empty()) throw Error(ErrorCode::kInvalid, where + ": a tensor has an empty name");
    if (!names.insert(t.name).second)
      throw Error(ErrorCode::kInvalid, where + ": tensor name " + quoted(t.name) + " is used twice");
    if (!t.data.defined()) throw Error(ErrorCode::kInvalid, where + ": tensor " + quoted(t.name) + " has no data");
    if (!known_role(t.role))
      throw Error(ErrorCode::kInvalid, where + ": tensor " + quoted(t.name) + " has role " + std::to_string(t.role) +
                                           " (expected TENSOR_ROLE_PARAM or TENSOR_ROLE_OPTIMIZER_STATE)");
    const uint64_t nbytes = static_cast<uint64_t>(t.data.numel()) * sizeof(float);
    proto::TensorRecord* r = h.add_tensors();
    r->set_name(t.name);
    r->set_role(t.role);
    r->set_param(t.param);
    for (int i = 0; i < t.data.ndim(); ++i) r->add_shape(t.data.dim(i));
    r->set_offset(offset);
    r->set_nbytes(nbytes);
    r->set_crc32(crc32_of(t.data.data(), nbytes));
    offset = align_up(offset + nbytes);
  }
  return h;
}

/// Deterministic bytes: the same checkpoint always gives the same file.
std::string serialize(const proto::CheckpointHeader& h) {
  std::string out;
  {
    google::protobuf::io::StringOutputStream sos(&out);
    google::protobuf::io::CodedOutputStream cos(&sos);
    cos.SetSerializationDeterministic(true);
    h.SerializeToCodedStream(&cos);
  }
  return out;
}

std::string preamble(const std::string& header_bytes) {
  std::string out(kMagic, sizeof kMagic);
  put_u32(out, kFormatVersion);
  put_u32(out, 0);  // flags
  put_u64(out, header_bytes.size());
  put_u32(out, crc32_of(header_bytes.data(), header_bytes.size()));
  put_u32(out, 0);  // reserved
  return out;
}

void fsync_parent(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  const std::string dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);  // makes the rename durable; some file systems refuse, which costs only durability
    ::close(dfd);
  }
}

// ---- load -------------------------------------------------------------------

void read_at(int fd, char* dst, uint64_t n, uint64_t at, const std::string& path, const std::string& what) {
  while (n > 0) {
    const ssize_t r = ::pread(fd, dst, static_cast<size_t>(std::min<uint64_t>(n, uint64_t{1} << 30)),
                              static_cast<off_t>(at));
    if (r < 0) {
      if (errno == EINTR) continue;
      throw Error(ErrorCode::kIo, "cannot read checkpoint " + quoted(path) + " (" + what + "): " + sys_error());
    }
    if (r == 0)
      throw Error(ErrorCode::kIo, "checkpoint " + quoted(path) + " shrank while being read (" + what + ")");
    dst += r;
    at += static_cast<uint64_t>(r);
    n -= static_cast<uint64_t>(r);
  }
}

struct Preamble {
  uint64_t header_len;
  uint32_t header_crc;
};

Preamble check_preamble(int fd, uint64_t file_size, const std::string& path) {
  const std::string where = "checkpoint " + quoted(path);
  unsigned char p[kPreambleSize] = {};
  const uint64_t have = std::min<uint64_t>(file_size, kPreambleSize);
  read_at(fd, reinterpret_cast<char*>(p), have, 0, path, "preamble");
  if (file_size == 0)
    throw Error(ErrorCode::kFormat, where + " is empty (0 bytes); a checkpoint starts with a " +
                                        std::to_string(kPreambleSize) + "-byte preamble");
  if (std::memcmp(p, kMagic, static_cast<size_t>(std::min<uint64_t>(have, sizeof kMagic))) != 0)
    throw Error(ErrorCode::kFormat, where + " is not a Plexus checkpoint: it does not start with the magic bytes "
                                            "\"PLXCKPT\\0\"");
  if (file_size < kPreambleSize)
    throw Error(ErrorCode::kFormat, where + " is truncated: the file has " + std::to_string(file_size) +
                                        " bytes, the preamble alone needs " + std::to_string(kPreambleSize));
  const uint32_t version = get_u32(p + 8);
  if (version > kFormatVersion)
    throw Error(ErrorCode::kFormat, where + " has format version " + std::to_string(version) +
                                        ", newer than this build of Plexus reads (up to " +
                                        std::to_string(kFormatVersion) + "); use a newer Plexus");
  if (version == 0)
    throw Error(ErrorCode::kFormat, where + " has format version 0, which does not exist (expected " +
                                        std::to_string(kFormatVersion) + ")");
  const uint32_t flags = get_u32(p + 12);
  if (flags != 0)
    throw Error(ErrorCode::kFormat, where + " sets unknown flags " + std::to_string(flags) +
                                        " in its preamble (format version 1 defines none; expected 0)");
  const uint64_t header_len = get_u64(p + 16);
  if (header_len > file_size - kPreambleSize)
    throw Error(ErrorCode::kFormat, where + " is truncated: the header needs bytes [" + std::to_string(kPreambleSize) +
                                        ", " + (header_len > UINT64_MAX - kPreambleSize
                                                    ? std::string("2^64")
                                                    : std::to_string(kPreambleSize + header_len)) +
                                        ") but the file has " + std::to_string(file_size) + " bytes");
  if (header_len > static_cast<uint64_t>(INT_MAX))
    throw Error(ErrorCode::kFormat, where + ": header length " + std::to_string(header_len) +
                                        " exceeds protobuf's 2 GiB message limit");
  return {header_len, get_u32(p + 24)};
}

/// numel of the record's shape, or -1 (with `why`) when a dimension is bad or the product overflows.
int64_t record_numel(const proto::TensorRecord& r, std::string& why) {
  if (r.shape_size() > PLX_MAX_NDIM) {
    why = "has " + std::to_string(r.shape_size()) + " dimensions (at most " + std::to_string(PLX_MAX_NDIM) + ")";
    return -1;
  }
  int64_t n = 1;
  bool overflow = false;
  for (int i = 0; i < r.shape_size(); ++i) {
    const int64_t d = r.shape(i);
    if (d < 0) {
      why = "has negative dimension " + std::to_string(d) + " at index " + std::to_string(i);
      return -1;
    }
    if (d == 0) return 0;
    if (!overflow && n > std::numeric_limits<int64_t>::max() / 4 / d) overflow = true;
    if (!overflow) n *= d;
  }
  if (overflow) {
    why = "has a shape whose size overflows 64 bits";
    return -1;
  }
  return n;
}

std::string shape_text(const proto::TensorRecord& r) {
  std::string s = "[";
  for (int i = 0; i < r.shape_size(); ++i) s += (i ? ", " : "") + std::to_string(r.shape(i));
  return s + "]";
}

/// Checks one record against the data section before any tensor byte is read.
void check_record(const proto::TensorRecord& r, int index, uint64_t data_size, std::set<std::string>& names,
                  const std::string& where) {
  const std::string rec = where + ": tensor " + (r.name().empty() ? "#" + std::to_string(index) : quoted(r.name()));
  if (r.name().empty()) throw Error(ErrorCode::kFormat, rec + " has an empty name");
  if (!names.insert(r.name()).second) throw Error(ErrorCode::kFormat, rec + " appears twice");
  if (!known_role(r.role()))
    throw Error(ErrorCode::kFormat, rec + " has unknown role " + std::to_string(r.role()) +
                                        " (expected TENSOR_ROLE_PARAM or TENSOR_ROLE_OPTIMIZER_STATE)");
  std::string why;
  const int64_t numel = record_numel(r, why);
  if (numel < 0) throw Error(ErrorCode::kFormat, rec + " " + why);
  const uint64_t expected = static_cast<uint64_t>(numel) * sizeof(float);
  if (r.nbytes() != expected)
    throw Error(ErrorCode::kFormat, rec + " has shape " + shape_text(r) + " (" + std::to_string(expected) +
                                        " bytes of f32) but records nbytes " + std::to_string(r.nbytes()));
  if (r.offset() % kAlign != 0)
    throw Error(ErrorCode::kFormat, rec + " has offset " + std::to_string(r.offset()) +
                                        ", which is not a multiple of " + std::to_string(kAlign));
  if (r.offset() > data_size || r.nbytes() > data_size - r.offset()) {
    const bool wraps = r.nbytes() > UINT64_MAX - r.offset();
    throw Error(ErrorCode::kFormat, rec + " needs bytes [" + std::to_string(r.offset()) + ", " +
                                        (wraps ? std::string("2^64+") : std::to_string(r.offset() + r.nbytes())) +
                                        ") but the data section has " + std::to_string(data_size) + " bytes");
  }
}

}  // namespace

const CheckpointTensor* Checkpoint::find(const std::string& name) const {
  for (const CheckpointTensor& t : tensors)
    if (t.name == name) return &t;
  return nullptr;
}

void save_checkpoint(const std::string& path, const Checkpoint& ck) {
  const proto::CheckpointHeader header = make_header(path, ck);
  const std::string header_bytes = serialize(header);
  if (header_bytes.size() > static_cast<size_t>(INT_MAX))
    throw Error(ErrorCode::kInvalid, "checkpoint " + quoted(path) + ": the header is " +
                                         std::to_string(header_bytes.size()) +
                                         " bytes, over protobuf's 2 GiB message limit");
  std::string head = preamble(header_bytes) + header_bytes;
  const uint64_t data_start = align_up(head.size());
  head.append(data_start - head.size(), '\0');

  TempFile tmp(path);
  Fd fd(::open(tmp.path().c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (fd.get() < 0) save_failed(path, "cannot create temporary file " + quoted(tmp.path()));
  write_all(fd.get(), head.data(), head.size(), path);
  uint64_t pos = 0;  // within the data section
  for (size_t i = 0; i < ck.tensors.size(); ++i) {
    const proto::TensorRecord& r = header.tensors(static_cast<int>(i));
    write_zeros(fd.get(), r.offset() - pos, path);
    write_all(fd.get(), reinterpret_cast<const char*>(ck.tensors[i].data.data()), r.nbytes(), path);
    pos = r.offset() + r.nbytes();
  }
  if (::fsync(fd.get()) != 0) save_failed(path, "fsync");
  if (fd.close() != 0) save_failed(path, "close");
  if (::rename(tmp.path().c_str(), path.c_str()) != 0) save_failed(path, "rename from " + quoted(tmp.path()));
  tmp.commit();
  fsync_parent(path);
}

Checkpoint load_checkpoint(const std::string& path) {
  const std::string where = "checkpoint " + quoted(path);
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) throw Error(ErrorCode::kIo, "cannot open " + where + ": " + sys_error());
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) throw Error(ErrorCode::kIo, "cannot stat " + where + ": " + sys_error());
  if (!S_ISREG(st.st_mode)) throw Error(ErrorCode::kIo, "cannot read " + where + ": not a regular file");
  const auto file_size = static_cast<uint64_t>(st.st_size);

  const Preamble pre = check_preamble(fd.get(), file_size, path);
  std::string header_bytes(static_cast<size_t>(pre.header_len), '\0');
  read_at(fd.get(), header_bytes.data(), pre.header_len, kPreambleSize, path, "header");
  const uint32_t crc = crc32_of(header_bytes.data(), header_bytes.size());
  if (crc != pre.header_crc)
    throw Error(ErrorCode::kFormat, where + " is corrupt: the header's CRC-32 is " + hex32(crc) +
                                        ", the preamble records " + hex32(pre.header_crc));
  proto::CheckpointHeader h;
  if (!h.ParseFromString(header_bytes))
    throw Error(ErrorCode::kFormat, where + ": the header (" + std::to_string(pre.header_len) +
                                        " bytes) is not a valid CheckpointHeader message");
  if (h.format_version() != kFormatVersion)
    throw Error(ErrorCode::kFormat, where + ": header field format_version is " +
                                        std::to_string(h.format_version()) + ", the preamble says " +
                                        std::to_string(kFormatVersion));

  const uint64_t data_start = align_up(kPreambleSize + pre.header_len);
  if (data_start > file_size)
    throw Error(ErrorCode::kFormat, where + " is truncated: the data section starts at byte " +
                                        std::to_string(data_start) + " but the file has " +
                                        std::to_string(file_size) + " bytes");
  const uint64_t data_size = file_size - data_start;
  std::set<std::string> names;
  for (int i = 0; i < h.tensors_size(); ++i) check_record(h.tensors(i), i, data_size, names, where);

  Checkpoint ck;
  ck.model = h.model();
  ck.step = h.step();
  ck.epoch = h.epoch();
  ck.optimizer = h.optimizer();
  ck.optimizer_version = h.optimizer_version();
  ck.optimizer_hparams = from_proto(h.optimizer_hparams(), where);
  ck.rng_state = h.rng_state();
  ck.tensors.reserve(static_cast<size_t>(h.tensors_size()));
  for (const proto::TensorRecord& r : h.tensors()) {
    Tensor t = Tensor::empty(Shape(std::span<const int64_t>(r.shape().data(), static_cast<size_t>(r.shape_size()))));
    read_at(fd.get(), reinterpret_cast<char*>(t.data()), r.nbytes(), data_start + r.offset(), path,
            "tensor " + quoted(r.name()));
    const uint32_t got = crc32_of(t.data(), r.nbytes());
    if (got != r.crc32())
      throw Error(ErrorCode::kFormat, where + " is corrupt: tensor " + quoted(r.name()) + " (bytes [" +
                                          std::to_string(r.offset()) + ", " + std::to_string(r.offset() + r.nbytes()) +
                                          ") of the data section) has CRC-32 " + hex32(got) +
                                          ", the header records " + hex32(r.crc32()));
    ck.tensors.push_back({r.name(), r.role(), r.param(), std::move(t)});
  }
  return ck;
}

}  // namespace plexus
