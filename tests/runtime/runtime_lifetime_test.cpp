// Runtime lifetime, logging and the thread budget as a host sees them:
// plugins unload with the last user, an early Runtime destruction is reported
// (not a crash), nothing is printed unless a log callback asks, a host's TBB
// arena is used, and concurrent calls share the budget.
#include "support/test_support.hpp"

#include <plexus/session.hpp>

#include <gtest/gtest.h>
#include <tbb/task_arena.h>

#include <chrono>
#include <fstream>
#include <future>
#include <memory>
#include <mutex>
#include <sstream>
#include <thread>

namespace plexus {
namespace {

const std::string kMnist = test::source_path("models/mnist_mlp.pbtxt");

/// Is a library whose path ends in `name` mapped into this process?
bool mapped(const std::string& name) {
  std::ifstream maps("/proc/self/maps");
  std::string line;
  while (std::getline(maps, line))
    if (line.size() >= name.size() && line.compare(line.size() - name.size(), name.size(), name) == 0) return true;
  return false;
}

struct Log {
  std::mutex mu;
  std::vector<std::pair<LogLevel, std::string>> lines;
  LogCallback callback() {
    return [this](LogLevel l, const std::string& m) {
      std::lock_guard<std::mutex> lock(mu);
      lines.emplace_back(l, m);
    };
  }
  std::string errors() {
    std::string r;
    for (const auto& [l, m] : lines)
      if (l == LogLevel::kError) r += m + "\n";
    return r;
  }
};

TEST(RuntimeLifetime, DestroyingTheRuntimeLastUnloadsItsPlugins) {
  ASSERT_FALSE(mapped("/libplexus_layers.so"));
  {
    Runtime rt;
    EXPECT_TRUE(mapped("/libplexus_layers.so"));
    Model model(rt, kMnist);
    model.init_params(1);
    Session s(model);
    s.run({{"image", test::random_tensor(Shape{2, 784}, 1)}});
  }
  EXPECT_FALSE(mapped("/libplexus_layers.so"));
  EXPECT_FALSE(mapped("/libplexus_optimizers.so"));
}

TEST(RuntimeLifetime, DestroyingTheRuntimeUnderALiveSessionIsReportedNotACrash) {
  Log log;
  RuntimeOptions o;
  o.log = log.callback();
  auto rt = std::make_unique<Runtime>(o);
  auto model = std::make_unique<Model>(*rt, kMnist);
  model->init_params(1);
  auto session = std::make_unique<Session>(*model);
  rt.reset();
  EXPECT_NE(log.errors().find("destroyed while 1 Model(s) and 1 Session(s)"), std::string::npos) << log.errors();
  test::expect_error([&] { session->run({{"image", test::random_tensor(Shape{1, 784}, 1)}}); }, ErrorCode::kInvalid,
                     {"mnist_mlp.pbtxt", "Runtime it was made from has been destroyed"});
  EXPECT_TRUE(mapped("/libplexus_layers.so"));  // kept for the Model's op instances
  session.reset();
  model.reset();
  EXPECT_FALSE(mapped("/libplexus_layers.so"));
}

TEST(RuntimeLifetime, NothingIsPrintedWithoutALogCallback) {
  testing::internal::CaptureStdout();
  testing::internal::CaptureStderr();
  {
    Runtime rt;
    Model model(rt, kMnist);
    model.init_params(1);
    Session s(model);
    s.run({{"image", test::random_tensor(Shape{2, 784}, 1)}});
    try {
      s.run({{"nope", test::random_tensor(Shape{2, 784}, 1)}});
    } catch (const Error&) {
    }
    try {
      Model bad(rt, kMnist + ".missing");
    } catch (const Error&) {
    }
  }
  EXPECT_EQ(testing::internal::GetCapturedStdout(), "");
  EXPECT_EQ(testing::internal::GetCapturedStderr(), "");
}

TEST(RuntimeLifetime, TheLogCallbackHearsWhichPluginsWereLoaded) {
  Log log;
  RuntimeOptions o;
  o.log = log.callback();
  Runtime rt(o);
  std::string all;
  for (const auto& [l, m] : log.lines) all += m + "\n";
  EXPECT_NE(all.find("loaded plugin "), std::string::npos) << all;
  EXPECT_NE(all.find("libplexus_layers.so"), std::string::npos) << all;
  EXPECT_EQ(log.errors(), "");
}

TEST(RuntimeThreads, AHostArenaSetsTheBudgetAndRunsTheParallelWork) {
  tbb::task_arena host(3);
  RuntimeOptions o;
  o.arena = &host;
  o.load_default_plugins = false;
  Runtime rt(o);
  EXPECT_EQ(rt.threads(), 3);
  std::atomic<int> in_host_arena{0};
  rt.parallel_for(64, [&](size_t) {
    if (tbb::this_task_arena::max_concurrency() == 3) ++in_host_arena;
  });
  EXPECT_EQ(in_host_arena.load(), 64);
  RuntimeOptions both = o;
  both.threads = 1;  // an explicit budget wins
  EXPECT_EQ(Runtime(both).threads(), 1);
}

/// A call in flight on its own thread: takes a share, reports its size,
/// and holds it until finish(), which returns only once the share is given back.
class Call {
 public:
  Call(const RuntimeContext& ctx, int exact = 0)
      : thread_([this, &ctx, exact] {
          RuntimeContext::ThreadShare share(ctx, exact);
          threads_.set_value(share.threads());
          release_.get_future().wait();
        }) {}
  ~Call() { finish(); }
  int threads() { return threads_future_.get(); }
  void finish() {
    if (!thread_.joinable()) return;
    release_.set_value();
    thread_.join();
  }

