// save_checkpoint / load_checkpoint: bit-exact round trips, refusal of every
// kind of damaged or hand-crafted file with a message naming what is wrong,
// and atomic saves. The .npy export/import is in checkpoint_npy_test.cpp.
#include "support/test_support.hpp"

#include <plexus/checkpoint.hpp>
#include <plexus/error.hpp>

#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>
#include <sstream>
#include <vector>

namespace plexus {
namespace {

using test::expect_error;
using test::random_tensor;

namespace fs = std::filesystem;

constexpr size_t kPreamble = 32;

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void write_all(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

Tensor from_bits(const Shape& shape, const std::vector<uint32_t>& bits) {
  Tensor t = Tensor::empty(shape);
  EXPECT_EQ(static_cast<size_t>(t.numel()), bits.size());
  std::memcpy(t.data(), bits.data(), bits.size() * sizeof(uint32_t));
  return t;
}

proto::ModelDef sample_model() {
  proto::ModelDef m;
  m.set_format_version(1);
  m.set_name("mlp");
  proto::InputDef* in = m.add_inputs();
  in->set_name("x");
  in->add_shape(4);
  in->set_source("features");
  proto::NodeDef* n = m.add_nodes();
  n->set_name("fc1");
  n->set_kernel("linear");
  n->add_inputs("x");
  (*n->mutable_attrs())["out_features"].set_i(3);
  m.set_output("fc1");
  return m;
}

/// A checkpoint exercising every field: special float values, a scalar, an
/// empty tensor, a tensor of a few MB, optimizer state and RNG bytes.
Checkpoint sample_checkpoint() {
  Checkpoint ck;
  ck.model = sample_model();
  ck.step = 1234567890123;
  ck.epoch = 17;
  ck.optimizer = "adam";
  ck.optimizer_version = 3;
  ck.optimizer_hparams = {{"lr", AttrValue(0.001)},
                          {"beta1", AttrValue(0.9)},
                          {"warmup", AttrValue(int64_t{-42})},
                          {"amsgrad", AttrValue(true)},
                          {"nesterov", AttrValue(false)},
                          {"schedule", AttrValue(std::string("cosine"))}};
  static const char kRng[] = "\x00\x01\xff\xfe mt19937 state\n";
  ck.rng_state = std::string(kRng, sizeof kRng - 1);
  ck.tensors.push_back({"fc1.weights", proto::TENSOR_ROLE_PARAM, "", random_tensor({3, 4}, 1)});
  ck.tensors.push_back({"fc1.bias", proto::TENSOR_ROLE_PARAM, "",
                        from_bits({10}, {0x80000000u,   // -0.0
                                         0x00000001u,   // smallest denormal
                                         0x807fffffu,   // largest negative denormal
                                         0x7f800000u,   // +inf
                                         0xff800000u,   // -inf
                                         0x7fc00000u,   // quiet NaN
                                         0x7fc12345u,   // quiet NaN with payload
                                         0xffedcba9u,   // negative NaN with payload
                                         0x7f800001u,   // signalling NaN
                                         0x7f7fffffu})});  // largest finite
  ck.tensors.push_back({"temperature", proto::TENSOR_ROLE_PARAM, "", Tensor::full(Shape{}, 0.5f)});
  ck.tensors.push_back({"unused", proto::TENSOR_ROLE_PARAM, "", Tensor::zeros({0, 7})});
  ck.tensors.push_back({"big.weights", proto::TENSOR_ROLE_PARAM, "", random_tensor({1000, 1031}, 2)});  // ~4 MB
  ck.tensors.push_back({"fc1.weights/adam/m", proto::TENSOR_ROLE_OPTIMIZER_STATE, "fc1.weights", random_tensor({3, 4}, 3)});
  ck.tensors.push_back({"fc1.weights/adam/v", proto::TENSOR_ROLE_OPTIMIZER_STATE, "fc1.weights", random_tensor({3, 4}, 4)});
  return ck;
}

void expect_same(const Checkpoint& a, const Checkpoint& b) {
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(a.model, b.model))
      << a.model.DebugString() << "\nvs\n" << b.model.DebugString();
  EXPECT_EQ(a.step, b.step);
  EXPECT_EQ(a.epoch, b.epoch);
  EXPECT_EQ(a.optimizer, b.optimizer);
  EXPECT_EQ(a.optimizer_version, b.optimizer_version);
  EXPECT_EQ(a.rng_state, b.rng_state);
  ASSERT_EQ(a.optimizer_hparams.size(), b.optimizer_hparams.size());
  for (const auto& [name, v] : a.optimizer_hparams) {
    auto it = b.optimizer_hparams.find(name);
    ASSERT_NE(it, b.optimizer_hparams.end()) << name;
    EXPECT_EQ(v.type_name(), it->second.type_name()) << name;
    EXPECT_TRUE(v.get() == it->second.get()) << name << ": " << v.str() << " vs " << it->second.str();
  }
  ASSERT_EQ(a.tensors.size(), b.tensors.size());
  for (size_t i = 0; i < a.tensors.size(); ++i) {
    const CheckpointTensor& x = a.tensors[i];
    const CheckpointTensor& y = b.tensors[i];
    EXPECT_EQ(x.name, y.name);
    EXPECT_EQ(x.role, y.role) << x.name;
    EXPECT_EQ(x.param, y.param) << x.name;
    ASSERT_EQ(x.data.shape(), y.data.shape()) << x.name << ": " << x.data.shape().str() << " vs " << y.data.shape().str();
    EXPECT_EQ(std::memcmp(x.data.data(), y.data.data(), static_cast<size_t>(x.data.numel()) * 4), 0)
        << x.name << " differs bit-wise";
  }
}

uint32_t get_u32(const std::string& s, size_t at) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= uint32_t{static_cast<unsigned char>(s[at + static_cast<size_t>(i)])} << (8 * i);
  return v;
}
uint64_t get_u64(const std::string& s, size_t at) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= uint64_t{static_cast<unsigned char>(s[at + static_cast<size_t>(i)])} << (8 * i);
  return v;
}
void put_u32(std::string& s, uint32_t v) {
  for (int i = 0; i < 4; ++i) s += static_cast<char>((v >> (8 * i)) & 0xFF);
}
void put_u64(std::string& s, uint64_t v) {
  for (int i = 0; i < 8; ++i) s += static_cast<char>((v >> (8 * i)) & 0xFF);
}
/// CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320), written out here
/// as an independent check of the library's zlib-computed values.
uint32_t crc_of(const std::string& s) {
  uint32_t crc = 0xFFFFFFFFu;
  for (char c : s) {
    crc ^= static_cast<unsigned char>(c);
    for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
  }
  return ~crc;
}

