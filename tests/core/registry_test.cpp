// Registry::add_plugin validation, on descriptors built in memory: one valid
// plugin, and one case per way of breaking it. Each broken plugin must be
// refused with a message naming the file, plugin, kernel and field, and must
// register nothing, not even its valid kernels.
#include <plexus/kernel.hpp>

#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

namespace {

using plexus::Error;
using plexus::ErrorCode;
using plexus::Registry;

int32_t infer_fn(const plx_infer_args*, plx_error*) { return PLX_OK; }
int32_t create_fn(const plx_instance_args*, void** instance, plx_error*) {
  *instance = nullptr;
  return PLX_OK;
}
void destroy_fn(void*) {}
int32_t forward_fn(const plx_forward_args*, plx_error*) { return PLX_OK; }
int32_t backward_fn(const plx_backward_args*, plx_error*) { return PLX_OK; }
int32_t step_fn(const plx_step_args*, plx_error*) { return PLX_OK; }

plx_value f64(double v) {
  plx_value x{};
  x.type = PLX_VALUE_F64;
  x.as.f64 = v;
  return x;
}

/// A valid plugin with a layer (one attribute, two parameters), a loss and an
/// optimizer (two hyperparameters, two state slots). Tests mutate a copy.
struct Plugin {
  const char* src_role[1] = {"src"};
  const char* loss_roles[2] = {"prediction", "target"};
  plx_hparam_desc layer_attrs[1] = {{sizeof(plx_hparam_desc), "out_features", {}, 1, 0, "outputs"}};
  plx_param_desc layer_params[2] = {
      {sizeof(plx_param_desc), "weights", PLX_INIT_XAVIER_UNIFORM, 0, 0.0, "w", 0, 0},
      {sizeof(plx_param_desc), "bias", PLX_INIT_ZEROS, 0, 0.0, "b", 0, 0}};
  plx_op_desc layer{sizeof(plx_op_desc), PLX_KIND_LAYER, PLX_OP_SAVES_SRC, "linear", 1, 0, "dst = src W^T + b",
                    1, layer_attrs, 1, src_role, 2, layer_params,
                    infer_fn, create_fn, destroy_fn, forward_fn, backward_fn, nullptr};
  plx_op_desc loss{sizeof(plx_op_desc), PLX_KIND_LOSS, PLX_OP_SAVES_SRC, "squared_error", 1, 0, "mean (p - t)^2",
                   0, nullptr, 2, loss_roles, 0, nullptr,
                   infer_fn, create_fn, destroy_fn, forward_fn, backward_fn, nullptr};
  plx_hparam_desc opt_hparams[2] = {{sizeof(plx_hparam_desc), "beta1", f64(0.9), 0, 0, "decay of m"},
                                    {sizeof(plx_hparam_desc), "beta2", f64(0.999), 0, 0, "decay of v"}};
  plx_state_desc opt_states[2] = {{sizeof(plx_state_desc), "m", PLX_STATE_LIKE_PARAM, 0, 0.0},
                                  {sizeof(plx_state_desc), "v", PLX_STATE_LIKE_PARAM, 0, 0.0}};
  plx_optimizer_desc opt{sizeof(plx_optimizer_desc), "adam", 1, PLX_OPT_ELEMENTWISE, "Adam", 2, opt_hparams,
                         2, opt_states, step_fn};
  const plx_op_desc* ops[2] = {&layer, &loss};
  const plx_optimizer_desc* opts[1] = {&opt};
  plx_plugin_desc desc{PLX_ABI_MAJOR, PLX_ABI_MINOR, sizeof(plx_plugin_desc), "test-plugin", "1.0.0", "0.1.0",
                       2, ops, 1, opts};

