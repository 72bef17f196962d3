// NumPy .npy files: format versions 1.0, 2.0 and 3.0, C order.
//
// Layout: "\x93NUMPY", major, minor, header length (uint16 LE in 1.0, uint32
// LE in 2.0/3.0), then an ASCII (3.0: UTF-8) Python dict literal
// {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), } padded with
// spaces and ending in '\n' so that the data starts 64-byte aligned, then the
// raw elements.
#include <plexus/error.hpp>
#include <plexus/npy.hpp>

#include "data_formats.hpp"
#include "fs_util.hpp"

#include <bit>
#include <cstring>
#include <string_view>
#include <vector>

namespace plexus {

static_assert(std::endian::native == std::endian::little, "the .npy reader and writer assume a little-endian host");

namespace {

constexpr char kMagic[] = "\x93NUMPY";
constexpr size_t kMagicLen = 6;

struct NpyHeader {
  std::string descr;
  bool fortran_order = false;
  std::vector<int64_t> shape;
};

/// A parser for the one Python dict literal a .npy header holds.
class HeaderParser {
 public:
  HeaderParser(std::string_view text, const std::string& path) : s_(text), path_(path) {}

  NpyHeader parse() {
    NpyHeader h;
    bool seen_descr = false, seen_order = false, seen_shape = false;
    expect('{');
    while (!peek('}')) {
      const std::string key = string_literal();
      expect(':');
      if (key == "descr") {
        h.descr = string_literal();
        seen_descr = true;
      } else if (key == "fortran_order") {
        h.fortran_order = boolean();
        seen_order = true;
      } else if (key == "shape") {
        h.shape = tuple();
        seen_shape = true;
      } else {
        fail("unknown key '" + key + "' (known: descr, fortran_order, shape)");
      }
      if (!peek(',')) break;
      expect(',');
    }
    expect('}');
    if (!seen_descr || !seen_order || !seen_shape)
      fail(std::string("missing key '") + (!seen_descr ? "descr" : !seen_order ? "fortran_order" : "shape") + "'");
    return h;
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw Error(ErrorCode::kFormat, "bad .npy header in '" + path_ + "': " + what + " at offset " +
                                        std::to_string(pos_) + " of the header \"" + std::string(s_) + "\"");
  }
  void skip_ws() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r')) ++pos_;
  }
  bool peek(char c) {
    skip_ws();
    return pos_ < s_.size() && s_[pos_] == c;
  }
  void expect(char c) {
    if (!peek(c)) fail(std::string("expected '") + c + "'");
    ++pos_;
  }
  std::string string_literal() {
    skip_ws();
    if (pos_ >= s_.size() || (s_[pos_] != '\'' && s_[pos_] != '"')) fail("expected a quoted string");
    const char quote = s_[pos_++];
    const size_t end = s_.find(quote, pos_);
    if (end == std::string_view::npos) fail("unterminated string");
    std::string r(s_.substr(pos_, end - pos_));
    pos_ = end + 1;
    return r;
  }
  bool boolean() {
    skip_ws();
    for (const auto& [word, value] : {std::pair<std::string_view, bool>{"True", true}, {"False", false}})
      if (s_.substr(pos_, word.size()) == word) {
        pos_ += word.size();
        return value;
      }
    fail("expected True or False");
  }
  std::vector<int64_t> tuple() {
    std::vector<int64_t> dims;
    expect('(');
    while (!peek(')')) {
      int64_t v = 0;
      size_t digits = 0;
      while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') {
        if (v > (INT64_MAX - 9) / 10) fail("dimension too large");
        v = v * 10 + (s_[pos_++] - '0');
        ++digits;
      }
      if (digits == 0) fail("expected a non-negative integer dimension");
      if (pos_ < s_.size() && s_[pos_] == 'L') ++pos_;  // Python 2 long
      dims.push_back(v);
      if (!peek(',')) break;
      expect(',');
    }
    expect(')');
    return dims;
  }

  std::string_view s_;
  const std::string& path_;
  size_t pos_ = 0;
};

enum class Kind { kF32, kF64, kU8, kI8, kI16, kU16, kI32, kU32, kI64, kU64, kBool };

