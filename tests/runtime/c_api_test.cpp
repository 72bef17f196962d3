// The C embedding API (plexus.h): every function refuses NULL, destroyed and
// wrong-kind handles with a message naming it; the last error is per thread;
// load errors carry the right status; lifetimes are enforced (BUSY); inference
// matches the C++ Session bit for bit, also from four threads; a training
// loop through plx_trainer_step learns MNIST; checkpoints round-trip.
#include <plexus/plexus.h>

#include <plexus/data.hpp>
#include <plexus/model.hpp>
#include <plexus/session.hpp>

#include "support/test_support.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <fstream>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace {

template <auto Fn>
struct Destroy {
  template <typename T>
  void operator()(T* p) const {
    EXPECT_EQ(Fn(p), PLX_STATUS_OK) << plx_last_error();
  }
};
using RuntimePtr = std::unique_ptr<plx_runtime, Destroy<plx_runtime_destroy>>;
using ModelPtr = std::unique_ptr<plx_model, Destroy<plx_model_destroy>>;
using SessionPtr = std::unique_ptr<plx_session, Destroy<plx_session_destroy>>;
using TrainerPtr = std::unique_ptr<plx_trainer, Destroy<plx_trainer_destroy>>;
using TensorPtr = std::unique_ptr<plx_tensor, Destroy<plx_tensor_destroy>>;

const std::string kMnist = plexus::test::source_path("models/mnist_mlp.pbtxt");

/// `status` is `want` and plx_last_error() holds every one of `parts`.
void expect_status(plx_status status, plx_status want, const std::vector<std::string>& parts, const char* call) {
  EXPECT_EQ(status, want) << call << ": " << plx_last_error();
  const std::string msg = plx_last_error();
  for (const std::string& p : parts) EXPECT_NE(msg.find(p), std::string::npos) << call << ": '" << p << "' not in: " << msg;
}
#define EXPECT_PLX(call, want, ...) expect_status((call), (want), {__VA_ARGS__}, #call)
#define ASSERT_OK(call) ASSERT_EQ((call), PLX_STATUS_OK) << #call << ": " << plx_last_error()

RuntimePtr make_runtime(int32_t threads = 0, int32_t default_plugins = 1) {
  plx_runtime_options o;
  EXPECT_EQ(plx_runtime_options_init(&o), PLX_STATUS_OK);
  o.threads = threads;
  o.load_default_plugins = default_plugins;
  plx_runtime* rt = nullptr;
  EXPECT_EQ(plx_runtime_create(&o, &rt), PLX_STATUS_OK) << plx_last_error();
  return RuntimePtr(rt);
}

ModelPtr load_model(plx_runtime* rt, const char* checkpoint = nullptr) {
  plx_model* m = nullptr;
  EXPECT_EQ(plx_model_load(rt, kMnist.c_str(), checkpoint, &m), PLX_STATUS_OK) << plx_last_error();
  return ModelPtr(m);
}

std::vector<int64_t> shape_of(const plx_tensor* t) {
  int64_t dims[PLX_MAX_NDIM];
  int32_t ndim = 0;
  EXPECT_EQ(plx_tensor_shape(t, dims, PLX_MAX_NDIM, &ndim), PLX_STATUS_OK) << plx_last_error();
  return std::vector<int64_t>(dims, dims + ndim);
}

const float* data_of(const plx_tensor* t) {
  const float* d = nullptr;
  EXPECT_EQ(plx_tensor_data(t, &d), PLX_STATUS_OK) << plx_last_error();
  return d;
}

/// A view of rows [begin, end) of a batch-first tensor.
struct Rows {
  std::vector<int64_t> shape;
  plx_view view{};
  Rows(const plx_tensor* t, int64_t begin, int64_t end) : shape(shape_of(t)) {
    int64_t row = 1;
    for (size_t i = 1; i < shape.size(); ++i) row *= shape[i];
    shape[0] = end - begin;
    view = {data_of(t) + begin * row, PLX_DTYPE_F32, static_cast<int32_t>(shape.size()), shape.data()};
  }
};

/// Runs the session on rows [begin, end) of the images; the model output.
TensorPtr run_rows(plx_session* s, const plx_tensor* images, int64_t begin, int64_t end) {
  Rows r(images, begin, end);
  const char* name = "image";
  plx_tensor* out = nullptr;
  EXPECT_EQ(plx_session_run(s, 1, &name, &r.view, 1, nullptr, &out), PLX_STATUS_OK) << plx_last_error();
  return TensorPtr(out);
}

double accuracy(const plx_tensor* logits, const plx_tensor* labels, int64_t begin) {
  const std::vector<int64_t> s = shape_of(logits);
  const float* p = data_of(logits);
  const float* y = data_of(labels) + begin;
  int64_t correct = 0;
  for (int64_t i = 0; i < s[0]; ++i) {
    int64_t best = 0;
    for (int64_t c = 1; c < s[1]; ++c)
      if (p[i * s[1] + c] > p[i * s[1] + best]) best = c;
    correct += best == static_cast<int64_t>(y[i]);
  }
  return static_cast<double>(correct) / static_cast<double>(s[0]);
}

