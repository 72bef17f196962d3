// Broken optimizer plugins: training stops with an error naming the plugin and
// the parameter, the last good checkpoint is never overwritten, and
// --on-nan=skip-step undoes a step that writes NaN/Inf and keeps going.
#include <plexus/checkpoint.hpp>
#include <plexus/error.hpp>
#include <plexus/trainer.hpp>

#include "support/test_support.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace plexus {
namespace {

std::string fixture(const std::string& c) {
  return std::string(PLEXUS_FIXTURE_PLUGIN_DIR) + "/" + c + "/libfixture_" + c + ".so";
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

struct Case {
  const char* fixture;
  const char* optimizer;
  ErrorCode code;
  const char* says;
};

TEST(MisbehavingOptimizer, StopsNamesPluginAndParameterKeepsCheckpoint) {
  const Case cases[] = {
      {"step_error", "fixture_step_error", ErrorCode::kNumeric, "not finite"},
      {"step_throws", "fixture_step_throws", ErrorCode::kPlugin, "fixture_step_throws"},
      {"writes_nan", "fixture_writes_nan", ErrorCode::kNumeric, "NaN or Inf"},
  };
  const std::string path = test::source_path("models/logreg_breast_cancer.pbtxt");
  const proto::ModelDef def = load_model_def(path);
  const Dataset train =
      load_dataset(data_spec_from_proto(def.train().train_data(), path.substr(0, path.find_last_of('/'))));
  for (const Case& c : cases) {
    SCOPED_TRACE(c.fixture);
    RuntimeOptions ro;
    ro.threads = 1;
    ro.plugin_files = {fixture(c.fixture)};
    Runtime rt(ro);
    const std::string ck = test::temp_dir() + "/good.ckpt";
    {  // a good checkpoint from sgd
      Model m(rt, def, path);
      TrainOptions o;
      o.save_path = ck;
      Trainer(m, o).fit(train, nullptr);
    }
    const std::string before = slurp(ck);
    Model m(rt, def, path);
    TrainOptions o;
    o.optimizer = c.optimizer;
    o.save_path = ck;
    o.save_every = 1;
    Trainer t(m, o);
    try {
      t.fit(train, nullptr);
      ADD_FAILURE() << "training went on";
    } catch (const Error& e) {
      const std::string msg = e.what();
      EXPECT_EQ(static_cast<int>(e.code()), static_cast<int>(c.code)) << msg;
      for (const std::string& part : std::vector<std::string>{c.optimizer, "score.", c.says, fixture(c.fixture)})
        EXPECT_NE(msg.find(part), std::string::npos) << "'" << part << "' not in: " << msg;
    }
    EXPECT_EQ(slurp(ck), before) << "the last good checkpoint was overwritten";
  }
}

TEST(MisbehavingOptimizer, SkipStepUndoesNonFiniteUpdates) {
  RuntimeOptions ro;
  ro.threads = 1;
  ro.plugin_files = {fixture("writes_nan")};
  Runtime rt(ro);
  const std::string path = test::source_path("models/logreg_breast_cancer.pbtxt");
  const proto::ModelDef def = load_model_def(path);
  const Dataset train =
      load_dataset(data_spec_from_proto(def.train().train_data(), path.substr(0, path.find_last_of('/'))));
  Model m(rt, def, path);
  TrainOptions o;
  o.optimizer = "fixture_writes_nan";
  o.on_nan = "skip-step";
  Trainer t(m, o);
  auto history = t.fit(train, nullptr);
  ASSERT_EQ(history.size(), 1u);
  EXPECT_EQ(history[0].skipped_steps, 15);  // every step of the epoch: 455 samples, batch 32
  for (const auto& [name, shape] : m.param_shapes())
    for (float v : m.param(name).span()) EXPECT_TRUE(std::isfinite(v)) << name;
}

}  // namespace
}  // namespace plexus
