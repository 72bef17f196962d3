// Experiment 6, LISTA vs ISTA (reduced run): ISTA through models/lista.pbtxt
// matches ISTA in double and its error falls with the iterations; LISTA-T,
// trained from the ISTA weights, beats ISTA after 8T iterations; the model
// file takes --set T overrides; the report files are written.
#include "experiment.hpp"

#include "support/test_support.hpp"

#include <plexus/npy.hpp>

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <string>

namespace plexus::experiments {
namespace {

TEST(Lista, ModelFileLoadsWithAnyDepth) {
  Runtime rt;
  const std::string path = test::source_path("models/lista.pbtxt");
  for (int64_t t : {0, 16}) {
    SCOPED_TRACE("T = " + std::to_string(t));
    proto::ModelDef def = load_model_def(path);
    set_model_vars(def, {{"T", t}}, path);
    Model model(rt, std::move(def), path);
    std::map<std::string, Shape> shapes;
    for (const auto& [name, shape] : model.param_shapes())
      if (shape.numel() > 0) shapes[name] = shape;  // bias=false linears have an empty bias
    EXPECT_EQ(shapes.at("W_e"), (Shape{256, 64}));
    EXPECT_EQ(shapes.at("theta"), (Shape{256}));
    if (t > 0) {
      EXPECT_EQ(shapes.at("S"), (Shape{256, 256}));
      EXPECT_EQ(shapes.size(), 3u);  // S and theta shared by every step
    } else {
      EXPECT_EQ(shapes.count("S"), 0u);
    }
    int steps = 0;
    for (const proto::NodeDef& n : model.def().nodes())
      if (n.name().rfind("lista.", 0) == 0 && n.name().ends_with(".z_next")) ++steps;
    EXPECT_EQ(steps, t);
  }
}

TEST(Lista, LearnedStepsBeatEightTimesAsManyIstaSteps) {
  Options o;
  o.models_dir = test::source_path("models");
  o.out_dir = test::temp_dir() + "/lista";
  o.reduced = true;
  o.seed = 1;
  o.log = [](const std::string& line) { std::printf("%s\n", line.c_str()); };
  const ListaResult r = run_lista(o);

  // ISTA's error never grows (up to f32 rounding) and ends far below where it starts.
  ASSERT_GE(r.ista_error.size(), 64u);
  for (size_t k = 1; k < r.ista_error.size(); ++k)
    EXPECT_LE(r.ista_error[k], r.ista_error[k - 1] * (1 + 1e-3) + 1e-7) << "k = " << k + 1;
  EXPECT_LT(r.ista_error.back(), 0.01 * r.ista_error.front());

  // The model with the ISTA weights is ISTA: its iterates match ISTA in double.
  ASSERT_FALSE(r.ista_check_k.empty());
  ASSERT_EQ(r.ista_check_max_diff.size(), r.ista_check_k.size());
  for (size_t c = 0; c < r.ista_check_k.size(); ++c) {
    const int64_t k = r.ista_check_k[c];
    EXPECT_LT(r.ista_check_max_diff[c], 1e-4) << "k = " << k;
    EXPECT_NEAR(r.ista_error[k - 1], r.ista_check_error[c], 1e-3 * r.ista_check_error[c] + 1e-7) << "k = " << k;
  }

  // LISTA-T, T + 1 layers, is at least as good as ISTA after 8T iterations.
  ASSERT_EQ(r.lista_T.size(), r.lista_error.size());
  ASSERT_EQ(r.lista_T.size(), r.ista_matching.size());
  ASSERT_FALSE(r.lista_T.empty());
  for (size_t i = 0; i < r.lista_T.size(); ++i) {
    const int64_t t = r.lista_T[i];
    if (t > 8) continue;
    EXPECT_LE(r.lista_error[i], r.ista_error[8 * t - 1]) << "T = " << t;
    EXPECT_GE(r.ista_matching[i], 8 * t) << "T = " << t;
    EXPECT_LT(r.lista_error[i], r.ista_error[t]) << "T = " << t << ": no better than ISTA with as many layers";
  }
  EXPECT_GT(r.train_seconds, 0.0);

  for (const char* f : {"lista.csv", "lista_models.csv", "lista.svg", "report.html", "ista.ckpt", "train_x.npy",
                        "train_z.npy", "test_x.npy", "test_z.npy"}) {
    const std::string file = o.out_dir + "/" + f;
    ASSERT_TRUE(std::filesystem::is_regular_file(file)) << file;
    EXPECT_GT(std::filesystem::file_size(file), 0u) << file;
  }

  // The same model file through the command line, its depth set by --set:
  // with the ISTA weights and T = 7 it is ISTA after 8 iterations (the loss
  // is 0.5 ||z - z*||^2 per sample), and LISTA-2 trained from them for one
  // epoch already beats ISTA after 3.
  const Tensor z_star = read_npy(o.out_dir + "/test_z.npy");
  double z_norm = 0.0;
  for (float v : z_star.span()) z_norm += static_cast<double>(v) * v;
  const double n = static_cast<double>(z_star.dim(0));
  auto ista_loss = [&](int64_t k) { return 0.5 * r.ista_error[static_cast<size_t>(k - 1)] * z_norm / n; };
  const std::string cli = std::string(PLEXUS_BINARY_DIR) + "/bin/plexus ";
  const std::string model = test::source_path("models/lista.pbtxt");
  const std::string test_data = "npy:" + o.out_dir + "/test_x.npy,labels=" + o.out_dir + "/test_z.npy";
  const test::ProcessResult eval = test::run_shell(cli + "eval " + model + " --set T=7 --weights " + o.out_dir +
                                                   "/ista.ckpt --data " + test_data + " --json --threads 1 2>&1");
  ASSERT_EQ(eval.code, 0) << eval.out;
  const size_t at = eval.out.find("\"loss\": ");
  ASSERT_NE(at, std::string::npos) << eval.out;
  EXPECT_NEAR(std::stod(eval.out.substr(at + 8)), ista_loss(8), 1e-4 * ista_loss(8)) << eval.out;

  const test::ProcessResult train = test::run_shell(
      cli + "train " + model + " --set T=2 --init " + o.out_dir + "/ista.ckpt --data npy:" + o.out_dir +
      "/train_x.npy,labels=" + o.out_dir + "/train_z.npy --test-data " + test_data + " --epochs 1 --threads 1 2>&1");
  ASSERT_EQ(train.code, 0) << train.out;
  const size_t final_loss = train.out.rfind(", loss ");
  ASSERT_NE(final_loss, std::string::npos) << train.out;
  EXPECT_LT(std::stod(train.out.substr(final_loss + 7)), ista_loss(3)) << train.out;
}

}  // namespace
}  // namespace plexus::experiments
