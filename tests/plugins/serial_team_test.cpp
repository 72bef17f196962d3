// Small ops run on one OpenMP thread whatever the caller's team (kernel.cpp,
// kSerialElements): at creation, forward and backward. Larger ops keep the
// caller's team, and the caller's team size is restored after every call.
#include <plexus/kernel.hpp>
#include <plexus/plugin_loader.hpp>

#include <gtest/gtest.h>
#include <omp.h>

#include <string>
#include <vector>

namespace {

using plexus::Shape;
using plexus::Tensor;

struct Observed {
  float created, forward, backward;
};

Observed run(const plexus::OpKernel& op, const Shape& shape) {
  const std::vector<Shape> in{shape};
  auto inst = op.create("t", op.resolve_attrs({}, "t"), in);
  const std::vector<Tensor> src{Tensor::zeros(shape)};
  const Tensor y = inst->forward(src, {}, false);
  std::vector<Tensor> diff_src{Tensor::empty(shape)};
  inst->backward(src, {}, y, Tensor::zeros(shape), diff_src, {});
  return {y.data()[0], y.data()[1], diff_src[0].data()[0]};
}

TEST(SerialTeam, SmallOpsRunOnOneThreadLargeOpsKeepTheTeam) {
  plexus::Registry reg;
  plexus::PluginLoader loader(reg);
  loader.load_file(std::string(PLEXUS_FIXTURE_PLUGIN_DIR) + "/team/libfixture_team.so");
  const plexus::OpKernel& op = reg.op("fixture_team");
  const int saved = omp_get_max_threads();
  omp_set_num_threads(2);

  // src and dst of [N] touch 2N elements: below 32768 is serial.
  const Observed small = run(op, Shape{4, 4});
  EXPECT_EQ(small.created, 1.0f);
  EXPECT_EQ(small.forward, 1.0f);
  EXPECT_EQ(small.backward, 1.0f);
  EXPECT_EQ(omp_get_max_threads(), 2) << "the caller's team size is restored";

  const Observed edge = run(op, Shape{16383});  // 32766 elements
  EXPECT_EQ(edge.forward, 1.0f);
  const Observed large = run(op, Shape{16384});  // 32768 elements
  EXPECT_EQ(large.created, 2.0f);
  EXPECT_EQ(large.forward, 2.0f);
  EXPECT_EQ(large.backward, 2.0f);
  EXPECT_EQ(omp_get_max_threads(), 2);

  omp_set_num_threads(1);  // a serial op never raises a team of 1
  EXPECT_EQ(run(op, Shape{16384}).forward, 1.0f);
  omp_set_num_threads(saved);
}

}  // namespace
