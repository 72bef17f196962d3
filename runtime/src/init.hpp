// Parameter initializers (runtime-internal).
#ifndef PLEXUS_RUNTIME_INIT_HPP
#define PLEXUS_RUNTIME_INIT_HPP

#include <plexus/tensor.hpp>

#include "plexus.pb.h"

#include <cstdint>
#include <string>

namespace plexus::detail {

/// A stable 64-bit seed from a base seed and a name (FNV-1a, then mixed).
uint64_t derive_seed(uint64_t base, const std::string& name);
/// The name's half of derive_seed: derive_seed(b, n) == mix_seed(b, name_hash(n)).
/// A caller deriving from one name many times hashes it once.
uint64_t name_hash(const std::string& name);
uint64_t mix_seed(uint64_t base, uint64_t name_hash);

/// Fills `t` per `init` (kind empty: `default_kind`, a PLX_INIT_* value).
/// fan_in / fan_out feed xavier and he. Deterministic for a given seed on
/// every platform (own uniform and Box-Muller; no std distributions).
void initialize(Tensor& t, const proto::Initializer& init, int32_t default_kind, double default_value,
                int64_t fan_in, int64_t fan_out, uint64_t seed, const std::string& where);

}  // namespace plexus::detail

#endif