  Plugin() { layer_attrs[0].default_value.type = PLX_VALUE_I64; }
  Plugin(const Plugin&) = delete;
};

const std::string kFile = "/p/libtest.so";

TEST(Registry, ValidPluginRegistersEveryKernel) {
  Plugin p;
  Registry reg;
  reg.add_plugin(&p.desc, kFile);
  ASSERT_NE(reg.find_op("linear"), nullptr);
  EXPECT_EQ(reg.find_op("linear")->origin().file, kFile);
  EXPECT_EQ(reg.find_op("linear")->origin().plugin, "test-plugin");
  EXPECT_EQ(reg.find_op("linear")->origin().plugin_version, "1.0.0");
  // Ops keep a copy in this runtime's struct sizes, with the plugin's functions.
  EXPECT_EQ(reg.op("squared_error").desc().forward, p.loss.forward);
  EXPECT_STREQ(reg.op("linear").desc().params[1].name, "bias");
  EXPECT_EQ(&reg.optimizer("adam").desc(), &p.opt);
  EXPECT_EQ(reg.known_ops(), "linear, squared_error");
  EXPECT_EQ(reg.known_optimizers(), "adam");
}

TEST(Registry, UnknownNamesListTheKnownOnes) {
  Registry reg;
  try {
    reg.op("linear");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kNotFound);
    EXPECT_NE(std::string(e.what()).find("unknown kernel 'linear' (known: none"), std::string::npos) << e.what();
  }
  Plugin p;
  reg.add_plugin(&p.desc, kFile);
  try {
    reg.op("Conv");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), "unknown kernel 'Conv' (known: linear, squared_error)");
  }
  try {
    reg.optimizer("sgd");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), "unknown optimizer 'sgd' (known: adam)");
  }
  EXPECT_EQ(reg.find_optimizer("linear"), nullptr);
}

struct Case {
  const char* name;
  std::function<void(Plugin&)> mutate;
  ErrorCode code;
  std::vector<std::string> message;
};