bool same_bytes(const plx_tensor* a, const plx_tensor* b) {
  int64_t na = 0, nb = 0;
  plx_tensor_numel(a, &na);
  plx_tensor_numel(b, &nb);
  return shape_of(a) == shape_of(b) && std::memcmp(data_of(a), data_of(b), static_cast<size_t>(na) * 4) == 0;
}

/// Every function that takes a handle, called with the given (possibly bad)
/// handles and otherwise valid arguments: {function name, call}.
struct Call {
  const char* fn;
  const char* kind;  // of the handle argument
  std::function<plx_status()> run;
};
std::vector<Call> calls_with(plx_runtime* rt, plx_model* m, plx_session* s, plx_trainer* t, plx_tensor* x) {
  static int32_t i32;
  static int64_t i64, dims[PLX_MAX_NDIM];
  static const char* str;
  static const float* f;
  static plx_view view;
  static plx_model* model_out;
  static plx_session* session_out;
  static plx_trainer* trainer_out;
  static plx_tensor *t1, *t2;
  static const char* image = "image";
  static const float pixels[784] = {};
  static const int64_t shape[2] = {1, 784};
  static const plx_view input = {pixels, PLX_DTYPE_F32, 2, shape};
  const std::string ck = plexus::test::temp_dir() + "/x.ckpt";
  return {
      {"plx_runtime_threads", "plx_runtime", [=] { return plx_runtime_threads(rt, &i32); }},
      {"plx_runtime_destroy", "plx_runtime", [=] { return plx_runtime_destroy(rt); }},
      {"plx_model_load", "plx_runtime", [=] { return plx_model_load(rt, kMnist.c_str(), nullptr, &model_out); }},
      {"plx_model_init_params", "plx_model", [=] { return plx_model_init_params(m, 1); }},
      {"plx_model_load_weights", "plx_model", [=] { return plx_model_load_weights(m, ck.c_str()); }},
      {"plx_model_save_weights", "plx_model", [=] { return plx_model_save_weights(m, ck.c_str()); }},
      {"plx_model_input_count", "plx_model", [=] { return plx_model_input_count(m, &i32); }},
      {"plx_model_input_name", "plx_model", [=] { return plx_model_input_name(m, 0, &str); }},
      {"plx_model_input_source", "plx_model", [=] { return plx_model_input_source(m, 0, &str); }},
      {"plx_model_input_shape", "plx_model", [=] { return plx_model_input_shape(m, "image", dims, 8, &i32); }},
      {"plx_model_output_name", "plx_model", [=] { return plx_model_output_name(m, &str); }},
      {"plx_model_load_data", "plx_model", [=] { return plx_model_load_data(m, "test", &t1, &t2); }},
      {"plx_model_destroy", "plx_model", [=] { return plx_model_destroy(m); }},
      {"plx_session_create", "plx_model", [=] { return plx_session_create(m, &session_out); }},
      {"plx_session_create_pinned", "plx_model", [=] { return plx_session_create_pinned(m, 1, &session_out); }},
      {"plx_trainer_create", "plx_model", [=] { return plx_trainer_create(m, "sgd", "lr=0.1", 1, &trainer_out); }},
      {"plx_session_run", "plx_session", [=] { return plx_session_run(s, 1, &image, &input, 1, nullptr, &t1); }},
      {"plx_session_destroy", "plx_session", [=] { return plx_session_destroy(s); }},
      {"plx_trainer_step", "plx_trainer", [=] { return plx_trainer_step(t, 1, &image, &input, nullptr); }},
      {"plx_trainer_save", "plx_trainer", [=] { return plx_trainer_save(t, ck.c_str()); }},
      {"plx_trainer_destroy", "plx_trainer", [=] { return plx_trainer_destroy(t); }},
      {"plx_tensor_get_view", "plx_tensor", [=] { return plx_tensor_get_view(x, &view); }},
      {"plx_tensor_data", "plx_tensor", [=] { return plx_tensor_data(x, &f); }},
      {"plx_tensor_shape", "plx_tensor", [=] { return plx_tensor_shape(x, dims, 8, &i32); }},
      {"plx_tensor_numel", "plx_tensor", [=] { return plx_tensor_numel(x, &i64); }},
      {"plx_tensor_destroy", "plx_tensor", [=] { return plx_tensor_destroy(x); }},
  };
}

/// Live handles of every kind, released in order.
struct Live {
  RuntimePtr rt = make_runtime();
  ModelPtr model = load_model(rt.get());
  SessionPtr session;
  TrainerPtr trainer;
  TensorPtr tensor;
  Live() {
    plx_session* s = nullptr;
    plx_trainer* t = nullptr;
    plx_tensor* x = nullptr;
    const float v[2] = {1, 2};
    const int64_t shape[1] = {2};
    const plx_view view = {v, PLX_DTYPE_F32, 1, shape};
    EXPECT_EQ(plx_session_create(model.get(), &s), PLX_STATUS_OK) << plx_last_error();
    EXPECT_EQ(plx_trainer_create(model.get(), nullptr, nullptr, 1, &t), PLX_STATUS_OK) << plx_last_error();
    EXPECT_EQ(plx_tensor_from_view(&view, &x), PLX_STATUS_OK) << plx_last_error();
    session.reset(s);
    trainer.reset(t);
    tensor.reset(x);
  }
};

