// read_npy / write_npy: round trips, hand-written files of every dtype and
// format version, and every malformed-file error.
#include "support/test_support.hpp"

#include <plexus/error.hpp>
#include <plexus/npy.hpp>

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <vector>

namespace plexus {
namespace {

using test::expect_error;

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void write_all(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

/// A .npy file as NumPy would write it: magic, version, header length, the
/// dict padded with spaces to a 64-byte boundary and '\n', then `data`.
std::string make_npy(const std::string& dict, const std::string& data, int major = 1) {
  const size_t prefix = major == 1 ? 10 : 12;
  const size_t total = (prefix + dict.size() + 1 + 63) / 64 * 64;
  const size_t len = total - prefix;
  std::string s = "\x93NUMPY";
  s += static_cast<char>(major);
  s += '\0';
  for (size_t i = 0; i < prefix - 8; ++i) s += static_cast<char>((len >> (8 * i)) & 0xFF);
  s += dict;
  s.append(total - s.size() - 1, ' ');
  s += '\n';
  return s + data;
}

template <typename T>
std::string raw_bytes(const std::vector<T>& v) {
  return std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T));
}

std::string dict(const std::string& descr, const std::string& shape, bool fortran = false) {
  return "{'descr': '" + descr + "', 'fortran_order': " + (fortran ? "True" : "False") + ", 'shape': " + shape + ", }";
}

TEST(Npy, RoundTripIsBitExact) {
  const std::string dir = test::temp_dir();
  const std::vector<Shape> shapes = {{3, 4}, {5}, {}, {2, 3, 4}, {0, 7}, {1, 1, 1, 1, 1, 1, 1, 2}};
  int k = 0;
  for (const Shape& shape : shapes) {
    Tensor t = Tensor::empty(shape);
    for (int64_t i = 0; i < t.numel(); ++i) t.data()[i] = std::sin(static_cast<float>(i) * 1.7f) * 1e3f - 0.1f * i;
    if (t.numel() > 2) {
      t.data()[0] = -0.0f;
      t.data()[1] = std::numeric_limits<float>::denorm_min();
      t.data()[2] = std::numeric_limits<float>::infinity();
    }
    const std::string path = dir + "/t" + std::to_string(k++) + ".npy";
    write_npy(path, t);
    Tensor r = read_npy(path);
    ASSERT_EQ(r.shape(), shape);
    EXPECT_EQ(std::memcmp(r.data(), t.data(), static_cast<size_t>(t.numel()) * 4), 0) << shape.str();
  }
  // Nothing but the files themselves is left behind.
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir), std::filesystem::directory_iterator()),
            static_cast<std::ptrdiff_t>(shapes.size()));
}

TEST(Npy, WrittenHeaderIsNumpyCompatible) {
  const std::string path = test::temp_dir() + "/a.npy";
  write_npy(path, Tensor::from({2, 3}, std::vector<float>{1, 2, 3, 4, 5, 6}));
  const std::string b = read_all(path);
  ASSERT_GE(b.size(), 10u);
  EXPECT_EQ(b.substr(0, 8), std::string("\x93NUMPY\x01\x00", 8));
  const size_t header_len = static_cast<unsigned char>(b[8]) | (static_cast<unsigned char>(b[9]) << 8);
  EXPECT_EQ((10 + header_len) % 64, 0u);
  EXPECT_EQ(b[10 + header_len - 1], '\n');
  EXPECT_NE(b.find("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }"), std::string::npos);
  EXPECT_EQ(b.size(), 10 + header_len + 6 * 4);
  float v[6];
  std::memcpy(v, b.data() + 10 + header_len, sizeof v);
  EXPECT_EQ(v[5], 6.0f);

  write_npy(path, Tensor::from({3}, std::vector<float>{1, 2, 3}));  // overwrites in place
  EXPECT_NE(read_all(path).find("'shape': (3,)"), std::string::npos);
  write_npy(path, Tensor::full({}, 7.0f));
  EXPECT_NE(read_all(path).find("'shape': ()"), std::string::npos);
}

