// Shape errors of convolutional models, caught when a Model is built: each is
// an Error(kInvalid) whose message names the model source, the node, and what
// was expected against what was found. Adding a case is adding one struct.
#include <plexus/error.hpp>
#include <plexus/model.hpp>

#include "support/test_support.hpp"

#include <gtest/gtest.h>

#include <ostream>
#include <string>
#include <vector>

namespace plexus::test {
namespace {

const Runtime& runtime() {
  static Runtime* rt = new Runtime();
  return *rt;
}

struct ShapeErrorCase {
  std::string name;                 // the test's name; the model's source is name + ".pbtxt"
  std::string model;                // inputs and nodes; output is the last node
  std::vector<std::string> expect;  // besides the source: the node and the expected/found values
};

void PrintTo(const ShapeErrorCase& c, std::ostream* os) { *os << c.name; }

class ConvShapeErrors : public ::testing::TestWithParam<ShapeErrorCase> {};

TEST_P(ConvShapeErrors, NameSourceNodeAndExpectation) {
  const ShapeErrorCase& c = GetParam();
  const std::string source = c.name + ".pbtxt";
  const std::string text = "format_version: 1\n" + c.model;
  std::vector<std::string> parts = c.expect;
  parts.insert(parts.begin(), source + ": ");
  expect_error([&] { Model m(runtime(), parse_model_def_text(text, source), source); }, ErrorCode::kInvalid, parts);
}

// An [N, 2, 8, 8] image and the two convolutions the branch cases combine.
const std::string kImage2x8x8 = R"(inputs { name: "image" shape: 2 shape: 8 shape: 8 source: "features" }
)";
std::string conv3x3_pad1(const std::string& name, int out_channels) {
  return "nodes { name: \"" + name + "\" kernel: \"conv2d\" inputs: \"image\" " +
         "attrs { key: \"out_channels\" value { i: " + std::to_string(out_channels) + " } } " +
         "attrs { key: \"kernel\" value { i: 3 } } attrs { key: \"padding\" value { i: 1 } } }\n";
}

const ShapeErrorCase kCases[] = {
    {"conv_kernel_larger_than_input", R"(
inputs { name: "image" shape: 1 shape: 4 shape: 4 source: "features" }
nodes { name: "conv1" kernel: "conv2d" inputs: "image"
        attrs { key: "out_channels" value { i: 2 } } attrs { key: "kernel" value { i: 5 } } }
output: "conv1")",
     {"node 'conv1'", "kernel 5", "larger than the padded input", "padded input is 4x4", "src [1, 1, 4, 4]"}},

