// Repeated blocks: a RepeatDef unrolls into the same graph as writing the
// steps out by hand, shares explicitly named parameters across steps, takes
// its count from a variable that --set overrides, and reports bad
// definitions naming the repeat and the field.
#include <plexus/model.hpp>

#include "support/test_support.hpp"

#include <gtest/gtest.h>

#include <string>

namespace plexus {
namespace {

// z_{k+1} = tanh(b + S z_k), b = W x: a LISTA-shaped recurrence with S shared.
const char* kRepeated = R"(
inputs { name: "x" shape: 5 source: "features" }
nodes { name: "b" kernel: "linear" inputs: "x" attrs { key: "out_features" value { i: 4 } } }
repeats {
  name: "loop" times: "T" carry: "z" init: "b" result: "z_next"
  nodes { name: "sz" kernel: "linear" inputs: "z" attrs { key: "out_features" value { i: 4 } }
          attrs { key: "bias" value { b: false } } params { role: "weights" name: "S" } }
  nodes { name: "pre" kernel: "add" inputs: "b" inputs: "sz" }
  nodes { name: "z_next" kernel: "tanh" inputs: "pre" }
}
nodes { name: "head" kernel: "linear" inputs: "loop" attrs { key: "out_features" value { i: 2 } } }
vars { key: "T" value: 3 }
output: "head"
)";

std::string unrolled_by_hand(int steps) {
  std::string m = R"(
inputs { name: "x" shape: 5 source: "features" }
nodes { name: "b" kernel: "linear" inputs: "x" attrs { key: "out_features" value { i: 4 } } }
)";
  std::string z = "b";
  for (int k = 0; k < steps; ++k) {
    const std::string p = "loop." + std::to_string(k) + ".";
    m += "nodes { name: \"" + p + "sz\" kernel: \"linear\" inputs: \"" + z +
         "\" attrs { key: \"out_features\" value { i: 4 } } attrs { key: \"bias\" value { b: false } } "
         "params { role: \"weights\" name: \"S\" } }\n";
    m += "nodes { name: \"" + p + "pre\" kernel: \"add\" inputs: \"b\" inputs: \"" + p + "sz\" }\n";
    m += "nodes { name: \"" + p + "z_next\" kernel: \"tanh\" inputs: \"" + p + "pre\" }\n";
    z = p + "z_next";
  }
  m += "nodes { name: \"head\" kernel: \"linear\" inputs: \"" + z + "\" attrs { key: \"out_features\" value { i: 2 } } }\n";
  return m + "output: \"head\"\n";
}

struct RunResult {
  Tensor output;
  std::map<std::string, Tensor> grads;
  size_t params = 0;
};

RunResult run(const Runtime& rt, const proto::ModelDef& def) {
  Model model(rt, def, "repeat.pbtxt");
  model.init_params(5);
  Tape tape;
  const Tensor x = test::random_tensor({3, 5}, 9);
  Model::Forward fw = model.forward(tape, {{"x", x}}, /*training=*/true, /*with_loss=*/false);
  Value sum = fw.output;  // d(sum of outputs)/d(params) through a seed of ones
  tape.backward(sum, Tensor::full(sum.data().shape(), 1.0f));
  RunResult r;
  r.output = fw.output.data().clone();
  for (const auto& [name, shape] : model.param_shapes()) r.params += shape.numel() > 0 ? 1 : 0;
  for (const auto& [name, shape] : model.param_shapes()) r.grads[name] = tape.grad(fw.params.at(name)).clone();
  return r;
}

TEST(Repeat, UnrollsLikeTheStepsWrittenOut) {
  Runtime rt;
  for (int steps : {0, 1, 3, 6}) {
    SCOPED_TRACE("T = " + std::to_string(steps));
    proto::ModelDef def = parse_model_def_text(kRepeated, "repeat.pbtxt");
    set_model_vars(def, {{"T", steps}}, "repeat.pbtxt");
    const RunResult a = run(rt, def);
    const RunResult b = run(rt, parse_model_def_text(unrolled_by_hand(steps), "hand.pbtxt"));
    EXPECT_TRUE(test::same_bits(a.output, b.output));
    ASSERT_EQ(a.grads.size(), b.grads.size());
    for (const auto& [name, g] : b.grads) EXPECT_TRUE(test::same_bits(a.grads.at(name), g)) << name;
    // b and head (weights, bias) and, once a step runs, the one shared S: not
    // one S per step (each step's bias=false linear has an empty bias).
    EXPECT_EQ(a.params, steps == 0 ? 4u : 5u);
  }
}

TEST(Repeat, StepsShareNamedParametersAndNameTheirNodes) {
  Runtime rt;
  Model model(rt, parse_model_def_text(kRepeated, "repeat.pbtxt"), "repeat.pbtxt");
  int steps = 0;
  for (const proto::NodeDef& n : model.def().nodes())
    if (n.name().rfind("loop.", 0) == 0 && n.name().ends_with(".z_next")) ++steps;
  EXPECT_EQ(steps, 3);  // vars T = 3
  for (const proto::NodeDef& n : model.def().nodes())
    if (n.name() == "head") {
      EXPECT_EQ(n.inputs(0), "loop.2.z_next");
    }
  EXPECT_NO_THROW(model.param("S"));
}

TEST(Repeat, BadDefinitionsNameTheRepeatAndField) {
  Runtime rt;
  auto fails = [&](const std::string& from, const std::string& to, const std::vector<std::string>& parts) {
    std::string text = kRepeated;
    const size_t at = text.find(from);
    ASSERT_NE(at, std::string::npos) << from;
    text.replace(at, from.size(), to);
    test::expect_error([&] { Model(rt, parse_model_def_text(text, "repeat.pbtxt"), "repeat.pbtxt"); },
                       ErrorCode::kInvalid, parts);
  };
  fails("times: \"T\"", "times: \"U\"", {"repeat.pbtxt", "repeat 'loop'", "field 'times'", "'U'"});
  fails("times: \"T\"", "times: \"\"", {"repeat 'loop'", "field 'times'"});
  fails("result: \"z_next\"", "result: \"nope\"", {"repeat 'loop'", "field 'result'", "'nope'"});
  fails("carry: \"z\"", "carry: \"\"", {"repeat 'loop'", "field 'carry'"});
  fails("init: \"b\"", "init: \"missing\"", {"repeat.pbtxt", "'missing' is neither a model input nor a node"});
  fails("name: \"pre\"", "name: \"sz\"", {"repeat 'loop'", "field 'nodes'", "'sz'"});
  proto::ModelDef def = parse_model_def_text(kRepeated, "repeat.pbtxt");
  test::expect_error([&] { set_model_vars(def, {{"K", 2}}, "repeat.pbtxt"); }, ErrorCode::kInvalid,
                     {"repeat.pbtxt", "--set K", "no variable 'K'", "T"});
  test::expect_error([&] { set_model_vars(def, {{"T", -1}}, "repeat.pbtxt"); }, ErrorCode::kInvalid,
                     {"--set T=-1", ">= 0"});
}

}  // namespace
}  // namespace plexus
