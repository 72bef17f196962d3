// IDX files (the MNIST format), gzip-compressed or plain.
//
// Layout: magic 00 00 TT NN (TT element type, NN number of dimensions), then
// NN big-endian uint32 sizes, then the elements big-endian in row-major order.
// Element types: 08 uint8, 09 int8, 0B int16, 0C int32, 0D float32, 0E float64.
#include "data_formats.hpp"

#include <plexus/error.hpp>

#include <cstring>
#include <vector>

namespace plexus::detail {

namespace {

struct IdxType {
  uint8_t code;
  const char* name;
  int bytes;
};

constexpr IdxType kIdxTypes[] = {
    {0x08, "uint8", 1}, {0x09, "int8", 1},     {0x0B, "int16", 2},
    {0x0C, "int32", 4}, {0x0D, "float32", 4}, {0x0E, "float64", 8},
};

uint64_t read_be(const unsigned char* p, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v = (v << 8) | p[i];
  return v;
}

float decode(const unsigned char* p, uint8_t code) {
  switch (code) {
    case 0x08: return static_cast<float>(p[0]);
    case 0x09: return static_cast<float>(static_cast<int8_t>(p[0]));
    case 0x0B: return static_cast<float>(static_cast<int16_t>(read_be(p, 2)));
    case 0x0C: return static_cast<float>(static_cast<int32_t>(read_be(p, 4)));
    case 0x0D: {
      const auto bits = static_cast<uint32_t>(read_be(p, 4));
      float f;
      std::memcpy(&f, &bits, 4);
      return f;
    }
    default: {
      const uint64_t bits = read_be(p, 8);
      double d;
      std::memcpy(&d, &bits, 8);
      return static_cast<float>(d);
    }
  }
}

std::string hex_byte(unsigned v) {
  const char* digits = "0123456789abcdef";
  return std::string{'0', 'x', digits[(v >> 4) & 15], digits[v & 15]};
}

std::string magic_str(const std::string& b) {
  std::string r;
  for (size_t i = 0; i < 4 && i < b.size(); ++i) r += (i ? " " : "") + hex_byte(static_cast<unsigned char>(b[i])).substr(2);
  return r;
}

}  // namespace

Tensor load_idx(const std::string& path) {
  const std::string bytes = read_file_bytes(path, /*gunzip=*/true);
  const auto* u = reinterpret_cast<const unsigned char*>(bytes.data());
  const size_t found = bytes.size();
  if (found < 4)
    throw Error(ErrorCode::kFormat, "truncated IDX file '" + path + "': expected at least a 4-byte magic number, found " +
                                        std::to_string(found) + " bytes");
  const IdxType* type = nullptr;
  for (const IdxType& t : kIdxTypes)
    if (t.code == u[2]) type = &t;
  const int ndim = u[3];
  if (u[0] != 0 || u[1] != 0 || type == nullptr || ndim < 1 || ndim > PLX_MAX_NDIM)
    throw Error(ErrorCode::kFormat,
                "bad magic number in IDX file '" + path + "': found bytes " + magic_str(bytes) +
                    ", expected 00 00 TT NN with element type TT one of 08 (uint8), 09 (int8), 0b (int16), "
                    "0c (int32), 0d (float32), 0e (float64) and 1 <= NN <= " + std::to_string(PLX_MAX_NDIM) +
                    " dimensions (MNIST images: 00 00 08 03, labels: 00 00 08 01)");
  const size_t header = 4 + 4 * static_cast<size_t>(ndim);
  if (found < header)
    throw Error(ErrorCode::kFormat, "truncated IDX file '" + path + "': the header of " + std::to_string(ndim) +
                                        " dimensions needs " + std::to_string(header) + " bytes, found " +
                                        std::to_string(found));
  std::vector<int64_t> dims(static_cast<size_t>(ndim));
  std::string dims_str;
  uint64_t numel = 1;
  bool too_big = false;
  bool has_zero = false;
  for (int i = 0; i < ndim; ++i) {
    const uint64_t d = read_be(u + 4 + 4 * i, 4);
    dims[static_cast<size_t>(i)] = static_cast<int64_t>(d);
    dims_str += (i ? " x " : "") + std::to_string(d);
    has_zero = has_zero || d == 0;
  }
  for (int i = 0; i < ndim && !has_zero; ++i) {
    const uint64_t d = static_cast<uint64_t>(dims[static_cast<size_t>(i)]);
    // Stop multiplying once past the file size: no overflow whatever the header says.
    if (!too_big) {
      too_big = numel > found / d;
      numel = too_big ? numel : numel * d;
    }
  }
  if (has_zero) numel = 0;
  const uint64_t expected = header + numel * static_cast<uint64_t>(type->bytes);
  if (too_big || expected != found) {
    const std::string what = too_big || expected > found ? "truncated IDX file '" : "IDX file '";
    throw Error(ErrorCode::kFormat,
                what + path + "': header says " + dims_str + " " + type->name + " elements, which needs " +
                    (too_big ? std::string("more bytes than the file has") : std::to_string(expected) + " bytes") +
                    "; found " + std::to_string(found) + " bytes" +
                    (!too_big && expected < found ? " (" + std::to_string(found - expected) + " trailing bytes)" : ""));
  }
  Tensor t = Tensor::empty(Shape(std::span<const int64_t>(dims)));
  float* dst = t.data();
  const unsigned char* src = u + header;
  if (type->code == 0x08) {
    for (uint64_t i = 0; i < numel; ++i) dst[i] = static_cast<float>(src[i]);
  } else {
    for (uint64_t i = 0; i < numel; ++i) dst[i] = decode(src + i * static_cast<uint64_t>(type->bytes), type->code);
  }
  return t;
}

}  // namespace plexus::detail