TEST(CApiHandles, NullHandleIsInvalidForEveryFunction) {
  for (const Call& c : calls_with(nullptr, nullptr, nullptr, nullptr, nullptr)) {
    SCOPED_TRACE(c.fn);
    expect_status(c.run(), PLX_STATUS_INVALID,
                  {std::string(c.fn) + ": ", "is NULL", std::string("not a live ") + c.kind + " handle"}, c.fn);
  }
}

TEST(CApiHandles, DestroyedHandleIsInvalidForEveryFunction) {
  plx_runtime* rt;
  plx_model* m;
  plx_session* s;
  plx_trainer* t;
  plx_tensor* x;
  {
    Live live;
    rt = live.rt.get();
    m = live.model.get();
    s = live.session.get();
    t = live.trainer.get();
    x = live.tensor.get();
  }
  for (const Call& c : calls_with(rt, m, s, t, x)) {
    SCOPED_TRACE(c.fn);
    expect_status(c.run(), PLX_STATUS_INVALID,
                  {std::string(c.fn) + ": ", std::string("is not a live ") + c.kind + " handle", "destroyed"}, c.fn);
  }
}

TEST(CApiHandles, WrongKindHandleIsInvalidForEveryFunction) {
  Live live;
  // Every handle argument gets a live handle of another kind.
  auto* rt = reinterpret_cast<plx_runtime*>(live.model.get());
  auto* m = reinterpret_cast<plx_model*>(live.session.get());
  auto* s = reinterpret_cast<plx_session*>(live.trainer.get());
  auto* t = reinterpret_cast<plx_trainer*>(live.tensor.get());
  auto* x = reinterpret_cast<plx_tensor*>(live.rt.get());
  for (const Call& c : calls_with(rt, m, s, t, x)) {
    SCOPED_TRACE(c.fn);
    expect_status(c.run(), PLX_STATUS_INVALID, {std::string(c.fn) + ": ", std::string("not a live ") + c.kind + " handle"}, c.fn);
  }
  EXPECT_PLX(plx_session_destroy(reinterpret_cast<plx_session*>(live.model.get())), PLX_STATUS_INVALID,
             "'session' is a plx_model handle, not a live plx_session handle");
}

TEST(CApiHandles, NullOutPointersAndArgumentsAreInvalid) {
  Live live;
  plx_model* m = live.model.get();
  plx_tensor* x = live.tensor.get();
  plx_tensor* t = nullptr;
  int32_t n = 0;
  EXPECT_PLX(plx_runtime_options_init(nullptr), PLX_STATUS_INVALID, "plx_runtime_options_init: 'opts' is NULL");
  EXPECT_PLX(plx_runtime_create(nullptr, nullptr), PLX_STATUS_INVALID, "plx_runtime_create: 'out' is NULL");
  EXPECT_PLX(plx_runtime_threads(live.rt.get(), nullptr), PLX_STATUS_INVALID, "'threads' is NULL");
  EXPECT_PLX(plx_model_load(live.rt.get(), kMnist.c_str(), nullptr, nullptr), PLX_STATUS_INVALID, "'out' is NULL");
  EXPECT_PLX(plx_model_load(live.rt.get(), nullptr, nullptr, reinterpret_cast<plx_model**>(&t)), PLX_STATUS_INVALID,
             "'model_path' is NULL");
  EXPECT_PLX(plx_model_input_count(m, nullptr), PLX_STATUS_INVALID, "'count' is NULL");
  EXPECT_PLX(plx_model_input_name(m, 0, nullptr), PLX_STATUS_INVALID, "'name' is NULL");
  EXPECT_PLX(plx_model_input_source(m, 0, nullptr), PLX_STATUS_INVALID, "'source' is NULL");
  EXPECT_PLX(plx_model_input_shape(m, "image", nullptr, 0, nullptr), PLX_STATUS_INVALID, "'ndim' is NULL");
  EXPECT_PLX(plx_model_input_shape(m, nullptr, nullptr, 0, &n), PLX_STATUS_INVALID, "'name' is NULL");
  EXPECT_PLX(plx_model_output_name(m, nullptr), PLX_STATUS_INVALID, "'name' is NULL");
  EXPECT_PLX(plx_model_load_data(m, "test", nullptr, &t), PLX_STATUS_INVALID, "'features' is NULL");
  EXPECT_PLX(plx_model_load_data(m, "test", &t, nullptr), PLX_STATUS_INVALID, "'labels' is NULL");
  EXPECT_PLX(plx_model_load_weights(m, nullptr), PLX_STATUS_INVALID, "'checkpoint_path' is NULL");
  EXPECT_PLX(plx_model_save_weights(m, ""), PLX_STATUS_INVALID, "'checkpoint_path' is an empty string");
  EXPECT_PLX(plx_session_create(m, nullptr), PLX_STATUS_INVALID, "'out' is NULL");
  EXPECT_PLX(plx_session_create_pinned(m, 1, nullptr), PLX_STATUS_INVALID, "'out' is NULL");
  plx_session* pinned = nullptr;
  EXPECT_PLX(plx_session_create_pinned(m, 0, &pinned), PLX_STATUS_INVALID, "threads_per_call is 0");
  EXPECT_EQ(pinned, nullptr);
  EXPECT_PLX(plx_session_run(live.session.get(), 0, nullptr, nullptr, 1, nullptr, nullptr), PLX_STATUS_INVALID,
             "'outputs' is NULL");
  EXPECT_PLX(plx_session_run(live.session.get(), 1, nullptr, nullptr, 1, nullptr, &t), PLX_STATUS_INVALID,
             "'input_names' is NULL");
  EXPECT_PLX(plx_trainer_create(m, "sgd", nullptr, 0, nullptr), PLX_STATUS_INVALID, "'out' is NULL");
  EXPECT_PLX(plx_trainer_save(live.trainer.get(), nullptr), PLX_STATUS_INVALID, "'checkpoint_path' is NULL");
  EXPECT_PLX(plx_tensor_from_view(nullptr, &t), PLX_STATUS_INVALID, "'view' is NULL");
  EXPECT_PLX(plx_tensor_get_view(x, nullptr), PLX_STATUS_INVALID, "'view' is NULL");
  EXPECT_PLX(plx_tensor_data(x, nullptr), PLX_STATUS_INVALID, "'data' is NULL");
  EXPECT_PLX(plx_tensor_shape(x, nullptr, 0, nullptr), PLX_STATUS_INVALID, "'ndim' is NULL");
  EXPECT_PLX(plx_tensor_numel(x, nullptr), PLX_STATUS_INVALID, "'numel' is NULL");
}

