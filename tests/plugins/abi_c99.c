/* Compiles the plugin ABI header as strict C99 (-std=c99 -Wall -Wextra
 * -pedantic -Werror, see tests.cmake) and records the layout the C compiler
 * gives it, for abi_c99_test.cpp to compare with C++'s. */
#include <plexus/abi/plugin.h>

#include <stddef.h>

/* A plugin written in C declares the entry exactly like this; a conflicting
 * declaration in the header would be a compile error here. */
const plx_plugin_desc* plexus_plugin_entry(const plx_host* host, plx_error* err);

#define PLX_LAYOUT(expr) (expr),
const size_t plexus_abi_c99_layout[] = {
#include "abi_layout.inc"
};
#undef PLX_LAYOUT

const size_t plexus_abi_c99_layout_count = sizeof plexus_abi_c99_layout / sizeof plexus_abi_c99_layout[0];

long plexus_abi_c99_version(void);
long plexus_abi_c99_version(void) { return PLX_ABI_MAJOR * 1000L + PLX_ABI_MINOR; }