struct DType {
  const char* code;  // without the byte-order character
  Kind kind;
  int bytes;
};

constexpr DType kDTypes[] = {
    {"f4", Kind::kF32, 4}, {"f8", Kind::kF64, 8}, {"u1", Kind::kU8, 1},  {"i1", Kind::kI8, 1},
    {"i2", Kind::kI16, 2}, {"u2", Kind::kU16, 2}, {"i4", Kind::kI32, 4}, {"u4", Kind::kU32, 4},
    {"i8", Kind::kI64, 8}, {"u8", Kind::kU64, 8}, {"b1", Kind::kBool, 1},
};

const DType& find_dtype(const std::string& descr, const std::string& path) {
  const std::string supported = "<f4, <f8, |u1, |i1, <i2, <u2, <i4, <u4, <i8, <u8, |b1";
  if (descr.size() == 3) {
    const char order = descr[0];
    for (const DType& d : kDTypes) {
      if (descr.compare(1, 2, d.code) != 0) continue;
      if (order == '>' && d.bytes > 1)
        throw Error(ErrorCode::kFormat, "big-endian dtype '" + descr + "' in '" + path +
                                            "' is not supported; save it little-endian, e.g. with "
                                            "arr.astype('<" + d.code + "') (supported: " + supported + ")");
      if (order == '<' || order == '|' || order == '=' || order == '>') return d;
    }
  }
  throw Error(ErrorCode::kFormat, "unsupported dtype '" + descr + "' in '" + path + "' (supported: " + supported + ")");
}

template <typename T>
void convert(const char* src, float* dst, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    T v;
    std::memcpy(&v, src + i * static_cast<int64_t>(sizeof(T)), sizeof(T));
    dst[i] = static_cast<float>(v);
  }
}

void convert_kind(Kind k, const char* src, float* dst, int64_t n) {
  switch (k) {
    case Kind::kF32: std::memcpy(dst, src, static_cast<size_t>(n) * 4); break;
    case Kind::kF64: convert<double>(src, dst, n); break;
    case Kind::kU8: convert<uint8_t>(src, dst, n); break;
    case Kind::kI8: convert<int8_t>(src, dst, n); break;
    case Kind::kI16: convert<int16_t>(src, dst, n); break;
    case Kind::kU16: convert<uint16_t>(src, dst, n); break;
    case Kind::kI32: convert<int32_t>(src, dst, n); break;
    case Kind::kU32: convert<uint32_t>(src, dst, n); break;
    case Kind::kI64: convert<int64_t>(src, dst, n); break;
    case Kind::kU64: convert<uint64_t>(src, dst, n); break;
    case Kind::kBool:
      for (int64_t i = 0; i < n; ++i) dst[i] = src[i] != 0 ? 1.0f : 0.0f;
      break;
  }
}

std::string npy_header_text(const Shape& shape) {
  // Python's repr of a tuple: "(3, 4)", "(5,)", "()".
  std::string tuple = "(";
  for (int i = 0; i < shape.ndim(); ++i)
    tuple += std::to_string(shape[i]) + (i + 1 < shape.ndim() ? ", " : shape.ndim() == 1 ? "," : "");
  tuple += ")";
  return "{'descr': '<f4', 'fortran_order': False, 'shape': " + tuple + ", }";
}

}  // namespace