TEST(CApiErrors, LastErrorIsPerThread) {
  std::string before_in_b, after_in_b, in_a;
  std::thread a([&] {
    EXPECT_EQ(plx_model_init_params(nullptr, 1), PLX_STATUS_INVALID);
    std::thread b([&] {
      before_in_b = plx_last_error();
      EXPECT_EQ(plx_tensor_numel(nullptr, nullptr), PLX_STATUS_INVALID);
      after_in_b = plx_last_error();
    });
    b.join();
    in_a = plx_last_error();
  });
  a.join();
  EXPECT_EQ(before_in_b, "");
  EXPECT_NE(after_in_b.find("plx_tensor_numel"), std::string::npos) << after_in_b;
  EXPECT_NE(in_a.find("plx_model_init_params"), std::string::npos) << in_a;
  EXPECT_EQ(in_a.find("plx_tensor_numel"), std::string::npos) << in_a;
}

TEST(CApiErrors, VersionAndLastErrorSurvivesSuccess) {
  EXPECT_STRNE(plx_version(), "");
  EXPECT_EQ(plx_tensor_destroy(nullptr), PLX_STATUS_INVALID);
  RuntimePtr rt = make_runtime(1);
  int32_t threads = 0;
  ASSERT_OK(plx_runtime_threads(rt.get(), &threads));
  EXPECT_EQ(threads, 1);
  EXPECT_NE(std::string(plx_last_error()).find("plx_tensor_destroy"), std::string::npos);
}

TEST(CApiLoad, ErrorsCarryStatusAndNameTheFile) {
  RuntimePtr rt = make_runtime();
  plx_model* m = nullptr;
  const std::string dir = plexus::test::temp_dir();
  EXPECT_PLX(plx_model_load(rt.get(), (dir + "/missing.pbtxt").c_str(), nullptr, &m), PLX_STATUS_IO,
             "plx_model_load: ", "missing.pbtxt");
  EXPECT_EQ(m, nullptr);
  std::ofstream(dir + "/bad.pbtxt") << "format_version: 1\nnodes { name: \"a\" kernel: }\n";
  EXPECT_PLX(plx_model_load(rt.get(), (dir + "/bad.pbtxt").c_str(), nullptr, &m), PLX_STATUS_FORMAT, "bad.pbtxt");
  EXPECT_PLX(plx_model_load(rt.get(), kMnist.c_str(), (dir + "/none.ckpt").c_str(), &m), PLX_STATUS_IO, "none.ckpt");

  RuntimePtr bare = make_runtime(0, /*default_plugins=*/0);
  EXPECT_PLX(plx_model_load(bare.get(), kMnist.c_str(), nullptr, &m), PLX_STATUS_NOT_FOUND, "mnist_mlp.pbtxt",
             "unknown kernel 'linear'");
  EXPECT_EQ(m, nullptr);

  plx_runtime_options o;
  ASSERT_OK(plx_runtime_options_init(&o));
  o.plugin_files = "/nonexistent/libnothing.so";
  plx_runtime* r = nullptr;
  const plx_status st = plx_runtime_create(&o, &r);
  EXPECT_NE(st, PLX_STATUS_OK);
  EXPECT_NE(std::string(plx_last_error()).find("libnothing.so"), std::string::npos) << plx_last_error();
  EXPECT_EQ(r, nullptr);
  o.threads = -1;
  EXPECT_PLX(plx_runtime_create(&o, &r), PLX_STATUS_INVALID, "opts->threads is -1");
}