/// A checkpoint file written by hand: a correct preamble (magic, version,
/// header length and CRC) around `header_bytes`, padding, then `data`.
std::string craft_file(const std::string& header_bytes, const std::string& data, uint32_t version = 1) {
  std::string f("PLXCKPT\0", 8);
  put_u32(f, version);
  put_u32(f, 0);
  put_u64(f, header_bytes.size());
  put_u32(f, crc_of(header_bytes));
  put_u32(f, 0);
  f += header_bytes;
  f.append((64 - f.size() % 64) % 64, '\0');
  return f + data;
}

proto::TensorRecord* add_record(proto::CheckpointHeader& h, const std::string& name, std::vector<int64_t> shape,
                                uint64_t offset, const std::string& bytes) {
  proto::TensorRecord* r = h.add_tensors();
  r->set_name(name);
  r->set_role(proto::TENSOR_ROLE_PARAM);
  for (int64_t d : shape) r->add_shape(d);
  r->set_offset(offset);
  r->set_nbytes(bytes.size());
  r->set_crc32(crc_of(bytes));
  return r;
}

proto::CheckpointHeader base_header() {
  proto::CheckpointHeader h;
  h.set_format_version(1);
  *h.mutable_model() = sample_model();
  return h;
}

std::string floats(std::initializer_list<float> v) {
  return std::string(reinterpret_cast<const char*>(std::data(v)), v.size() * sizeof(float));
}

std::vector<std::string> temp_files(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().filename().string().find(".tmp.") != std::string::npos) out.push_back(e.path().string());
  return out;
}

// ---- round trips ----------------------------------------------------------

TEST(Checkpoint, RoundTripIsBitExact) {
  const std::string path = test::temp_dir() + "/run.ckpt";
  const Checkpoint ck = sample_checkpoint();
  save_checkpoint(path, ck);
  expect_same(ck, load_checkpoint(path));
  EXPECT_TRUE(temp_files(fs::path(path).parent_path().string()).empty());
}

