// A training step in steady state creates no primitive (no op instance, no
// reorder) and takes no tensor memory from the system: counted, not timed.
#include <plexus/data.hpp>
#include <plexus/layout.hpp>
#include <plexus/model.hpp>
#include <plexus/trainer.hpp>

#include "support/test_support.hpp"

#include <gtest/gtest.h>

#include <numeric>

namespace plexus {
namespace {

void check_steady_state(const std::string& rel, bool blocked) {
  const std::string path = test::source_path(rel);
  RuntimeOptions ro;
  ro.threads = 2;
  ro.blocked_layouts = blocked;
  Runtime rt(ro);
  Model model(rt, path);
  const std::string dir = path.substr(0, path.find_last_of('/'));
  Dataset data = load_dataset(data_spec_from_proto(model.def().train().train_data(), dir));
  TrainOptions opt;
  opt.optimizer = "momentum";
  opt.hparams["lr"] = AttrValue(0.01);
  Trainer trainer(model, opt);
  auto feeds_at = [&](int64_t b) {
    std::vector<int64_t> idx(32);
    std::iota(idx.begin(), idx.end(), b * 32);
    Tensor x = gather_rows(data.features, idx);
    std::vector<int64_t> dims{32};
    const Shape per = model.input_shape(model.feature_input());
    for (int d = 0; d < per.ndim(); ++d) dims.push_back(per[d]);
    return std::map<std::string, Tensor>{{model.feature_input(), x.reshape(Shape(std::span<const int64_t>(dims)))},
                                         {model.label_input(), gather_rows(data.labels, idx)}};
  };
  for (int64_t b = 0; b < 3; ++b) trainer.train_step(feeds_at(b));  // warm-up: instances, pool blocks
  const CacheStats before = cache_stats();
  const uint64_t allocations = Pool::global()->system_allocations();
  for (int64_t b = 3; b < 8; ++b) trainer.train_step(feeds_at(b));
  const CacheStats after = cache_stats();
  EXPECT_EQ(after.op_instances_created, before.op_instances_created) << rel;
  EXPECT_EQ(after.reorders_created, before.reorders_created) << rel;
  EXPECT_GT(after.op_instance_hits, before.op_instance_hits) << rel;
  EXPECT_EQ(Pool::global()->system_allocations(), allocations) << rel << ": steps took memory from the system";
  if (blocked) {
    EXPECT_GT(after.reorder_hits, before.reorder_hits) << rel << ": no blocked tensor met a plain op";
  }
}

TEST(SteadyState, LenetStepCreatesNothing) { check_steady_state("models/mnist_lenet.pbtxt", true); }
TEST(SteadyState, LenetPlainStepCreatesNothing) { check_steady_state("models/mnist_lenet.pbtxt", false); }
TEST(SteadyState, ResnetStepCreatesNothing) { check_steady_state("models/mnist_resnet_small.pbtxt", true); }
TEST(SteadyState, MlpStepCreatesNothing) { check_steady_state("models/mnist_mlp.pbtxt", false); }

}  // namespace
}  // namespace plexus