TEST(CApiLifetime, ParentsAreBusyWhileChildrenLive) {
  RuntimePtr rt = make_runtime();
  ModelPtr model = load_model(rt.get());
  EXPECT_PLX(plx_runtime_destroy(rt.get()), PLX_STATUS_BUSY, "plx_runtime_destroy", "1 plx_model");
  plx_session* s = nullptr;
  plx_trainer* t = nullptr;
  ASSERT_OK(plx_session_create(model.get(), &s));
  ASSERT_OK(plx_trainer_create(model.get(), "sgd", nullptr, 0, &t));
  EXPECT_PLX(plx_model_destroy(model.get()), PLX_STATUS_BUSY, "plx_model_destroy", "2 plx_session/plx_trainer");
  ASSERT_OK(plx_session_destroy(s));
  EXPECT_PLX(plx_model_destroy(model.get()), PLX_STATUS_BUSY, "1 plx_session/plx_trainer");
  ASSERT_OK(plx_trainer_destroy(t));
  EXPECT_PLX(plx_runtime_destroy(rt.get()), PLX_STATUS_BUSY, "1 plx_model");
  // Still usable after the refused destroys.
  int32_t n = 0;
  ASSERT_OK(plx_model_input_count(model.get(), &n));
  EXPECT_EQ(n, 2);
}

TEST(CApiLifetime, DestroyRacingWithRunsIsBusyOrDoneNeverACrash) {
  RuntimePtr rt = make_runtime();
  ModelPtr model = load_model(rt.get());
  ASSERT_OK(plx_model_init_params(model.get(), 2));
  plx_tensor *x = nullptr, *y = nullptr;
  ASSERT_OK(plx_model_load_data(model.get(), "test", &x, &y));
  TensorPtr images(x), labels(y);
  plx_session* s = nullptr;
  ASSERT_OK(plx_session_create(model.get(), &s));
  const Rows batch(x, 0, 500);
  std::atomic<bool> started{false};
  int runs = 0, refused = 0, other = 0;
  std::thread runner([&] {
    const char* name = "image";
    for (int i = 0; i < 60; ++i) {
      plx_tensor* out = nullptr;
      const plx_status st = plx_session_run(s, 1, &name, &batch.view, 1, nullptr, &out);
      started = true;
      if (st == PLX_STATUS_OK) {
        ++runs;
        plx_tensor_destroy(out);
      } else if (st == PLX_STATUS_INVALID && std::strstr(plx_last_error(), "not a live plx_session handle")) {
        ++refused;  // destroyed between two calls
        break;
      } else {
        ++other;
      }
    }
  });
  while (!started) std::this_thread::yield();
  plx_status st;
  while ((st = plx_session_destroy(s)) == PLX_STATUS_BUSY)
    std::this_thread::sleep_for(std::chrono::microseconds(100));
  EXPECT_EQ(st, PLX_STATUS_OK) << plx_last_error();
  runner.join();
  EXPECT_GE(runs, 1);
  EXPECT_EQ(other, 0);
  EXPECT_LE(refused, 1);
}

TEST(CApiModel, Introspection) {
  RuntimePtr rt = make_runtime();
  ModelPtr model = load_model(rt.get());
  int32_t n = 0, ndim = -1;
  const char *name = nullptr, *source = nullptr;
  ASSERT_OK(plx_model_input_count(model.get(), &n));
  ASSERT_EQ(n, 2);
  ASSERT_OK(plx_model_input_name(model.get(), 0, &name));
  ASSERT_OK(plx_model_input_source(model.get(), 0, &source));
  EXPECT_STREQ(name, "image");
  EXPECT_STREQ(source, "features");
  ASSERT_OK(plx_model_input_name(model.get(), 1, &name));
  ASSERT_OK(plx_model_input_source(model.get(), 1, &source));
  EXPECT_STREQ(name, "label");
  EXPECT_STREQ(source, "labels");
  EXPECT_PLX(plx_model_input_name(model.get(), 2, &name), PLX_STATUS_INVALID, "index 2 is out of range", "has 2 inputs");
  int64_t dims[4] = {};
  ASSERT_OK(plx_model_input_shape(model.get(), "image", dims, 4, &ndim));
  EXPECT_EQ(ndim, 1);
  EXPECT_EQ(dims[0], 784);
  ASSERT_OK(plx_model_input_shape(model.get(), "label", nullptr, 0, &ndim));
  EXPECT_EQ(ndim, 0);
  EXPECT_PLX(plx_model_input_shape(model.get(), "pixels", dims, 4, &ndim), PLX_STATUS_NOT_FOUND,
             "no input named 'pixels'", "inputs: image, label");
  EXPECT_PLX(plx_model_input_shape(model.get(), "image", dims, 0, &ndim), PLX_STATUS_INVALID, "capacity 0");
  EXPECT_EQ(ndim, 1);
  ASSERT_OK(plx_model_output_name(model.get(), &name));
  EXPECT_STREQ(name, "fc3");

  plx_tensor *x = nullptr, *y = nullptr;
  EXPECT_PLX(plx_model_load_data(model.get(), "validation", &x, &y), PLX_STATUS_INVALID,
             "\"validation\"; expected \"train\" or \"test\"");
  ASSERT_OK(plx_model_load_data(model.get(), "test", &x, &y));
  TensorPtr features(x), labels(y);
  EXPECT_EQ(shape_of(x), (std::vector<int64_t>{2000, 784}));
  EXPECT_EQ(shape_of(y), (std::vector<int64_t>{2000}));
}

