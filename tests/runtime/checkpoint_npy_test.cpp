// export_checkpoint_npy / import_checkpoint_npy: the file naming rule,
// bit-exact round trips through .npy files, and import errors that name the
// file, the expected and the found shape.
#include "support/test_support.hpp"

#include <plexus/checkpoint.hpp>
#include <plexus/error.hpp>
#include <plexus/npy.hpp>

#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <vector>

namespace plexus {
namespace {

using test::expect_error;
using test::same_bits;
using test::random_tensor;

namespace fs = std::filesystem;

proto::ModelDef sample_model() {
  proto::ModelDef m;
  m.set_format_version(1);
  m.set_name("mlp");
  proto::NodeDef* n = m.add_nodes();
  n->set_name("fc1");
  n->set_kernel("linear");
  (*n->mutable_attrs())["out_features"].set_i(3);
  return m;
}

/// Parameters of several shapes (a scalar and an empty one too), special
/// float values, and optimizer state whose names hold '/'.
Checkpoint sample_checkpoint() {
  Checkpoint ck;
  ck.model = sample_model();
  ck.step = 12;
  ck.optimizer = "adam";
  const uint32_t special[] = {0x80000000u, 0x00000001u, 0x7f800000u, 0xffc12345u};  // -0, denormal, inf, NaN payload
  Tensor bias = Tensor::empty({4});
  std::memcpy(bias.data(), special, sizeof special);
  ck.tensors.push_back({"fc1.weights", proto::TENSOR_ROLE_PARAM, "", random_tensor({3, 4}, 1)});
  ck.tensors.push_back({"fc1.bias", proto::TENSOR_ROLE_PARAM, "", bias});
  ck.tensors.push_back({"temperature", proto::TENSOR_ROLE_PARAM, "", Tensor::full(Shape{}, 0.5f)});
  ck.tensors.push_back({"unused", proto::TENSOR_ROLE_PARAM, "", Tensor::zeros({0, 7})});
  ck.tensors.push_back({"big.weights", proto::TENSOR_ROLE_PARAM, "", random_tensor({500, 1031}, 2)});
  ck.tensors.push_back({"fc1.weights/adam/m", proto::TENSOR_ROLE_OPTIMIZER_STATE, "fc1.weights", random_tensor({3, 4}, 3)});
  ck.tensors.push_back({"fc1.weights/adam/v", proto::TENSOR_ROLE_OPTIMIZER_STATE, "fc1.weights", random_tensor({3, 4}, 4)});
  return ck;
}

std::vector<std::pair<std::string, Shape>> param_shapes(const Checkpoint& ck) {
  std::vector<std::pair<std::string, Shape>> out;
  for (const CheckpointTensor& t : ck.tensors)
    if (t.role == proto::TENSOR_ROLE_PARAM) out.emplace_back(t.name, t.data.shape());
  return out;
}

TEST(CheckpointNpy, ExportWritesOneFilePerTensor) {
  const std::string dir = test::temp_dir() + "/out/npy";  // created, parents too
  const Checkpoint ck = sample_checkpoint();
  export_checkpoint_npy(ck, dir);
  size_t files = 0;
  for (const auto& e : fs::directory_iterator(dir)) files += e.path().extension() == ".npy";
  EXPECT_EQ(files, ck.tensors.size());
  for (const char* f : {"fc1.weights.npy", "fc1.bias.npy", "temperature.npy", "unused.npy", "big.weights.npy",
                        "fc1.weights__adam__m.npy", "fc1.weights__adam__v.npy"})
    EXPECT_TRUE(fs::exists(dir + "/" + f)) << f;
  for (const CheckpointTensor& t : ck.tensors) {
    std::string file = t.name;
    for (size_t p; (p = file.find('/')) != std::string::npos;) file.replace(p, 1, "__");
    Tensor back = read_npy(dir + "/" + file + ".npy");
    EXPECT_TRUE(same_bits(back, t.data)) << t.name;
  }
}

TEST(CheckpointNpy, ExportRefusesNamesThatCollide) {
  Checkpoint ck;
  ck.tensors.push_back({"a/b", proto::TENSOR_ROLE_PARAM, "", Tensor::zeros({1})});
  ck.tensors.push_back({"a__b", proto::TENSOR_ROLE_PARAM, "", Tensor::zeros({1})});
  const std::string dir = test::temp_dir() + "/npy";
  expect_error([&] { export_checkpoint_npy(ck, dir); }, ErrorCode::kInvalid, {"'a/b'", "'a__b'", "a__b.npy"});
  EXPECT_FALSE(fs::exists(dir)) << "nothing is written when a name is refused";
}

TEST(CheckpointNpy, ImportRoundTrip) {
  const std::string root = test::temp_dir();
  const Checkpoint ck = sample_checkpoint();
  export_checkpoint_npy(ck, root + "/all");
  // Only the parameters: optimizer state files are not parameters.
  fs::create_directories(root + "/params");
  const auto params = param_shapes(ck);
  for (const auto& [name, shape] : params)
    fs::copy_file(root + "/all/" + name + ".npy", root + "/params/" + name + ".npy");
  std::ofstream(root + "/params/README.txt") << "other files are ignored";

  const Checkpoint in = import_checkpoint_npy(sample_model(), params, root + "/params");
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(in.model, sample_model()));
  EXPECT_EQ(in.step, 0);
  EXPECT_EQ(in.epoch, 0);
  EXPECT_TRUE(in.optimizer.empty());
  ASSERT_EQ(in.tensors.size(), params.size());
  for (const CheckpointTensor& t : in.tensors) {
    EXPECT_EQ(t.role, proto::TENSOR_ROLE_PARAM) << t.name;
    const CheckpointTensor* orig = ck.find(t.name);
    ASSERT_NE(orig, nullptr) << t.name;
    EXPECT_TRUE(same_bits(t.data, orig->data)) << t.name;
  }
  // A full export (parameters and optimizer state) imports whole.
  const Checkpoint all = import_checkpoint_npy(sample_model(), params, root + "/all");
  ASSERT_EQ(all.tensors.size(), ck.tensors.size());
  EXPECT_EQ(all.optimizer, ck.optimizer);
  for (const CheckpointTensor& t : all.tensors) {
    const CheckpointTensor* orig = ck.find(t.name);
    ASSERT_NE(orig, nullptr) << t.name;
    EXPECT_EQ(t.role, orig->role) << t.name;
    EXPECT_EQ(t.param, orig->param) << t.name;
    EXPECT_TRUE(same_bits(t.data, orig->data)) << t.name;
  }
  // And the imported checkpoint saves and loads like any other.
  save_checkpoint(root + "/imported.ckpt", in);
  const Checkpoint back = load_checkpoint(root + "/imported.ckpt");
  ASSERT_EQ(back.tensors.size(), in.tensors.size());
  for (size_t i = 0; i < in.tensors.size(); ++i) EXPECT_TRUE(same_bits(back.tensors[i].data, in.tensors[i].data));
}

TEST(CheckpointNpy, ImportErrorsNameTheFile) {
  const std::string dir = test::temp_dir();
  const std::vector<std::pair<std::string, Shape>> params = {{"fc1.weights", Shape{3, 4}}, {"fc1.bias", Shape{3}}};
  write_npy(dir + "/fc1.weights.npy", Tensor::zeros({3, 4}));

  expect_error([&] { import_checkpoint_npy(sample_model(), params, dir); }, ErrorCode::kNotFound,
               {dir + "/fc1.bias.npy", "missing", "[3]"});

  write_npy(dir + "/fc1.bias.npy", Tensor::zeros({4}));
  expect_error([&] { import_checkpoint_npy(sample_model(), params, dir); }, ErrorCode::kFormat,
               {dir + "/fc1.bias.npy", "'fc1.bias'", "expected shape [3]", "found [4]"});

  write_npy(dir + "/fc1.bias.npy", Tensor::zeros({3}));
  write_npy(dir + "/fc2.weights.npy", Tensor::zeros({1}));
  write_npy(dir + "/fc2__sgd__m.npy", Tensor::zeros({1}));  // state of a parameter the model lacks
  expect_error([&] { import_checkpoint_npy(sample_model(), params, dir); }, ErrorCode::kFormat,
               {dir, "unexpected files", "fc2.weights.npy, fc2__sgd__m.npy", "fc1.bias.npy, fc1.weights.npy"});

  fs::remove(dir + "/fc2.weights.npy");
  fs::remove(dir + "/fc2__sgd__m.npy");
  EXPECT_NO_THROW(import_checkpoint_npy(sample_model(), params, dir));

  write_npy(dir + "/fc1.weights__adam__m.npy", Tensor::zeros({3, 4}));
  write_npy(dir + "/fc1.bias__sgd__m.npy", Tensor::zeros({3}));
  expect_error([&] { import_checkpoint_npy(sample_model(), params, dir); }, ErrorCode::kFormat,
               {"two optimizers", "'adam'", "'sgd'"});

  expect_error([&] { import_checkpoint_npy(sample_model(), params, dir + "/nowhere"); }, ErrorCode::kNotFound,
               {"nowhere", "not a folder"});
}

}  // namespace
}  // namespace plexus
