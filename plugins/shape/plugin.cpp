// plexus-shape: kernels that move or combine values without a formula of
// their own (flatten, reshape, add, concat), one per file.
#include "add.hpp"
#include "concat.hpp"
#include "flatten.hpp"
#include "reshape.hpp"

namespace plx = plexus::plugins;

PLEXUS_PLUGIN("plexus-shape", PLEXUS_SDK_VERSION, plx::Flatten, plx::Reshape, plx::Add, plx::Concat)