TEST(CApiTensor, FromViewCopiesAndRejectsBadViews) {
  std::vector<float> v = {1, 2, 3, 4, 5, 6};
  const int64_t shape[2] = {2, 3};
  plx_view view = {v.data(), PLX_DTYPE_F32, 2, shape};
  plx_tensor* t = nullptr;
  ASSERT_OK(plx_tensor_from_view(&view, &t));
  TensorPtr owned(t);
  v[0] = 100;  // a copy: the tensor keeps 1
  plx_view back{};
  ASSERT_OK(plx_tensor_get_view(t, &back));
  EXPECT_EQ(static_cast<const float*>(back.data)[0], 1.0f);
  EXPECT_EQ(back.dtype, PLX_DTYPE_F32);
  ASSERT_EQ(back.ndim, 2);
  EXPECT_EQ(back.shape[1], 3);
  int64_t numel = 0;
  ASSERT_OK(plx_tensor_numel(t, &numel));
  EXPECT_EQ(numel, 6);
  int64_t dims[1];
  int32_t ndim = 0;
  EXPECT_PLX(plx_tensor_shape(t, dims, 1, &ndim), PLX_STATUS_INVALID, "capacity 1 is less than the rank 2");
  EXPECT_EQ(ndim, 2);

  plx_tensor* bad = nullptr;
  view.dtype = PLX_DTYPE_F64;
  EXPECT_PLX(plx_tensor_from_view(&view, &bad), PLX_STATUS_INVALID, "dtype 2 (PLX_DTYPE_F64)", "expected PLX_DTYPE_F32");
  view.dtype = PLX_DTYPE_F32;
  view.ndim = 9;
  EXPECT_PLX(plx_tensor_from_view(&view, &bad), PLX_STATUS_INVALID, "ndim 9");
  view.ndim = 2;
  const int64_t negative[2] = {2, -3};
  view.shape = negative;
  EXPECT_PLX(plx_tensor_from_view(&view, &bad), PLX_STATUS_INVALID, "extent -3 in dimension 1");
  view.shape = shape;
  view.data = nullptr;
  EXPECT_PLX(plx_tensor_from_view(&view, &bad), PLX_STATUS_INVALID, "data NULL for 6 elements");
  EXPECT_EQ(bad, nullptr);
}

TEST(CApiInference, MatchesCxxSessionBitForBit) {
  RuntimePtr rt = make_runtime();
  ModelPtr model = load_model(rt.get());
  plx_tensor *x = nullptr, *y = nullptr;
  ASSERT_OK(plx_model_load_data(model.get(), "test", &x, &y));
  TensorPtr images(x), labels(y);
  plx_session* s = nullptr;
  ASSERT_OK(plx_session_create(model.get(), &s));
  SessionPtr session(s);
  plx_tensor* out = nullptr;
  const char* name = "image";
  Rows batch(x, 0, 500);
  EXPECT_PLX(plx_session_run(s, 1, &name, &batch.view, 1, nullptr, &out), PLX_STATUS_INVALID, "plx_session_run",
             "parameters", "are not set");
  ASSERT_OK(plx_model_init_params(model.get(), 7));
  TensorPtr c_out = run_rows(s, x, 0, 500);
  ASSERT_TRUE(c_out);

  plexus::Runtime cxx_rt;
  plexus::Model cxx_model(cxx_rt, kMnist);
  cxx_model.init_params(7);
  plexus::Session cxx_session(cxx_model);
  plexus::Tensor in = plexus::Tensor::from({500, 784}, std::span<const float>(data_of(x), 500 * 784));
  const plexus::Tensor want = cxx_session.run({{"image", in}}).at("fc3");
  ASSERT_EQ(shape_of(c_out.get()), (std::vector<int64_t>{500, 10}));
  EXPECT_EQ(std::memcmp(data_of(c_out.get()), want.data(), 500 * 10 * sizeof(float)), 0);

  // Several named outputs, the loss included (needs the labels).
  Rows l(y, 0, 500);
  const char* names[2] = {"image", "label"};
  const plx_view views[2] = {batch.view, l.view};
  const char* wanted[3] = {"fc3", "relu1", "xent"};
  plx_tensor* outs[3] = {};
  ASSERT_OK(plx_session_run(s, 2, names, views, 3, wanted, outs));
  TensorPtr o0(outs[0]), o1(outs[1]), o2(outs[2]);
  EXPECT_TRUE(same_bytes(outs[0], c_out.get()));
  EXPECT_EQ(shape_of(outs[1]), (std::vector<int64_t>{500, 256}));
  EXPECT_GT(data_of(outs[2])[0], 1.0f);  // untrained: about ln(10)
}

