// threads = 1: the runtime starts no thread at all. Inference, training and
// evaluation run on the calling thread. Its own executable (one test), so no
// other test has started threads in the process before it counts them.
#include "support/test_support.hpp"

#include <plexus/data.hpp>
#include <plexus/session.hpp>
#include <plexus/trainer.hpp>

#include <gtest/gtest.h>

#include <filesystem>

namespace plexus {
namespace {

size_t thread_count() {
  size_t n = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator("/proc/self/task")) ++n;
  return n;
}

TEST(SingleThread, ABudgetOfOneStartsNoThreads) {
  const size_t before = thread_count();
  RuntimeOptions o;
  o.threads = 1;
  Runtime rt(o);
  Model model(rt, test::source_path("models/mnist_mlp.pbtxt"));
  const Dataset data = load_dataset(
      data_spec_from_proto(model.def().train().test_data(), test::source_path("models")));
  TrainOptions t;
  t.epochs = 1;
  t.batch_size = 64;
  t.optimizer = "adam";
  t.hparams["lr"] = AttrValue(0.001);
  Trainer trainer(model, t);
  trainer.fit(data, nullptr);
  Session s(model);
  const Tensor probs = s.run({{"image", data.features}}).at("fc3");
  EXPECT_EQ(probs.dim(0), data.size());
  EXPECT_GT(trainer.evaluate(data).accuracy, 0.5);
  EXPECT_EQ(thread_count(), before);
}

}  // namespace
}  // namespace plexus
