// Checkpoints: the model definition, every parameter, optimizer state, step
// count and RNG state, in one file: a fixed preamble, a protobuf
// CheckpointHeader, and raw little-endian f32 tensor bytes at recorded,
// 64-byte aligned offsets (docs/checkpoint-format.md). Tensor bytes never go
// through protobuf, so no message nears its 2 GiB limit.
//
//   plexus::Checkpoint ck;  ck.model = def;  ck.tensors.push_back({"fc1.weights", ...});
//   plexus::save_checkpoint("run.ckpt", ck);      // temp file, fsync, rename
//   plexus::Checkpoint back = plexus::load_checkpoint("run.ckpt");
//
// Loading checks every offset, size, shape and CRC against the file before it
// reads a byte of tensor data, and never runs code from the file.
#ifndef PLEXUS_CHECKPOINT_HPP
#define PLEXUS_CHECKPOINT_HPP

#include <plexus/kernel.hpp>
#include <plexus/tensor.hpp>

#include "plexus.pb.h"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace plexus {

struct CheckpointTensor {
  std::string name;   // parameter name, or "<param>/<optimizer>/<slot>" for state
  proto::TensorRole role = proto::TENSOR_ROLE_PARAM;
  std::string param;  // for optimizer state: the parameter it belongs to
  Tensor data;
};

struct Checkpoint {
  proto::ModelDef model;
  std::vector<CheckpointTensor> tensors;
  int64_t step = 0;
  int64_t epoch = 0;
  std::string optimizer;
  uint32_t optimizer_version = 0;
  AttrMap optimizer_hparams;
  std::string rng_state;

  const CheckpointTensor* find(const std::string& name) const;
};

void save_checkpoint(const std::string& path, const Checkpoint& ck);
Checkpoint load_checkpoint(const std::string& path);

/// Writes every tensor as DIR/<file name>.npy, where the file name is the
/// tensor name with '/' replaced by "__" (so "fc1.weights/sgd/m" becomes
/// "fc1.weights__sgd__m.npy"). Creates DIR.
void export_checkpoint_npy(const Checkpoint& ck, const std::string& dir);

/// Builds a checkpoint from DIR/<param>.npy for each expected parameter,
/// checking names and shapes; extra .npy files are an error naming them.
Checkpoint import_checkpoint_npy(const proto::ModelDef& model,
                                 const std::vector<std::pair<std::string, Shape>>& params,
                                 const std::string& dir);

}  // namespace plexus

#endif