TEST(CApiInference, FourThreadsOnOnePinnedSessionGiveIdenticalResults) {
  // A pinned session computes every call with exactly one thread of the
  // budget. (With plx_session_create a call's share depends on what the
  // others hold, and oneDNN's result for a batch of 100 differs in the last
  // bits between team sizes.)
  RuntimePtr rt = make_runtime();
  ModelPtr model = load_model(rt.get());
  ASSERT_OK(plx_model_init_params(model.get(), 3));
  plx_tensor *x = nullptr, *y = nullptr;
  ASSERT_OK(plx_model_load_data(model.get(), "test", &x, &y));
  TensorPtr images(x), labels(y);
  plx_session* s = nullptr;
  ASSERT_OK(plx_session_create_pinned(model.get(), 1, &s));
  SessionPtr session(s);
  std::vector<TensorPtr> reference;
  for (int64_t b = 0; b < 2000; b += 100) reference.push_back(run_rows(s, x, b, b + 100));

  std::vector<int> mismatches(4, 0);
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i)
    threads.emplace_back([&, i] {
      for (int rep = 0; rep < 3; ++rep)
        for (int64_t b = 0; b < 2000; b += 100) {
          TensorPtr out = run_rows(s, x, b, b + 100);
          if (!out || !same_bytes(out.get(), reference[static_cast<size_t>(b / 100)].get())) ++mismatches[i];
        }
      // The model is BUSY while its session lives, whatever the other threads do.
      if (plx_model_destroy(model.get()) != PLX_STATUS_BUSY) ++mismatches[i];
    });
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(mismatches, std::vector<int>(4, 0));
}

TEST(CApiInference, InputErrorsNameTheInput) {
  RuntimePtr rt = make_runtime();
  ModelPtr model = load_model(rt.get());
  ASSERT_OK(plx_model_init_params(model.get(), 1));
  plx_session* s = nullptr;
  ASSERT_OK(plx_session_create(model.get(), &s));
  SessionPtr session(s);
  std::vector<float> pixels(2 * 784, 0.5f);
  int64_t shape[2] = {2, 783};
  plx_view v = {pixels.data(), PLX_DTYPE_F32, 2, shape};
  const char* image = "image";
  plx_tensor* out = reinterpret_cast<plx_tensor*>(&v);  // must be reset to NULL on error
  EXPECT_PLX(plx_session_run(s, 1, &image, &v, 1, nullptr, &out), PLX_STATUS_INVALID, "plx_session_run",
             "input 'image' fed with shape [2, 783]", "expected a batch of [784]");
  EXPECT_EQ(out, nullptr);
  shape[1] = 784;
  v.dtype = PLX_DTYPE_F64;
  EXPECT_PLX(plx_session_run(s, 1, &image, &v, 1, nullptr, &out), PLX_STATUS_INVALID,
             "input 'image' (inputs[0]) has dtype 2");
  v.dtype = PLX_DTYPE_F32;
  const char* pic = "picture";
  EXPECT_PLX(plx_session_run(s, 1, &pic, &v, 1, nullptr, &out), PLX_STATUS_INVALID, "input 'picture'",
             "inputs: image, label");
  const char* twice[2] = {"image", "image"};
  const plx_view views[2] = {v, v};
  EXPECT_PLX(plx_session_run(s, 2, twice, views, 1, nullptr, &out), PLX_STATUS_INVALID, "'image' is given twice");
  const char* nowhere = "fc9";
  EXPECT_PLX(plx_session_run(s, 1, &image, &v, 1, &nowhere, &out), PLX_STATUS_INVALID, "no node or input named 'fc9'");
  plx_tensor* outs[2] = {};
  EXPECT_PLX(plx_session_run(s, 1, &image, &v, 2, nullptr, outs), PLX_STATUS_INVALID, "output_names is NULL with n_outputs 2");
  EXPECT_PLX(plx_session_run(s, 1, &image, &v, 0, nullptr, outs), PLX_STATUS_INVALID, "n_outputs is 0");
  const char* loss = "xent";
  EXPECT_PLX(plx_session_run(s, 1, &image, &v, 1, &loss, &out), PLX_STATUS_INVALID, "'label' was not fed");
}