TEST(Checkpoint, FileLayoutMatchesTheDocumentation) {
  const std::string path = test::temp_dir() + "/run.ckpt";
  const Checkpoint ck = sample_checkpoint();
  save_checkpoint(path, ck);
  const std::string f = read_all(path);
  ASSERT_GE(f.size(), kPreamble);
  EXPECT_EQ(f.substr(0, 8), std::string("PLXCKPT\0", 8));
  EXPECT_EQ(get_u32(f, 8), 1u);   // format version
  EXPECT_EQ(get_u32(f, 12), 0u);  // flags
  const uint64_t h = get_u64(f, 16);
  EXPECT_EQ(get_u32(f, 24), crc_of(f.substr(kPreamble, h)));
  EXPECT_EQ(get_u32(f, 28), 0u);  // reserved
  proto::CheckpointHeader header;
  ASSERT_TRUE(header.ParseFromString(f.substr(kPreamble, h)));
  EXPECT_EQ(header.format_version(), 1u);
  const uint64_t data_start = (kPreamble + h + 63) / 64 * 64;
  for (uint64_t i = kPreamble + h; i < data_start; ++i) EXPECT_EQ(f[i], '\0') << "padding byte " << i;
  ASSERT_EQ(header.tensors_size(), static_cast<int>(ck.tensors.size()));
  uint64_t end = 0;
  for (int i = 0; i < header.tensors_size(); ++i) {
    const proto::TensorRecord& r = header.tensors(i);
    const Tensor& t = ck.tensors[static_cast<size_t>(i)].data;
    EXPECT_EQ(r.name(), ck.tensors[static_cast<size_t>(i)].name);
    EXPECT_EQ(r.offset() % 64, 0u) << r.name();
    EXPECT_GE(r.offset(), end) << r.name() << " overlaps the previous tensor";
    EXPECT_EQ(r.nbytes(), static_cast<uint64_t>(t.numel()) * 4) << r.name();
    ASSERT_LE(data_start + r.offset() + r.nbytes(), f.size());
    EXPECT_EQ(std::memcmp(f.data() + data_start + r.offset(), t.data(), r.nbytes()), 0) << r.name();
    EXPECT_EQ(r.crc32(), crc_of(f.substr(data_start + r.offset(), r.nbytes()))) << r.name();
    end = r.offset() + r.nbytes();
  }
  EXPECT_EQ(header.tensors(0).offset(), 0u);
  EXPECT_EQ(header.tensors(5).role(), proto::TENSOR_ROLE_OPTIMIZER_STATE);
  EXPECT_EQ(header.tensors(5).param(), "fc1.weights");
  EXPECT_EQ(header.optimizer_hparams().at("warmup").i(), -42);
  EXPECT_EQ(header.optimizer_hparams().at("schedule").s(), "cosine");
  EXPECT_TRUE(header.optimizer_hparams().at("amsgrad").b());
  EXPECT_EQ(header.optimizer_hparams().at("lr").f(), 0.001);
}

TEST(Checkpoint, SavingTheSameCheckpointTwiceGivesTheSameBytes) {
  const std::string dir = test::temp_dir();
  const Checkpoint ck = sample_checkpoint();
  save_checkpoint(dir + "/a.ckpt", ck);
  save_checkpoint(dir + "/b.ckpt", ck);
  EXPECT_EQ(read_all(dir + "/a.ckpt"), read_all(dir + "/b.ckpt"));
}

TEST(Checkpoint, EmptyCheckpointRoundTrips) {
  const std::string path = test::temp_dir() + "/empty.ckpt";
  Checkpoint ck;
  save_checkpoint(path, ck);
  Checkpoint back = load_checkpoint(path);
  expect_same(ck, back);
  EXPECT_EQ(read_all(path).size() % 64, 0u);
}

TEST(Checkpoint, SaveOverwritesAnExistingCheckpoint) {
  const std::string path = test::temp_dir() + "/run.ckpt";
  save_checkpoint(path, sample_checkpoint());
  Checkpoint small;
  small.step = 5;
  small.tensors.push_back({"w", proto::TENSOR_ROLE_PARAM, "", Tensor::full({2}, 1.5f)});
  save_checkpoint(path, small);
  expect_same(small, load_checkpoint(path));
}

TEST(Checkpoint, FindByName) {
  const Checkpoint ck = sample_checkpoint();
  const CheckpointTensor* t = ck.find("fc1.weights/adam/v");
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->param, "fc1.weights");
  EXPECT_EQ(ck.find("fc2.weights"), nullptr);
}

