#include "init.hpp"

#include <plexus/abi/plugin.h>
#include <plexus/error.hpp>

#include <cmath>
#include <random>

namespace plexus::detail {

uint64_t name_hash(const std::string& name) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : name) h = (h ^ c) * 1099511628211ull;
  return h;
}

uint64_t derive_seed(uint64_t base, const std::string& name) { return mix_seed(base, name_hash(name)); }

uint64_t mix_seed(uint64_t base, uint64_t h) {
  h ^= base + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
  // splitmix64 finalizer
  h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9ull;
  h = (h ^ (h >> 27)) * 0x94d049bb133111ebull;
  return h ^ (h >> 31);
}

namespace {

double uniform01(std::mt19937_64& g) { return static_cast<double>(g() >> 11) * 0x1.0p-53; }

double normal01(std::mt19937_64& g) {
  double u1 = uniform01(g);
  while (u1 <= 0.0) u1 = uniform01(g);
  const double u2 = uniform01(g);
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * M_PI * u2);
}

int32_t kind_of(const std::string& name, const std::string& where) {
  if (name == "zeros") return PLX_INIT_ZEROS;
  if (name == "constant") return PLX_INIT_CONSTANT;
  if (name == "uniform") return PLX_INIT_UNIFORM;
  if (name == "normal") return PLX_INIT_NORMAL;
  if (name == "xavier" || name == "glorot") return PLX_INIT_XAVIER_UNIFORM;
  if (name == "he" || name == "kaiming") return PLX_INIT_HE_NORMAL;
  throw Error(ErrorCode::kInvalid, where + ": field 'init.kind': unknown initializer '" + name +
                                       "' (known: zeros, constant, uniform, normal, xavier, glorot, he, kaiming)");
}

}  // namespace

void initialize(Tensor& t, const proto::Initializer& init, int32_t default_kind, double default_value,
                int64_t fan_in, int64_t fan_out, uint64_t seed, const std::string& where) {
  const int32_t kind = init.kind().empty() ? default_kind : kind_of(init.kind(), where);
  std::mt19937_64 g(init.seed() != 0 ? init.seed() : seed);
  float* p = t.data();
  const int64_t n = t.numel();
  switch (kind) {
    case PLX_INIT_ZEROS: t.fill(0.0f); break;
    case PLX_INIT_CONSTANT: t.fill(static_cast<float>(init.kind().empty() ? default_value : init.value())); break;
    case PLX_INIT_UNIFORM: {
      const double lo = init.low(), hi = init.high();
      if (!(hi > lo)) throw Error(ErrorCode::kInvalid, where + ": uniform initializer needs high > low");
      for (int64_t i = 0; i < n; ++i) p[i] = static_cast<float>(lo + (hi - lo) * uniform01(g));
      break;
    }
    case PLX_INIT_NORMAL: {
      if (!(init.std() > 0)) throw Error(ErrorCode::kInvalid, where + ": normal initializer needs std > 0");
      for (int64_t i = 0; i < n; ++i) p[i] = static_cast<float>(init.mean() + init.std() * normal01(g));
      break;
    }
    case PLX_INIT_XAVIER_UNIFORM: {
      const double a = std::sqrt(6.0 / static_cast<double>(std::max<int64_t>(1, fan_in + fan_out)));
      for (int64_t i = 0; i < n; ++i) p[i] = static_cast<float>(-a + 2.0 * a * uniform01(g));
      break;
    }
    case PLX_INIT_HE_NORMAL: {
      const double s = std::sqrt(2.0 / static_cast<double>(std::max<int64_t>(1, fan_in)));
      for (int64_t i = 0; i < n; ++i) p[i] = static_cast<float>(s * normal01(g));
      break;
    }
    default: throw Error(ErrorCode::kInvalid, where + ": unknown initializer kind " + std::to_string(kind));
  }
}

}  // namespace plexus::detail