TEST(Npy, ReadsEveryDtype) {
  const std::string dir = test::temp_dir();
  struct Case {
    std::string descr;
    std::string data;
    std::vector<float> expect;
  };
  const std::vector<Case> cases = {
      {"<f8", raw_bytes(std::vector<double>{1.5, -2.25, 1e10, 0.1}), {1.5f, -2.25f, 1e10f, 0.1f}},
      {"|u1", raw_bytes(std::vector<uint8_t>{0, 1, 128, 255}), {0, 1, 128, 255}},
      {"|i1", raw_bytes(std::vector<int8_t>{-128, -1, 0, 127}), {-128, -1, 0, 127}},
      {"<i2", raw_bytes(std::vector<int16_t>{-32768, -2, 3, 32767}), {-32768, -2, 3, 32767}},
      {"<u2", raw_bytes(std::vector<uint16_t>{0, 2, 3, 65535}), {0, 2, 3, 65535}},
      {"<i4", raw_bytes(std::vector<int32_t>{-100000, -1, 7, 2147483647}), {-100000, -1, 7, 2147483648.0f}},
      {"<u4", raw_bytes(std::vector<uint32_t>{0, 1, 4000000000u, 5}), {0, 1, 4e9f, 5}},
      {"<i8", raw_bytes(std::vector<int64_t>{-5, 0, int64_t{1} << 40, 9}), {-5, 0, 1099511627776.0f, 9}},
      {"<u8", raw_bytes(std::vector<uint64_t>{0, 3, uint64_t{1} << 63, 9}), {0, 3, 9223372036854775808.0f, 9}},
      {"|b1", raw_bytes(std::vector<uint8_t>{0, 1, 1, 0}), {0, 1, 1, 0}},
      {"<f4", raw_bytes(std::vector<float>{0.5f, -1, 2, 3}), {0.5f, -1, 2, 3}},
  };
  for (const Case& c : cases) {
    const std::string path = dir + "/x.npy";
    write_all(path, make_npy(dict(c.descr, "(2, 2)"), c.data));
    Tensor t = read_npy(path);
    ASSERT_EQ(t.shape(), Shape({2, 2})) << c.descr;
    for (size_t i = 0; i < 4; ++i) EXPECT_EQ(t.data()[i], c.expect[i]) << c.descr << " element " << i;
  }
}

TEST(Npy, ReadsFormatVersions2And3AndLooseHeaders) {
  const std::string dir = test::temp_dir();
  const std::string data = raw_bytes(std::vector<int64_t>{1, 2, 3});
  for (int major : {2, 3}) {
    write_all(dir + "/v.npy", make_npy(dict("<i8", "(3,)"), data, major));
    Tensor t = read_npy(dir + "/v.npy");
    ASSERT_EQ(t.shape(), Shape({3}));
    EXPECT_EQ(t.data()[2], 3.0f);
  }
  // Key order, double quotes, no trailing comma, Python 2 longs.
  write_all(dir + "/l.npy", make_npy("{\"shape\": (1L,3L), \"fortran_order\": False, \"descr\": \"<i8\"}", data));
  EXPECT_EQ(read_npy(dir + "/l.npy").shape(), Shape({1, 3}));
}

TEST(Npy, Errors) {
  const std::string dir = test::temp_dir();
  const std::string f4 = raw_bytes(std::vector<float>{1, 2, 3, 4, 5, 6});
  auto bad = [&](const std::string& name, const std::string& bytes, std::vector<std::string> parts) {
    const std::string path = dir + "/" + name;
    write_all(path, bytes);
    SCOPED_TRACE(name);
    parts.push_back(path);
    expect_error([&] { read_npy(path); }, ErrorCode::kFormat, parts);
  };
  bad("big.npy", make_npy(dict(">f4", "(2, 3)"), f4), {"big-endian", ">f4"});
  bad("fortran.npy", make_npy(dict("<f4", "(2, 3)", true), f4), {"Fortran order"});
  bad("magic.npy", "PK\x03\x04 this is a zip file, not npy", {"not a .npy file"});
  bad("short.npy", make_npy(dict("<f4", "(2, 3)"), f4.substr(0, 20)), {"truncated", "24 data bytes", "found 20"});
  bad("long.npy", make_npy(dict("<f4", "(2, 3)"), f4 + "xxxx"), {"24 data bytes", "found 28"});
  bad("huge.npy", make_npy(dict("<f4", "(4294967296, 4294967296, 4294967296)"), f4), {"truncated", "more data bytes"});
  bad("complex.npy", make_npy(dict("<c8", "(3,)"), f4), {"unsupported dtype '<c8'", "<f4, <f8"});
  bad("object.npy", make_npy(dict("|O", "(3,)"), f4), {"unsupported dtype '|O'"});
  bad("version.npy", std::string("\x93NUMPY\x04\x00\x10\x00", 10) + "{}", {"version 4.0"});
  bad("header.npy", make_npy("{'descr': '<f4', 'shape': (2, 3), }", f4), {"missing key 'fortran_order'"});
  bad("key.npy", make_npy("{'descr': '<f4', 'fortran_order': False, 'shape': (6,), 'x': 1}", f4), {"unknown key 'x'"});
  bad("syntax.npy", make_npy("{'descr': '<f4', 'fortran_order': Maybe, 'shape': (6,)}", f4), {"True or False"});
  bad("cut.npy", std::string("\x93NUMPY\x01\x00\x76\x00{'descr'", 18), {"truncated", "header"});
  bad("rank9.npy", make_npy(dict("<f4", "(1, 1, 1, 1, 1, 1, 1, 1, 6)"), f4), {"9 dimensions"});

  expect_error([&] { read_npy(dir + "/missing.npy"); }, ErrorCode::kIo, {dir + "/missing.npy", "cannot open"});
  expect_error([&] { write_npy(dir + "/no/such/dir/a.npy", Tensor::zeros({2})); }, ErrorCode::kIo,
               {dir + "/no/such/dir/a.npy"});
  expect_error([&] { write_npy(dir + "/u.npy", Tensor()); }, ErrorCode::kInvalid, {"undefined"});
}

}  // namespace
}  // namespace plexus