// ---- refusing bad files -------------------------------------------------------

struct Saved {
  std::string path;
  std::string bytes;
  uint64_t header_len;
  uint64_t data_start;
  proto::CheckpointHeader header;
};

Saved saved_sample() {
  Saved s;
  s.path = test::temp_dir() + "/run.ckpt";
  save_checkpoint(s.path, sample_checkpoint());
  s.bytes = read_all(s.path);
  s.header_len = get_u64(s.bytes, 16);
  s.data_start = (kPreamble + s.header_len + 63) / 64 * 64;
  EXPECT_TRUE(s.header.ParseFromString(s.bytes.substr(kPreamble, s.header_len)));
  return s;
}

TEST(Checkpoint, TruncatedFilesAreRefused) {
  const Saved s = saved_sample();
  const std::string cut = s.path + ".cut";
  struct Case {
    size_t size;
    std::vector<std::string> parts;
  };
  const std::vector<Case> cases = {
      {0, {"run.ckpt.cut", "empty"}},
      {5, {"run.ckpt.cut", "truncated", "preamble"}},
      {20, {"run.ckpt.cut", "truncated", "has 20 bytes", "preamble alone needs 32"}},
      {kPreamble, {"run.ckpt.cut", "truncated", "header needs bytes [32, "}},
      {kPreamble + s.header_len / 2, {"run.ckpt.cut", "truncated", "header needs bytes"}},
      // The header is whole but the file stops before the last tensor's data.
      {s.data_start + 100, {"run.ckpt.cut", "tensor 'fc1.bias'", "needs bytes [64, 104)", "data section has 100 bytes"}},
      {s.bytes.size() - 1, {"run.ckpt.cut", "tensor 'fc1.weights/adam/v'", "needs bytes"}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE("cut at " + std::to_string(c.size) + " of " + std::to_string(s.bytes.size()));
    write_all(cut, s.bytes.substr(0, c.size));
    expect_error([&] { load_checkpoint(cut); }, ErrorCode::kFormat, c.parts);
  }
}

TEST(Checkpoint, FlippedHeaderByteFailsTheHeaderCrc) {
  const Saved s = saved_sample();
  for (uint64_t at : {kPreamble, kPreamble + s.header_len / 2, kPreamble + s.header_len - 1}) {
    std::string bad = s.bytes;
    bad[at] = static_cast<char>(bad[at] ^ 0x10);
    write_all(s.path, bad);
    expect_error([&] { load_checkpoint(s.path); }, ErrorCode::kFormat, {"run.ckpt", "corrupt", "header's CRC-32"});
  }
}

TEST(Checkpoint, FlippedDataByteFailsThatTensorsCrc) {
  const Saved s = saved_sample();
  for (int i : {0, 1, 4, 6}) {
    const proto::TensorRecord& r = s.header.tensors(i);
    std::string bad = s.bytes;
    const uint64_t at = s.data_start + r.offset() + r.nbytes() / 2;
    bad[at] = static_cast<char>(bad[at] ^ 0x01);
    write_all(s.path, bad);
    expect_error([&] { load_checkpoint(s.path); }, ErrorCode::kFormat,
                 {"run.ckpt", "corrupt", "tensor '" + r.name() + "'", "CRC-32"});
  }
}

TEST(Checkpoint, WrongMagicIsRefused) {
  const Saved s = saved_sample();
  std::string bad = s.bytes;
  bad[3] = 'X';
  write_all(s.path, bad);
  expect_error([&] { load_checkpoint(s.path); }, ErrorCode::kFormat, {"run.ckpt", "not a Plexus checkpoint", "PLXCKPT"});
  write_all(s.path, "this is not a checkpoint");
  expect_error([&] { load_checkpoint(s.path); }, ErrorCode::kFormat, {"run.ckpt", "not a Plexus checkpoint"});
}

TEST(Checkpoint, NewerFormatVersionIsRefused) {
  const Saved s = saved_sample();
  std::string bad = s.bytes;
  bad[8] = 2;
  write_all(s.path, bad);
  expect_error([&] { load_checkpoint(s.path); }, ErrorCode::kFormat, {"run.ckpt", "format version 2", "newer"});
  bad[8] = 0;
  write_all(s.path, bad);
  expect_error([&] { load_checkpoint(s.path); }, ErrorCode::kFormat, {"run.ckpt", "format version 0"});
}

TEST(Checkpoint, UnknownFlagsAreRefused) {
  const Saved s = saved_sample();
  std::string bad = s.bytes;
  bad[12] = 1;
  write_all(s.path, bad);
  expect_error([&] { load_checkpoint(s.path); }, ErrorCode::kFormat, {"run.ckpt", "flags"});
}

TEST(Checkpoint, HeaderLengthBeyondTheFileIsRefused) {
  const Saved s = saved_sample();
  std::string bad = s.bytes;
  for (int i = 0; i < 8; ++i) bad[16 + static_cast<size_t>(i)] = '\xff';
  write_all(s.path, bad);
  expect_error([&] { load_checkpoint(s.path); }, ErrorCode::kFormat, {"run.ckpt", "truncated", "header needs bytes"});
}

TEST(Checkpoint, HeaderThatIsNotAProtobufMessageIsRefused) {
  const std::string path = test::temp_dir() + "/junk.ckpt";
  write_all(path, craft_file(std::string("\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 11), ""));
  expect_error([&] { load_checkpoint(path); }, ErrorCode::kFormat, {"junk.ckpt", "not a valid CheckpointHeader"});
}

TEST(Checkpoint, HeaderFormatVersionMustMatch) {
  const std::string path = test::temp_dir() + "/v.ckpt";
  proto::CheckpointHeader h = base_header();
  h.set_format_version(7);
  write_all(path, craft_file(h.SerializeAsString(), ""));
  expect_error([&] { load_checkpoint(path); }, ErrorCode::kFormat, {"v.ckpt", "format_version is 7"});
}

/// Hand-written headers with one bad record each; every one must be refused
/// with a message naming the file and the record.
TEST(Checkpoint, BadRecordsAreRefusedBeforeAnyDataIsRead) {
  const std::string path = test::temp_dir() + "/crafted.ckpt";
  const std::string a = floats({1, 2, 3, 4});
  std::string data = a;
  data.resize(64, '\0');
  data += floats({5, 6});  // "b" at offset 64, 8 bytes; the data section has 72 bytes

  struct Case {
    const char* what;
    void (*edit)(proto::CheckpointHeader&);
    std::vector<std::string> parts;
  };
  const std::vector<Case> cases = {
      {"offset past the end", [](proto::CheckpointHeader& h) { h.mutable_tensors(1)->set_offset(128); },
       {"tensor 'b'", "needs bytes [128, 136)", "data section has 72 bytes"}},
      {"offset + nbytes overflows", [](proto::CheckpointHeader& h) { h.mutable_tensors(1)->set_offset(UINT64_MAX - 63); },
       {"tensor 'b'", "needs bytes", "data section has 72 bytes"}},
      {"nbytes disagrees with the shape", [](proto::CheckpointHeader& h) { h.mutable_tensors(0)->set_nbytes(12); },
       {"tensor 'a'", "shape [2, 2]", "16 bytes", "nbytes 12"}},
      {"shape disagrees with nbytes", [](proto::CheckpointHeader& h) { h.mutable_tensors(1)->set_shape(0, 3); },
       {"tensor 'b'", "shape [3]", "nbytes 8"}},
      {"unaligned offset", [](proto::CheckpointHeader& h) { h.mutable_tensors(1)->set_offset(60); },
       {"tensor 'b'", "offset 60", "multiple of 64"}},
      {"negative dimension", [](proto::CheckpointHeader& h) { h.mutable_tensors(0)->set_shape(1, -2); },
       {"tensor 'a'", "negative dimension -2"}},
      {"shape product overflows",
       [](proto::CheckpointHeader& h) {
         h.mutable_tensors(0)->set_shape(0, int64_t{1} << 40);
         h.mutable_tensors(0)->set_shape(1, int64_t{1} << 40);
       },
       {"tensor 'a'", "overflows"}},
      {"too many dimensions",
       [](proto::CheckpointHeader& h) {
         for (int i = 0; i < 8; ++i) h.mutable_tensors(0)->add_shape(1);
       },
       {"tensor 'a'", "10 dimensions"}},
      {"duplicate name", [](proto::CheckpointHeader& h) { h.mutable_tensors(1)->set_name("a"); },
       {"tensor 'a'", "twice"}},
      {"empty name", [](proto::CheckpointHeader& h) { h.mutable_tensors(1)->set_name(""); },
       {"tensor #1", "empty name"}},
      {"unknown role", [](proto::CheckpointHeader& h) { h.mutable_tensors(1)->set_role(proto::TENSOR_ROLE_UNSPECIFIED); },
       {"tensor 'b'", "role 0"}},
      // Record 0's data is corrupt, but record 1 is out of range: the range
      // error proves every record is checked before any data is read.
      {"all records before data",
       [](proto::CheckpointHeader& h) {
         h.mutable_tensors(0)->set_crc32(h.tensors(0).crc32() ^ 1);
         h.mutable_tensors(1)->set_offset(1 << 20);
       },
       {"tensor 'b'", "needs bytes [1048576, 1048584)"}},
      {"hparam without a value", [](proto::CheckpointHeader& h) { (*h.mutable_optimizer_hparams())["lr"]; },
       {"optimizer_hparams['lr']", "no value"}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    proto::CheckpointHeader h = base_header();
    add_record(h, "a", {2, 2}, 0, a);
    add_record(h, "b", {2}, 64, floats({5, 6}));
    // The unedited file loads.
    write_all(path, craft_file(h.SerializeAsString(), data));
    ASSERT_NO_THROW(load_checkpoint(path));
    c.edit(h);
    write_all(path, craft_file(h.SerializeAsString(), data));
    std::vector<std::string> parts = c.parts;
    parts.push_back("checkpoint '" + path + "'");
    expect_error([&] { load_checkpoint(path); }, ErrorCode::kFormat, parts);
  }
}

TEST(Checkpoint, MissingFileIsAnIoError) {
  const std::string path = test::temp_dir() + "/nope.ckpt";
  expect_error([&] { load_checkpoint(path); }, ErrorCode::kIo, {"nope.ckpt", "No such file"});
  expect_error([&] { load_checkpoint(test::temp_dir()); }, ErrorCode::kIo, {"not a regular file"});
}

// ---- atomic saves ---------------------------------------------------------------

TEST(Checkpoint, FailedSaveLeavesThePreviousCheckpointAndNoTempFile) {
  const std::string dir = test::temp_dir();
  const std::string path = dir + "/run.ckpt";
  save_checkpoint(path, sample_checkpoint());
  const std::string before = read_all(path);

  // The parent of the target is a regular file: nothing can be created.
  write_all(dir + "/plain", "x");
  expect_error([&] { save_checkpoint(dir + "/plain/run.ckpt", sample_checkpoint()); }, ErrorCode::kIo,
               {"cannot write checkpoint", "plain/run.ckpt"});
  // The target folder does not exist.
  expect_error([&] { save_checkpoint(dir + "/missing/run.ckpt", sample_checkpoint()); }, ErrorCode::kIo,
               {"missing/run.ckpt", "No such file"});
  // The temporary file is written completely, then the rename fails (the
  // target is a non-empty folder): the temporary must be gone.
  fs::create_directories(dir + "/taken.ckpt/inside");
  expect_error([&] { save_checkpoint(dir + "/taken.ckpt", sample_checkpoint()); }, ErrorCode::kIo,
               {"taken.ckpt", "rename"});
  // An invalid checkpoint is refused before any file is touched.
  Checkpoint dup = sample_checkpoint();
  dup.tensors.push_back(dup.tensors[0]);
  expect_error([&] { save_checkpoint(path, dup); }, ErrorCode::kInvalid, {"run.ckpt", "'fc1.weights'", "twice"});
  Checkpoint undefined;
  undefined.tensors.push_back({"w", proto::TENSOR_ROLE_PARAM, "", Tensor()});
  expect_error([&] { save_checkpoint(path, undefined); }, ErrorCode::kInvalid, {"run.ckpt", "'w'", "no data"});
  Checkpoint no_value;
  no_value.optimizer_hparams["lr"] = AttrValue();
  expect_error([&] { save_checkpoint(path, no_value); }, ErrorCode::kInvalid, {"run.ckpt", "'lr'", "no value"});

  EXPECT_EQ(read_all(path), before) << "the previous checkpoint must be intact";
  EXPECT_TRUE(temp_files(dir).empty()) << temp_files(dir).front();
  EXPECT_TRUE(fs::is_directory(dir + "/taken.ckpt/inside"));
  expect_same(sample_checkpoint(), load_checkpoint(path));
}

}  // namespace
}  // namespace plexus