 private:
  std::promise<int> threads_;
  std::future<int> threads_future_ = threads_.get_future();
  std::promise<void> release_;
  std::thread thread_;
};

TEST(RuntimeThreads, ConcurrentCallsShareTheBudgetFairly) {
  RuntimeOptions o;
  o.threads = 4;
  o.load_default_plugins = false;
  Runtime rt(o);
  const RuntimeContext& ctx = *rt.context();
  {
    RuntimeContext::ThreadShare first(ctx);
    EXPECT_EQ(first.threads(), 4);       // alone: the whole budget
    RuntimeContext::ThreadShare nested(ctx);
    EXPECT_EQ(nested.threads(), 4);      // the same thread keeps its share
    Call second(ctx);
    EXPECT_EQ(second.threads(), 1);      // nothing free: its own thread only
  }
  {
    Call a(ctx);
    EXPECT_EQ(a.threads(), 4);
    Call b(ctx);
    EXPECT_EQ(b.threads(), 1);
    a.finish();                          // b still holds its own thread
    Call c(ctx);
    EXPECT_EQ(c.threads(), 2);           // two calls in flight: at most half each
    Call d(ctx);
    EXPECT_EQ(d.threads(), 1);           // 4 - 1 - 2 = 1 left
  }
  Call again(ctx);
  EXPECT_EQ(again.threads(), 4);         // every share was given back
}

TEST(RuntimeThreads, ExactSharesWaitForTheirThreads) {
  RuntimeOptions o;
  o.threads = 2;
  o.load_default_plugins = false;
  Runtime rt(o);
  const RuntimeContext& ctx = *rt.context();
  auto holder = std::make_unique<Call>(ctx, 2);
  EXPECT_EQ(holder->threads(), 2);
  std::atomic<bool> got{false};
  std::thread waiter([&] {
    RuntimeContext::ThreadShare share(ctx, 5);  // asks for more than the budget: gets all of it
    EXPECT_EQ(share.threads(), 2);
    got = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_FALSE(got.load());               // still waiting for the holder's threads
  holder.reset();
  waiter.join();
  EXPECT_TRUE(got.load());
}

TEST(RuntimeThreads, ANegativeBudgetIsRefused) {
  test::expect_error([] {
    RuntimeOptions bad;
    bad.threads = -2;
    Runtime r(bad);
  }, ErrorCode::kInvalid, {"'threads'", "-2"});
}

}  // namespace
}  // namespace plexus