TEST(CApiTraining, StepLoopLearnsMnistAndCheckpointRoundTrips) {
  RuntimePtr rt = make_runtime();
  ModelPtr model = load_model(rt.get());
  plx_tensor *x = nullptr, *y = nullptr, *tx = nullptr, *ty = nullptr;
  ASSERT_OK(plx_model_load_data(model.get(), "train", &x, &y));
  ASSERT_OK(plx_model_load_data(model.get(), "test", &tx, &ty));
  TensorPtr train_x(x), train_y(y), test_x(tx), test_y(ty);
  plx_trainer* t = nullptr;
  EXPECT_PLX(plx_trainer_create(model.get(), "sgd", "lr0.1", 1, &t), PLX_STATUS_INVALID, "item 'lr0.1' is not key=value");
  EXPECT_PLX(plx_trainer_create(model.get(), "sgd", "learning_rate=0.1", 1, &t), PLX_STATUS_INVALID, "learning_rate");
  EXPECT_PLX(plx_trainer_create(model.get(), "nosuch", nullptr, 1, &t), PLX_STATUS_NOT_FOUND, "nosuch");
  ASSERT_OK(plx_trainer_create(model.get(), "sgd", " lr = 0.05 , weight_decay=0.0001", 11, &t));
  TrainerPtr trainer(t);

  const char* names[2] = {"image", "label"};
  const int64_t n = shape_of(x)[0];
  std::vector<double> losses;
  for (int64_t step = 0; step < 300; ++step) {
    const int64_t b = (step * 32) % (n - 32);
    Rows xs(x, b, b + 32), ys(y, b, b + 32);
    const plx_view views[2] = {xs.view, ys.view};
    double loss = -1;
    ASSERT_OK(plx_trainer_step(t, 2, names, views, &loss));
    losses.push_back(loss);
  }
  auto mean = [&](size_t from, size_t count) {
    double s = 0;
    for (size_t i = from; i < from + count; ++i) s += losses[i];
    return s / static_cast<double>(count);
  };
  EXPECT_LT(mean(losses.size() - 20, 20), 0.5 * mean(0, 5));

  plx_session* s = nullptr;
  ASSERT_OK(plx_session_create(model.get(), &s));
  SessionPtr session(s);
  TensorPtr trained = run_rows(s, tx, 0, 2000);
  const double acc = accuracy(trained.get(), ty, 0);
  EXPECT_GT(acc, 0.85);
  RecordProperty("first_loss", std::to_string(mean(0, 5)));
  RecordProperty("last_loss", std::to_string(mean(losses.size() - 20, 20)));
  RecordProperty("test_accuracy", std::to_string(acc));

  // A step without labels names what is missing.
  Rows xs(x, 0, 32);
  EXPECT_PLX(plx_trainer_step(t, 1, names, &xs.view, nullptr), PLX_STATUS_INVALID, "plx_trainer_step", "'label'");

  const std::string ck = plexus::test::temp_dir() + "/c_api.ckpt";
  ASSERT_OK(plx_trainer_save(t, ck.c_str()));
  ModelPtr reloaded = load_model(rt.get(), ck.c_str());
  plx_session* s2 = nullptr;
  ASSERT_OK(plx_session_create(reloaded.get(), &s2));
  SessionPtr session2(s2);
  TensorPtr again = run_rows(s2, tx, 0, 2000);
  EXPECT_TRUE(same_bytes(again.get(), trained.get()));

  // save_weights + load_weights into a third model gives the same outputs too.
  const std::string ck2 = plexus::test::temp_dir() + "/weights.ckpt";
  ASSERT_OK(plx_model_save_weights(model.get(), ck2.c_str()));
  ModelPtr third = load_model(rt.get());
  ASSERT_OK(plx_model_load_weights(third.get(), ck2.c_str()));
  plx_session* s3 = nullptr;
  ASSERT_OK(plx_session_create(third.get(), &s3));
  SessionPtr session3(s3);
  TensorPtr third_out = run_rows(s3, tx, 0, 2000);
  EXPECT_TRUE(same_bytes(third_out.get(), trained.get()));
}

void log_into(int32_t level, const char* message, void* user) {
  static_cast<std::vector<std::string>*>(user)->push_back(std::to_string(level) + " " + message);
}

TEST(CApiRuntime, LogCallbackGetsMessagesAndZeroSizeMeansDefaults) {
  std::vector<std::string> log;
  plx_runtime_options o;
  ASSERT_OK(plx_runtime_options_init(&o));
  EXPECT_EQ(o.struct_size, static_cast<int32_t>(sizeof(plx_runtime_options)));
  EXPECT_EQ(o.load_default_plugins, 1);
  o.log = log_into;
  o.log_user = &log;
  plx_runtime* r = nullptr;
  ASSERT_OK(plx_runtime_create(&o, &r));
  RuntimePtr rt(r);
  ASSERT_FALSE(log.empty());
  EXPECT_NE(log[0].find("2 loaded plugin"), std::string::npos) << log[0];

  plx_runtime_options zero;
  std::memset(&zero, 0, sizeof zero);  // struct_size 0: every field takes its default
  plx_runtime* r2 = nullptr;
  ASSERT_OK(plx_runtime_create(&zero, &r2));
  RuntimePtr rt2(r2);
  ModelPtr m = load_model(r2);  // the default plugins were loaded
  EXPECT_TRUE(m);
}

}  // namespace