std::vector<Case> cases() {
  return {
      {"major", [](Plugin& p) { p.desc.abi_major = 2; }, ErrorCode::kAbi,
       {"plugin in /p/libtest.so was built for plugin ABI 2." + std::to_string(PLX_ABI_MINOR) + "; this runtime speaks 1." + std::to_string(PLX_ABI_MINOR)}},
      {"minor", [](Plugin& p) { p.desc.abi_minor = PLX_ABI_MINOR + 1; }, ErrorCode::kAbi,
       {"plugin 'test-plugin' in /p/libtest.so needs plugin ABI 1." + std::to_string(PLX_ABI_MINOR + 1), "provides 1." + std::to_string(PLX_ABI_MINOR), "upgrade Plexus"}},
      {"plugin struct_size", [](Plugin& p) { p.desc.struct_size = 12; }, ErrorCode::kAbi,
       {"/p/libtest.so", "struct_size", "found 12"}},
      {"plugin name", [](Plugin& p) { p.desc.name = nullptr; }, ErrorCode::kAbi, {"name", "found NULL"}},
      {"plugin version", [](Plugin& p) { p.desc.version = nullptr; }, ErrorCode::kAbi, {"version", "found NULL"}},
      {"op table", [](Plugin& p) { p.desc.ops = nullptr; }, ErrorCode::kAbi,
       {"ops: op_count is 2 but the table pointer is NULL"}},
      {"null op", [](Plugin& p) { p.ops[1] = nullptr; }, ErrorCode::kAbi, {"ops[1]: expected a descriptor, found NULL"}},
      {"optimizer table", [](Plugin& p) { p.desc.optimizers = nullptr; }, ErrorCode::kAbi,
       {"optimizers: optimizer_count is 1"}},
      {"op struct_size", [](Plugin& p) { p.loss.struct_size = 100; }, ErrorCode::kAbi,
       {"loss 'squared_error': struct_size", "found 100"}},
      {"op name", [](Plugin& p) { p.loss.name = "Squared"; }, ErrorCode::kAbi,
       {"ops[1].name: expected a name matching [a-z][a-z0-9_]*, found 'Squared'"}},
      {"op name null", [](Plugin& p) { p.loss.name = nullptr; }, ErrorCode::kAbi, {"ops[1].name", "found NULL"}},
      {"kind", [](Plugin& p) { p.loss.kind = PLX_KIND_OPTIMIZER; }, ErrorCode::kAbi,
       {"'squared_error'", "kind: expected 1 (layer), 2 (activation) or 3 (loss), found 4"}},
      {"op flags", [](Plugin& p) { p.layer.flags = 1u << 7; }, ErrorCode::kAbi,
       {"layer 'linear': flags: unknown flag bits 0x80"}},
      {"attr table", [](Plugin& p) { p.layer.attrs = nullptr; }, ErrorCode::kAbi,
       {"layer 'linear': attrs: count is 1 but the table pointer is NULL"}},
      {"attr type", [](Plugin& p) { p.layer_attrs[0].default_value.type = 0; }, ErrorCode::kAbi,
       {"layer 'linear': attrs[0] 'out_features'.default_value.type", "found 0"}},
      {"str default", [](Plugin& p) { p.layer_attrs[0].default_value.type = PLX_VALUE_STR; }, ErrorCode::kAbi,
       {"attrs[0] 'out_features'.default_value", "found NULL"}},
      {"required flag", [](Plugin& p) { p.layer_attrs[0].required = 2; }, ErrorCode::kAbi,
       {"'out_features'.required: expected 0 or 1, found 2"}},
      {"attr struct_size", [](Plugin& p) { p.layer_attrs[0].struct_size = 8; }, ErrorCode::kAbi,
       {"attrs[0].struct_size", "found 8"}},
      {"attr name", [](Plugin& p) { p.layer_attrs[0].name = "outFeatures"; }, ErrorCode::kAbi,
       {"attrs[0].name", "found 'outFeatures'"}},
      {"doc utf8", [](Plugin& p) { p.layer_attrs[0].doc = "\xff\xfe"; }, ErrorCode::kAbi,
       {"'out_features'.doc: expected UTF-8 text"}},
      {"no inputs", [](Plugin& p) { p.layer.input_count = 0; }, ErrorCode::kAbi,
       {"layer 'linear': input_count: expected at least 1"}},
      {"input table", [](Plugin& p) { p.layer.inputs = nullptr; }, ErrorCode::kAbi, {"inputs: input_count is 1"}},
      {"loss inputs", [](Plugin& p) { p.loss.input_count = 1; }, ErrorCode::kAbi,
       {"loss 'squared_error': input_count: a loss takes exactly 2 inputs", "found 1"}},
      {"input role", [](Plugin& p) { p.loss_roles[1] = "prediction"; }, ErrorCode::kAbi,
       {"inputs[1]: input role 'prediction' is declared twice"}},
      {"params on loss", [](Plugin& p) {
         p.loss.param_count = 1;
         p.loss.params = p.layer_params;
       }, ErrorCode::kAbi, {"loss 'squared_error': param_count: only layers have parameters"}},
      {"param table", [](Plugin& p) { p.layer.params = nullptr; }, ErrorCode::kAbi, {"params: param_count is 2"}},
      {"param init", [](Plugin& p) { p.layer_params[1].default_init = 42; }, ErrorCode::kAbi,
       {"params[1] 'bias'.default_init", "found 42"}},
      {"param dup", [](Plugin& p) { p.layer_params[1].name = "weights"; }, ErrorCode::kAbi,
       {"params[1] 'weights': the name is declared twice"}},
      {"infer", [](Plugin& p) { p.layer.infer = nullptr; }, ErrorCode::kAbi, {"layer 'linear': infer: expected a function"}},
      {"create", [](Plugin& p) { p.layer.create = nullptr; }, ErrorCode::kAbi, {"create: expected a function"}},
      {"destroy", [](Plugin& p) { p.layer.destroy = nullptr; }, ErrorCode::kAbi, {"destroy: expected a function"}},
      {"forward", [](Plugin& p) { p.loss.forward = nullptr; }, ErrorCode::kAbi, {"forward: expected a function"}},
      {"backward", [](Plugin& p) { p.loss.backward = nullptr; }, ErrorCode::kAbi, {"backward: expected a function"}},
      {"step", [](Plugin& p) { p.opt.step = nullptr; }, ErrorCode::kAbi,
       {"optimizer 'adam': step: expected a function, found NULL"}},
      {"opt struct_size", [](Plugin& p) { p.opt.struct_size = 40; }, ErrorCode::kAbi,
       {"optimizer 'adam': struct_size", "found 40"}},
      {"opt flags", [](Plugin& p) { p.opt.flags = 6; }, ErrorCode::kAbi, {"optimizer 'adam': flags: unknown flag bits 0x6"}},
      {"hparam type", [](Plugin& p) { p.opt_hparams[1].default_value.type = 9; }, ErrorCode::kAbi,
       {"optimizer 'adam': hparams[1] 'beta2'.default_value.type", "found 9"}},
      {"hparam dup", [](Plugin& p) { p.opt_hparams[1].name = "beta1"; }, ErrorCode::kAbi,
       {"hparams[1] 'beta1': the name is declared twice"}},
      {"state table", [](Plugin& p) { p.opt.states = nullptr; }, ErrorCode::kAbi, {"states: state_count is 2"}},
      {"state rule", [](Plugin& p) { p.opt_states[1].shape_rule = 3; }, ErrorCode::kAbi,
       {"optimizer 'adam': states[1] 'v'.shape_rule", "found 3"}},
      {"state dup", [](Plugin& p) { p.opt_states[1].name = "m"; }, ErrorCode::kAbi,
       {"states[1] 'm': the name is declared twice"}},
      {"state name", [](Plugin& p) { p.opt_states[0].name = "2m"; }, ErrorCode::kAbi, {"states[0].name", "found '2m'"}},
      {"dup op names", [](Plugin& p) { p.loss.name = "linear"; }, ErrorCode::kPlugin,
       {"kernel name 'linear' is declared twice in this plugin"}},
      {"dup across kinds", [](Plugin& p) { p.opt.name = "linear"; }, ErrorCode::kPlugin,
       {"kernel name 'linear' is declared twice in this plugin"}},
  };
}