Tensor read_npy(const std::string& path) {
  const std::string bytes = detail::read_file_bytes(path, /*gunzip=*/false);
  const size_t found = bytes.size();
  if (found < kMagicLen + 4 || bytes.compare(0, kMagicLen, kMagic, kMagicLen) != 0)
    throw Error(ErrorCode::kFormat, "'" + path + "' is not a .npy file: expected the magic \"\\x93NUMPY\" and a "
                                        "version, found " + std::to_string(found) + " bytes" +
                                        (found >= kMagicLen ? " starting differently" : ""));
  const auto major = static_cast<unsigned char>(bytes[6]);
  const auto minor = static_cast<unsigned char>(bytes[7]);
  if (major < 1 || major > 3 || minor != 0)
    throw Error(ErrorCode::kFormat, "unsupported .npy format version " + std::to_string(major) + "." +
                                        std::to_string(minor) + " in '" + path + "' (supported: 1.0, 2.0, 3.0)");
  const auto* u = reinterpret_cast<const unsigned char*>(bytes.data());
  size_t header_len = 0;
  size_t header_start = 10;
  if (major == 1) {
    header_len = size_t{u[8]} | (size_t{u[9]} << 8);
  } else {
    if (found < 12) throw Error(ErrorCode::kFormat, "truncated .npy file '" + path + "': no room for the header length");
    header_len = size_t{u[8]} | (size_t{u[9]} << 8) | (size_t{u[10]} << 16) | (size_t{u[11]} << 24);
    header_start = 12;
  }
  if (found < header_start + header_len)
    throw Error(ErrorCode::kFormat, "truncated .npy file '" + path + "': the header needs " +
                                        std::to_string(header_start + header_len) + " bytes, found " +
                                        std::to_string(found));
  const NpyHeader h = HeaderParser(std::string_view(bytes).substr(header_start, header_len), path).parse();
  if (h.fortran_order)
    throw Error(ErrorCode::kFormat, "'" + path + "' is stored in Fortran order, which is not supported; save a "
                                        "C-ordered array, e.g. np.save(path, np.ascontiguousarray(arr))");
  const DType& dt = find_dtype(h.descr, path);
  if (h.shape.size() > PLX_MAX_NDIM)
    throw Error(ErrorCode::kFormat, "'" + path + "' has " + std::to_string(h.shape.size()) +
                                        " dimensions; at most " + std::to_string(PLX_MAX_NDIM) + " are supported");
  const size_t data_start = header_start + header_len;
  const size_t data_bytes = found - data_start;
  uint64_t numel = 1;
  bool too_big = false;
  for (int64_t d : h.shape) {
    if (d == 0) { numel = 0; too_big = false; break; }
    if (!too_big) {
      too_big = numel > data_bytes / static_cast<uint64_t>(d);
      numel = too_big ? numel : numel * static_cast<uint64_t>(d);
    }
  }
  const uint64_t expected = numel * static_cast<uint64_t>(dt.bytes);
  if (too_big || expected != data_bytes) {
    std::string dims;
    for (size_t i = 0; i < h.shape.size(); ++i) dims += (i ? " x " : "") + std::to_string(h.shape[i]);
    throw Error(ErrorCode::kFormat,
                std::string(too_big || expected > data_bytes ? "truncated .npy file '" : ".npy file '") + path +
                    "': shape (" + dims + ") of '" + h.descr + "' needs " +
                    (too_big ? std::string("more data bytes than the file has")
                             : std::to_string(expected) + " data bytes") +
                    ", found " + std::to_string(data_bytes));
  }
  Tensor t = Tensor::empty(Shape(std::span<const int64_t>(h.shape)));
  convert_kind(dt.kind, bytes.data() + data_start, t.data(), static_cast<int64_t>(numel));
  return t;
}

void write_npy(const std::string& path, const Tensor& t) {
  if (!t.defined()) throw Error(ErrorCode::kInvalid, "write_npy('" + path + "'): the tensor is undefined");
  std::string dict = npy_header_text(t.shape());
  // Data starts on a 64-byte boundary: magic + version + length + dict + '\n'.
  size_t prefix = 10;
  size_t total = (prefix + dict.size() + 1 + 63) / 64 * 64;
  if (total - prefix > 0xFFFF) {  // version 2.0: 4-byte header length
    prefix = 12;
    total = (prefix + dict.size() + 1 + 63) / 64 * 64;
  }
  const size_t header_len = total - prefix;
  std::string head(kMagic, kMagicLen);
  head += static_cast<char>(prefix == 10 ? 1 : 2);
  head += '\0';
  for (size_t i = 0; i < prefix - 8; ++i) head += static_cast<char>((header_len >> (8 * i)) & 0xFF);
  head += dict;
  head.append(total - head.size() - 1, ' ');
  head += '\n';

  const size_t data_bytes = static_cast<size_t>(t.numel()) * sizeof(float);
  std::string bytes = std::move(head);
  bytes.append(reinterpret_cast<const char*>(t.data()), data_bytes);
  detail::write_file_atomic(path, bytes, ".npy file");
}

}  // namespace plexus
