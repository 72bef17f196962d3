// Experiment 1 (reduced): logistic regression separates the separable set
// perfectly and stays near chance on the rings; a 16-unit ReLU network gets
// the rings right.
#include "experiment_support.hpp"

namespace plexus {
namespace {

TEST(Separability, LineSeparatesOnlySeparableDataAndHiddenLayerBendsAroundRings) {
  const experiments::Options o = test::reduced_options();
  const experiments::SeparabilityResult r = experiments::run_separability(o);
  EXPECT_EQ(r.logreg_separable_acc, 1.0);
  // Balanced rings: no line does much better than labelling everything alike.
  EXPECT_GE(r.logreg_rings_acc, 0.35);
  EXPECT_LE(r.logreg_rings_acc, 0.65);
  EXPECT_GE(r.mlp_rings_acc, 0.95);
  test::expect_outputs(o.out_dir, {"separability.csv", "separability_points.csv", "separability.svg", "report.html"});
}

TEST(Separability, MissingModelFolderNamesTheFileAndTheFlag) {
  experiments::Options o = test::reduced_options();
  o.models_dir = o.out_dir + "/nowhere";
  test::expect_error([&] { experiments::run_separability(o); }, ErrorCode::kNotFound,
                     {"nowhere/logreg_2d.pbtxt", "--models"});
}

}  // namespace
}  // namespace plexus