    {"conv_kernel_larger_than_padded_input", R"(
inputs { name: "image" shape: 1 shape: 2 shape: 3 source: "features" }
nodes { name: "conv1" kernel: "conv2d" inputs: "image"
        attrs { key: "out_channels" value { i: 2 } } attrs { key: "kernel" value { i: 5 } }
        attrs { key: "padding" value { i: 1 } } }
output: "conv1")",
     {"node 'conv1'", "kernel 5", "padded input is 4x5", "padding 1"}},

    {"conv_dilated_kernel_larger_than_input", R"(
inputs { name: "image" shape: 1 shape: 6 shape: 6 source: "features" }
nodes { name: "conv1" kernel: "conv2d" inputs: "image"
        attrs { key: "out_channels" value { i: 2 } } attrs { key: "kernel" value { i: 3 } }
        attrs { key: "dilation" value { i: 3 } } }
output: "conv1")",
     {"node 'conv1'", "kernel 3 with dilation 3 spans 7", "padded input is 6x6"}},

    // The second convolution sees the first one's 4x4 output, not the 8x8 image.
    {"conv_kernel_larger_than_previous_output", R"(
inputs { name: "image" shape: 1 shape: 8 shape: 8 source: "features" }
nodes { name: "conv1" kernel: "conv2d" inputs: "image"
        attrs { key: "out_channels" value { i: 2 } } attrs { key: "kernel" value { i: 5 } } }
nodes { name: "conv2" kernel: "conv2d" inputs: "conv1"
        attrs { key: "out_channels" value { i: 2 } } attrs { key: "kernel" value { i: 5 } } }
output: "conv2")",
     {"node 'conv2'", "kernel 5", "padded input is 4x4", "src [1, 2, 4, 4]"}},

    {"conv_input_channels_not_divisible_by_groups", R"(
inputs { name: "image" shape: 3 shape: 8 shape: 8 source: "features" }
nodes { name: "conv1" kernel: "conv2d" inputs: "image"
        attrs { key: "out_channels" value { i: 4 } } attrs { key: "kernel" value { i: 3 } }
        attrs { key: "groups" value { i: 2 } } }
output: "conv1")",
     {"node 'conv1'", "input channels C = 3", "[1, 3, 8, 8]", "not divisible by groups = 2"}},

    {"conv_out_channels_not_divisible_by_groups", R"(
inputs { name: "image" shape: 4 shape: 8 shape: 8 source: "features" }
nodes { name: "conv1" kernel: "conv2d" inputs: "image"
        attrs { key: "out_channels" value { i: 6 } } attrs { key: "kernel" value { i: 3 } }
        attrs { key: "groups" value { i: 4 } } }
output: "conv1")",
     {"node 'conv1'", "out_channels = 6", "not divisible by groups = 4"}},

    {"conv_on_flat_input", R"(
inputs { name: "image" shape: 784 source: "features" }
nodes { name: "conv1" kernel: "conv2d" inputs: "image"
        attrs { key: "out_channels" value { i: 2 } } attrs { key: "kernel" value { i: 3 } } }
output: "conv1")",
     {"node 'conv1'", "4-D src [N, C, H, W]", "got [1, 784]"}},

    // Tied weights: conv1 makes "w" [8, 3, 3, 3] from 3 input channels;
    // conv2 reads conv1's 8 channels and would need [8, 8, 3, 3].
    {"conv_shared_weights_channel_mismatch", R"(
inputs { name: "image" shape: 3 shape: 8 shape: 8 source: "features" }
nodes { name: "conv1" kernel: "conv2d" inputs: "image"
        attrs { key: "out_channels" value { i: 8 } } attrs { key: "kernel" value { i: 3 } }
        params { role: "weights" name: "w" } }
nodes { name: "conv2" kernel: "conv2d" inputs: "conv1"
        attrs { key: "out_channels" value { i: 8 } } attrs { key: "kernel" value { i: 3 } }
        params { role: "weights" name: "w" } }
output: "conv2")",
     {"node 'conv2'", "field 'params'", "shared parameter 'w'", "[8, 3, 3, 3]", "needs [8, 8, 3, 3]"}},

    {"linear_shared_weights_feature_mismatch", R"(
inputs { name: "x" shape: 4 source: "features" }
nodes { name: "fc1" kernel: "linear" inputs: "x" attrs { key: "out_features" value { i: 3 } }
        params { role: "weights" name: "w" } }
nodes { name: "fc2" kernel: "linear" inputs: "fc1" attrs { key: "out_features" value { i: 3 } }
        params { role: "weights" name: "w" } }
output: "fc2")",
     {"node 'fc2'", "field 'params'", "shared parameter 'w'", "[3, 4]", "needs [3, 3]"}},

    {"max_pool_kernel_larger_than_input", R"(
inputs { name: "image" shape: 2 shape: 3 shape: 3 source: "features" }
nodes { name: "pool1" kernel: "max_pool2d" inputs: "image" attrs { key: "kernel" value { i: 4 } } }
output: "pool1")",
     {"node 'pool1'", "max_pool2d", "kernel 4 is larger than the padded input 3x3", "src [1, 2, 3, 3]"}},

    {"avg_pool_kernel_larger_than_padded_input", R"(
inputs { name: "image" shape: 2 shape: 1 shape: 1 source: "features" }
nodes { name: "pool1" kernel: "avg_pool2d" inputs: "image"
        attrs { key: "kernel" value { i: 4 } } attrs { key: "padding" value { i: 1 } } }
output: "pool1")",
     {"node 'pool1'", "avg_pool2d", "kernel 4 is larger than the padded input 3x3", "padding 1"}},

    {"add_of_different_channel_counts",
     kImage2x8x8 + conv3x3_pad1("a", 4) + conv3x3_pad1("b", 6) + R"(
nodes { name: "sum" kernel: "add" inputs: "a" inputs: "b" }
output: "sum")",
     {"node 'sum'", "identical shape", "[1, 4, 8, 8] and [1, 6, 8, 8]"}},

    {"concat_of_different_spatial_sizes",
     kImage2x8x8 + conv3x3_pad1("a", 4) + R"(
nodes { name: "b" kernel: "max_pool2d" inputs: "image" attrs { key: "kernel" value { i: 2 } } }
nodes { name: "cat" kernel: "concat" inputs: "a" inputs: "b" }
output: "cat")",
     {"node 'cat'", "equal sizes in every other dim", "dim 2 differs", "src_0 [1, 4, 8, 8]", "src_1 [1, 2, 4, 4]"}},

    // A per-sample scalar is [N] in a batch: nothing to flatten.
    {"flatten_of_a_scalar_per_sample", R"(
inputs { name: "x" source: "features" }
nodes { name: "flat" kernel: "flatten" inputs: "x" }
output: "flat")",
     {"node 'flat'", "rank >= 2", "got [1]"}},

    {"flatten_start_dim_past_the_last_dim", kImage2x8x8 + R"(
nodes { name: "flat" kernel: "flatten" inputs: "image" attrs { key: "start_dim" value { i: 4 } } }
output: "flat")",
     {"node 'flat'", "'start_dim' is 4", "[1, 2, 8, 8]", "allows 1..3"}},
};

INSTANTIATE_TEST_SUITE_P(Models, ConvShapeErrors, ::testing::ValuesIn(kCases),
                         [](const ::testing::TestParamInfo<ShapeErrorCase>& info) { return info.param.name; });

}  // namespace
}  // namespace plexus::test
