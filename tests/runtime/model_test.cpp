// Model definitions: parsing, validation errors that name file, node and
// field, shared parameters, and a forward/backward through real plugins.
#include <plexus/error.hpp>
#include <plexus/model.hpp>

#include "support/test_support.hpp"

#include <gtest/gtest.h>

#include <cmath>

namespace plexus {
namespace {

const Runtime& runtime() {
  static Runtime* rt = new Runtime();
  return *rt;
}

const char* kMlp = R"(
format_version: 1
inputs { name: "x" shape: 4 source: "features" }
inputs { name: "y" source: "labels" }
nodes { name: "fc1" kernel: "linear" inputs: "x" attrs { key: "out_features" value { i: 3 } } }
nodes { name: "act" kernel: "tanh" inputs: "fc1" }
nodes { name: "fc2" kernel: "linear" inputs: "act" attrs { key: "out_features" value { i: 2 } } }
nodes { name: "loss" kernel: "softmax_cross_entropy" inputs: "fc2" inputs: "y" }
output: "fc2"
loss: "loss"
)";

std::string replace(std::string s, const std::string& from, const std::string& to) {
  const size_t at = s.find(from);
  EXPECT_NE(at, std::string::npos) << "test bug: '" << from << "' not in the model text";
  if (at != std::string::npos) s.replace(at, from.size(), to);
  return s;
}

/// Builds a Model from text and returns the validation error message.
std::string error_of(const std::string& text) {
  try {
    Model m(runtime(), parse_model_def_text(text, "bad.pbtxt"), "bad.pbtxt");
  } catch (const Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected a validation error for:\n" << text;
  return "";
}

void expect_mentions(const std::string& msg, std::initializer_list<const char*> parts) {
  for (const char* p : parts) EXPECT_NE(msg.find(p), std::string::npos) << "'" << p << "' missing in: " << msg;
}

TEST(ModelDef, ValidModelBuildsWithParameters) {
  Model m(runtime(), parse_model_def_text(kMlp, "mlp.pbtxt"), "mlp.pbtxt");
  ASSERT_EQ(m.param_shapes().size(), 4u);
  EXPECT_EQ(m.param_shapes()[0].first, "fc1.weights");
  EXPECT_EQ(m.param_shapes()[0].second, (Shape{3, 4}));
  EXPECT_EQ(m.param_shapes()[3].second, (Shape{2}));
  EXPECT_EQ(m.feature_input(), "x");
  EXPECT_EQ(m.label_input(), "y");
}

// Forward::values and ::params read like maps: at, find, count, and
// iteration over what ran, in definition order. Without labels the loss does
// not run and neither it nor the label input is listed.
TEST(ModelForward, NamedValuesReadLikeAMapOfWhatRan) {
  Model m(runtime(), parse_model_def_text(kMlp, "mlp.pbtxt"), "mlp.pbtxt");
  m.init_params(1);
  const Tensor x = Tensor::from(Shape{2, 4}, std::vector<float>{1, 2, 3, 4, -1, 0, 1, 2});
  const Tensor y = Tensor::from(Shape{2}, std::vector<float>{0, 1});
  {
    Tape tape;
    const auto fw = m.forward(tape, {{"x", x}, {"y", y}}, true, true);
    std::vector<std::string> names;
    for (const auto& [name, v] : fw.values) {
      names.push_back(name);
      EXPECT_TRUE(v.valid()) << name;
    }
    EXPECT_EQ(names, (std::vector<std::string>{"x", "y", "fc1", "act", "fc2", "loss"}));
    EXPECT_EQ(fw.values.size(), 6u);
    EXPECT_EQ(fw.values.at("fc2").data().shape(), (Shape{2, 2}));
    EXPECT_EQ(fw.values.find("act")->first, "act");
    EXPECT_EQ(fw.values.find("nope"), fw.values.end());
    EXPECT_THROW(fw.values.at("nope"), std::out_of_range);
    std::vector<std::string> params;
    for (const auto& [name, v] : fw.params) params.push_back(name);
    EXPECT_EQ(params, (std::vector<std::string>{"fc1.weights", "fc1.bias", "fc2.weights", "fc2.bias"}));
    EXPECT_EQ(fw.params.at("fc1.weights").data().data(), m.param("fc1.weights").data());  // the model's storage
    EXPECT_TRUE(fw.params.at("fc2.bias").requires_grad());
  }
  Tape tape;
  const auto fw = m.forward(tape, {{"x", x}}, false, false);
  EXPECT_EQ(fw.values.count("y"), 0u);
  EXPECT_EQ(fw.values.count("loss"), 0u);
  EXPECT_EQ(fw.values.count("fc2"), 1u);
  EXPECT_EQ(fw.values.size(), 4u);
  EXPECT_FALSE(fw.params.at("fc2.bias").requires_grad());  // not training
  EXPECT_THROW(fw.values.at("loss"), std::out_of_range);
}

TEST(ModelDef, UnknownKernelListsKnownOnes) {
  expect_mentions(error_of(replace(kMlp, "kernel: \"tanh\"", "kernel: \"Tanh\"")),
                  {"bad.pbtxt", "node 'act'", "kernel", "unknown kernel 'Tanh'", "tanh", "relu"});
}

TEST(ModelDef, DanglingInput) {
  expect_mentions(error_of(replace(kMlp, "inputs: \"act\"", "inputs: \"actt\"")),
                  {"bad.pbtxt", "node 'fc2'", "inputs", "'actt'"});
}

TEST(ModelDef, Cycle) {
  std::string t = replace(kMlp, "kernel: \"linear\" inputs: \"x\"", "kernel: \"linear\" inputs: \"fc2\"");
  expect_mentions(error_of(t), {"bad.pbtxt", "cycle", "fc1", "fc2"});
}

TEST(ModelDef, ShapeMismatch) {
  // squared_error needs prediction and target of one shape: [1,2] vs [1,4].
  std::string t = replace(kMlp, "kernel: \"softmax_cross_entropy\" inputs: \"fc2\" inputs: \"y\"",
                          "kernel: \"squared_error\" inputs: \"fc2\" inputs: \"x\"");
  expect_mentions(error_of(t), {"bad.pbtxt", "loss", "[1, 2]", "[1, 4]"});
}

TEST(ModelDef, WrongAttributeType) {
  expect_mentions(error_of(replace(kMlp, "value { i: 3 }", "value { s: \"three\" }")),
                  {"bad.pbtxt", "fc1", "out_features", "i64", "str"});
}

TEST(ModelDef, UnknownAttribute) {
  expect_mentions(error_of(replace(kMlp, "key: \"out_features\" value { i: 3 }", "key: \"units\" value { i: 3 }")),
                  {"bad.pbtxt", "fc1", "unknown attribute 'units'", "out_features"});
}

TEST(ModelDef, MissingRequiredAttribute) {
  expect_mentions(error_of(replace(kMlp, "attrs { key: \"out_features\" value { i: 2 } }", "")),
                  {"bad.pbtxt", "fc2", "out_features", "required"});
}

TEST(ModelDef, DuplicateNodeName) {
  expect_mentions(error_of(replace(kMlp, "name: \"act\"", "name: \"fc1\"")), {"bad.pbtxt", "node 'fc1'", "duplicate"});
}

TEST(ModelDef, UnknownParameterRole) {
  std::string t = replace(kMlp, "inputs: \"act\"", "inputs: \"act\" params { role: \"kernel\" }");
  expect_mentions(error_of(t), {"bad.pbtxt", "node 'fc2'", "params", "'kernel'", "weights", "bias"});
}

TEST(ModelDef, LossMustBeALossKernel) {
  expect_mentions(error_of(replace(kMlp, "loss: \"loss\"", "loss: \"act\"")), {"bad.pbtxt", "field 'loss'", "not a loss"});
}

TEST(ModelDef, MalformedTextNamesLineAndColumn) {
  try {
    parse_model_def_text("format_version: 1\nnodes { name: \"a\" kernal: \"relu\" }\n", "broken.pbtxt");
    FAIL() << "expected a parse error";
  } catch (const Error& e) {
    expect_mentions(e.what(), {"broken.pbtxt:2:", "kernal"});
    EXPECT_EQ(e.code(), ErrorCode::kFormat);
  }
}

TEST(ModelDef, MissingFile) {
  try {
    load_model_def("/nonexistent/model.pbtxt");
    FAIL();
  } catch (const Error& e) {
    expect_mentions(e.what(), {"/nonexistent/model.pbtxt"});
  }
}

TEST(ModelDef, BinaryAndTextLoadTheSame) {
  const std::string dir = test::temp_dir();
  proto::ModelDef def = parse_model_def_text(kMlp, "mlp.pbtxt");
  const std::string bin = dir + "/mlp.pb";
  {
    std::string bytes;
    ASSERT_TRUE(def.SerializeToString(&bytes));
    FILE* f = std::fopen(bin.c_str(), "wb");
    ASSERT_NE(f, nullptr);
    std::fwrite(bytes.data(), 1, bytes.size(), f);
    std::fclose(f);
  }
  proto::ModelDef back = load_model_def(bin);
  EXPECT_EQ(back.SerializeAsString(), def.SerializeAsString());
}

TEST(ModelDef, SharedParameterIsOneTensorAndGetsSummedGradient) {
  // Two linear layers bound to one weight matrix "w" (tied weights).
  const char* tied = R"(
inputs { name: "x" shape: 3 source: "features" }
inputs { name: "t" shape: 3 source: "labels" }
nodes { name: "a" kernel: "linear" inputs: "x" attrs { key: "out_features" value { i: 3 } }
        attrs { key: "bias" value { b: false } } params { role: "weights" name: "w" } }
nodes { name: "b" kernel: "linear" inputs: "a" attrs { key: "out_features" value { i: 3 } }
        attrs { key: "bias" value { b: false } } params { role: "weights" name: "w" } }
nodes { name: "loss" kernel: "squared_error" inputs: "b" inputs: "t" }
output: "b"
loss: "loss"
)";
  Model m(runtime(), parse_model_def_text(tied, "tied.pbtxt"), "tied.pbtxt");
  // One "w" for both nodes (bias=false leaves each node an empty [0] bias).
  ASSERT_EQ(m.param_shapes()[0].first, "w");
  for (size_t i = 1; i < m.param_shapes().size(); ++i) {
    EXPECT_NE(m.param_shapes()[i].first, "w");
    EXPECT_EQ(m.param_shapes()[i].second.numel(), 0);
  }
  m.init_params(3);
  Tensor x = Tensor::from(Shape{1, 3}, std::vector<float>{0.5f, -1.0f, 2.0f});
  Tensor t = Tensor::from(Shape{1, 3}, std::vector<float>{0.1f, 0.2f, 0.3f});
  Tape tape;
  auto fw = m.forward(tape, {{"x", x}, {"t", t}}, true, true);
  tape.backward(fw.loss);
  Tensor g = tape.grad(fw.params.at("w"));
  ASSERT_TRUE(g.defined());
  // Reference in double: a = W x, b = W a, L = 1/2 |b - t|^2.
  const Tensor& W = m.param("w");
  double a[3], b[3], db[3], da[3];
  for (int i = 0; i < 3; ++i) {
    a[i] = 0;
    for (int j = 0; j < 3; ++j) a[i] += double(W.data()[i * 3 + j]) * x.data()[j];
  }
  for (int i = 0; i < 3; ++i) {
    b[i] = 0;
    for (int j = 0; j < 3; ++j) b[i] += double(W.data()[i * 3 + j]) * a[j];
    db[i] = b[i] - t.data()[i];
  }
  for (int j = 0; j < 3; ++j) {
    da[j] = 0;
    for (int i = 0; i < 3; ++i) da[j] += double(W.data()[i * 3 + j]) * db[i];
  }
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) {
      const double want = db[i] * a[j] + da[i] * x.data()[j];  // use in b plus use in a
      EXPECT_NEAR(g.data()[i * 3 + j], want, 1e-5 * (1 + std::abs(want))) << i << "," << j;
    }
}