TEST(Registry, EveryMalformedDeclarationIsRefusedAndNothingRegisters) {
  for (const Case& c : cases()) {
    SCOPED_TRACE(c.name);
    Plugin p;
    c.mutate(p);
    Registry reg;
    try {
      reg.add_plugin(&p.desc, kFile);
      ADD_FAILURE() << "accepted";
    } catch (const Error& e) {
      const std::string m = e.what();
      EXPECT_EQ(e.code(), c.code) << m;
      EXPECT_NE(m.find(kFile), std::string::npos) << m;
      for (const std::string& part : c.message) EXPECT_NE(m.find(part), std::string::npos) << "lacks: " << part << "\n" << m;
    }
    EXPECT_TRUE(reg.ops().empty());
    EXPECT_TRUE(reg.optimizers().empty());
  }
}

TEST(Registry, MessagesNameThePlugin) {
  Plugin p;
  p.opt.step = nullptr;
  Registry reg;
  try {
    reg.add_plugin(&p.desc, kFile);
    FAIL() << "accepted";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()),
              "plugin 'test-plugin' in /p/libtest.so: optimizer 'adam': step: expected a function, found NULL");
  }
}

TEST(Registry, NullDescriptorIsRefused) {
  Registry reg;
  EXPECT_THROW(reg.add_plugin(nullptr, kFile), Error);
}

TEST(Registry, DuplicateAgainstRegisteredNamesBothFiles) {
  Plugin a;
  Registry reg;
  reg.add_plugin(&a.desc, "/a/liba.so");

  Plugin b;
  b.desc.name = "other-plugin";
  b.layer.name = "dense";  // new, valid: must still not register
  b.loss.name = "squared_error";
  try {
    reg.add_plugin(&b.desc, "/b/libb.so");
    FAIL() << "accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kPlugin);
    const std::string m = e.what();
    EXPECT_NE(m.find("/b/libb.so"), std::string::npos) << m;
    EXPECT_NE(m.find("kernel 'squared_error' is already registered from /a/liba.so (plugin 'test-plugin')"),
              std::string::npos)
        << m;
  }
  EXPECT_EQ(reg.find_op("dense"), nullptr);
  EXPECT_EQ(reg.op("squared_error").origin().file, "/a/liba.so");
  EXPECT_EQ(reg.ops().size(), 2u);
  EXPECT_EQ(reg.optimizers().size(), 1u);

  // Only the optimizer collides: the ops of the plugin must not register either.
  Plugin c;
  c.layer.name = "dense2";
  c.loss.name = "mse";
  try {
    reg.add_plugin(&c.desc, "/c/libc.so");
    FAIL() << "accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("kernel 'adam' is already registered from /a/liba.so"), std::string::npos);
  }
  EXPECT_EQ(reg.find_op("dense2"), nullptr);
  EXPECT_EQ(reg.find_op("mse"), nullptr);
}

TEST(Registry, OptionalFieldsMayBeNull) {
  Plugin p;
  p.layer.doc = nullptr;
  p.desc.sdk_version = nullptr;
  p.layer_params[0].doc = nullptr;
  p.loss.metric = nullptr;
  p.desc.optimizer_count = 0;
  p.desc.optimizers = nullptr;
  Registry reg;
  reg.add_plugin(&p.desc, kFile);
  EXPECT_EQ(reg.ops().size(), 2u);
  EXPECT_TRUE(reg.optimizers().empty());
}

}  // namespace
