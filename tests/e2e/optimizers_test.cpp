// Every built-in optimizer, wired through the trainer: it trains the MNIST MLP
// (training loss at least halved in one epoch), and resuming from a
// checkpoint continues bit-identically (2N steps == N + save + load + N).
#include <plexus/checkpoint.hpp>
#include <plexus/trainer.hpp>

#include "support/test_support.hpp"

#include <gtest/gtest.h>

namespace plexus {
namespace {

using test::same_bits;

// Learning rates that suit each kernel on this model (one epoch, batch 32).
double lr_for(const std::string& name) {
  if (name == "sgd") return 0.05;
  if (name == "momentum") return 0.01;
  if (name == "adagrad") return 0.02;
  return 1e-3;  // rmsprop, adam, adamw and anything adaptive
}

struct Mnist {
  Runtime rt{[] {
    RuntimeOptions o;
    o.threads = 2;
    return o;
  }()};
  std::string path = test::source_path("models/mnist_mlp.pbtxt");
  Dataset train;
  Mnist() {
    proto::ModelDef def = load_model_def(path);
    train = load_dataset(data_spec_from_proto(def.train().train_data(), path.substr(0, path.find_last_of('/'))));
  }
};

std::vector<std::string> optimizers(const Runtime& rt) {
  std::vector<std::string> names;
  for (const auto& [name, k] : rt.registry().optimizers())
    if (k->origin().file.find("libplexus_optimizers") != std::string::npos) names.push_back(name);
  return names;
}

TEST(Optimizers, EachHalvesTheMnistTrainingLossInOneEpoch) {
  Mnist m;
  const auto names = optimizers(m.rt);
  ASSERT_FALSE(names.empty());
  for (const std::string& name : names) {
    Model model(m.rt, load_model_def(m.path), m.path);
    TrainOptions o;
    o.epochs = 1;
    o.batch_size = 32;
    o.optimizer = name;
    o.hparams["lr"] = AttrValue(lr_for(name));
    o.seed = 3;
    Model initial(m.rt, load_model_def(m.path), m.path);
    initial.init_params(o.seed);  // what fit() starts from: initialization is seeded
    const double before = evaluate(initial, m.train).loss;
    Trainer t(model, o);
    t.fit(m.train, nullptr);
    const double after = evaluate(model, m.train).loss;
    EXPECT_LE(after, 0.5 * before) << name << ": training loss " << before << " -> " << after;
  }
}

TEST(Optimizers, ResumeFromCheckpointIsBitIdentical) {
  Runtime rt{[] {
    RuntimeOptions o;
    o.threads = 1;
    return o;
  }()};
  const std::string path = test::source_path("models/logreg_breast_cancer.pbtxt");
  proto::ModelDef def = load_model_def(path);
  Dataset train = load_dataset(data_spec_from_proto(def.train().train_data(), path.substr(0, path.find_last_of('/'))));
  const std::string dir = test::temp_dir();
  for (const std::string& name : optimizers(rt)) {
    TrainOptions o;
    o.batch_size = 16;
    o.optimizer = name;
    o.hparams["lr"] = AttrValue(lr_for(name));
    o.hparams["lr_schedule"] = AttrValue(std::string("cosine"));
    o.hparams["lr_warmup"] = AttrValue(int64_t{5});
    o.seed = 11;
    // One run of 2 epochs.
    Model a(rt, def, path);
    o.epochs = 2;
    Trainer ta(a, o);
    ta.fit(train, nullptr);
    // 1 epoch, save, load into a fresh model and trainer, 1 more epoch.
    Model b(rt, def, path);
    o.epochs = 1;
    o.hparams["lr_total"] = AttrValue(ta.step());  // the same schedule as the 2-epoch run
    o.save_path = dir + "/" + name + ".ckpt";
    Trainer tb(b, o);
    tb.fit(train, nullptr);
    Model c(rt, def, path);
    o.save_path.clear();
    Trainer tc(c, o);
    tc.restore(load_checkpoint(dir + "/" + name + ".ckpt"));
    tc.fit(train, nullptr);
    EXPECT_EQ(tc.step(), ta.step()) << name;
    for (const auto& [p, shape] : a.param_shapes()) EXPECT_TRUE(same_bits(a.param(p), c.param(p))) << name << " " << p;
    for (const auto& [p, shape] : a.param_shapes())
      for (size_t s = 0; s < ta.optimizer().state(p).size(); ++s)
        EXPECT_TRUE(same_bits(ta.optimizer().state(p)[s], tc.optimizer().state(p)[s])) << name << " " << p << " slot " << s;
  }
}

}  // namespace
}  // namespace plexus