TEST(ModelDef, InferenceWithoutLabels) {
  Model m(runtime(), parse_model_def_text(kMlp, "mlp.pbtxt"), "mlp.pbtxt");
  m.init_params(1);
  Tape tape;
  NoGrad ng(tape);
  auto fw = m.forward(tape, {{"x", Tensor::zeros(Shape{5, 4})}}, false, false);
  EXPECT_EQ(fw.output.data().shape(), (Shape{5, 2}));
  EXPECT_EQ(tape.node_count(), 0u);
}

TEST(ModelDef, FeedOfWrongShapeIsAnError) {
  Model m(runtime(), parse_model_def_text(kMlp, "mlp.pbtxt"), "mlp.pbtxt");
  Tape tape;
  try {
    m.forward(tape, {{"x", Tensor::zeros(Shape{5, 3})}}, false, false);
    FAIL();
  } catch (const Error& e) {
    expect_mentions(e.what(), {"input 'x'", "[5, 3]", "[4]"});
  }
}

TEST(ModelDef, InitializersAreSeededAndDeterministic) {
  Model a(runtime(), parse_model_def_text(kMlp, "mlp.pbtxt"), "mlp.pbtxt");
  Model b(runtime(), parse_model_def_text(kMlp, "mlp.pbtxt"), "mlp.pbtxt");
  a.init_params(7);
  b.init_params(7);
  const Tensor& wa = a.param("fc1.weights");
  const Tensor& wb = b.param("fc1.weights");
  for (int64_t i = 0; i < wa.numel(); ++i) EXPECT_EQ(wa.data()[i], wb.data()[i]);
  b.init_params(8);
  bool differ = false;
  for (int64_t i = 0; i < wa.numel(); ++i) differ |= wa.data()[i] != b.param("fc1.weights").data()[i];
  EXPECT_TRUE(differ);
  // Xavier bound for fan_in 4, fan_out 3.
  const float bound = std::sqrt(6.0f / 7.0f);
  for (int64_t i = 0; i < wa.numel(); ++i) EXPECT_LE(std::abs(wa.data()[i]), bound);
  for (int64_t i = 0; i < 3; ++i) EXPECT_EQ(a.param("fc1.bias").data()[i], 0.0f);
}

}  // namespace
}  // namespace plexus
