// The plugin ABI header as C: it compiles as strict C99 (abi_c99.c, built with
// -std=c99 -Wall -Wextra -pedantic -Werror), the C compiler lays out every
// struct exactly as the C++ compiler does, and the 1.0 layout is pinned.
#include <plexus/abi/plugin.h>

#include <gtest/gtest.h>

#include <cstddef>
#include <vector>

extern "C" {
extern const size_t plexus_abi_c99_layout[];
extern const size_t plexus_abi_c99_layout_count;
long plexus_abi_c99_version(void);
}

namespace {

// Pinned ABI 1.0 layout on LP64 targets: a change here breaks every built
// plugin and needs a new major. Fields may only be appended (minor).
#if defined(__LP64__)
static_assert(sizeof(plx_error) == 520);
static_assert(sizeof(plx_value) == 16 && offsetof(plx_value, as) == 8);
static_assert(sizeof(plx_tensor_view) == 40);
static_assert(sizeof(plx_shape) == 72);
static_assert(offsetof(plx_host, abi_major) == 0 && offsetof(plx_host, abi_minor) == 4 &&
              offsetof(plx_host, struct_size) == 8);
static_assert(offsetof(plx_plugin_desc, abi_major) == 0 && offsetof(plx_plugin_desc, abi_minor) == 4 &&
              offsetof(plx_plugin_desc, struct_size) == 8);
static_assert(sizeof(plx_host) == 40);
static_assert(sizeof(plx_hparam_desc) == 48);
static_assert(sizeof(plx_param_desc) == 48 && PLX_END_OF(plx_param_desc, doc) == 40);  // 1.1 appended flags
static_assert(sizeof(plx_state_desc) == 32);
static_assert(sizeof(plx_op_desc) == 136);
static_assert(sizeof(plx_optimizer_desc) == 72);
static_assert(sizeof(plx_plugin_desc) == 72);
static_assert(sizeof(plx_step_args) == 144);
#endif

std::vector<size_t> cxx_layout() {
#define PLX_LAYOUT(expr) (expr),
  return {
#include "abi_layout.inc"
  };
#undef PLX_LAYOUT
}

TEST(AbiC99, CompiledAsCWithTheSameVersion) {
  EXPECT_EQ(plexus_abi_c99_version(), PLX_ABI_MAJOR * 1000L + PLX_ABI_MINOR);
}

TEST(AbiC99, CAndCxxAgreeOnEveryStructLayout) {
  const std::vector<size_t> cxx = cxx_layout();
  ASSERT_EQ(plexus_abi_c99_layout_count, cxx.size());
  for (size_t i = 0; i < cxx.size(); ++i)
    EXPECT_EQ(plexus_abi_c99_layout[i], cxx[i]) << "entry " << i << " of abi_layout.inc";
}

TEST(AbiC99, EndOfMacroMatchesLastField) {
  EXPECT_EQ(PLX_END_OF(plx_plugin_desc, optimizers), sizeof(plx_plugin_desc));
  EXPECT_EQ(PLX_END_OF(plx_error, message), sizeof(plx_error));
  EXPECT_LE(PLX_END_OF(plx_op_desc, metric), sizeof(plx_op_desc));
  EXPECT_GT(PLX_END_OF(plx_op_desc, metric), offsetof(plx_op_desc, metric));
}

}  // namespace
