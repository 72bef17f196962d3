// host_cpp: a C++ program that embeds Plexus through the installed package.
// Loads a model and a checkpoint, then classifies the model's test data set
// from several threads sharing one Session.
//
//   host_cpp models/mnist_mlp.pbtxt mnist.ckpt 4 --repeat 5 [--budget B]
//   accuracy 0.9445 (1889/2000) throughput 12345 samples/s threads 4
//
// THREADS host threads each take a contiguous share of the test set and run
// it in batches of 100. The runtime's thread budget is B (default: the
// hardware threads); the calls share it, so however many host threads run,
// oneDNN starts no more worker threads than the budget allows. The last line
// of output is always the one above (examples/host_c prints the same).
#include <plexus/data.hpp>
#include <plexus/error.hpp>
#include <plexus/model.hpp>
#include <plexus/runtime.hpp>
#include <plexus/session.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <thread>
#include <vector>

namespace {

constexpr int64_t kBatch = 100;

struct Args {
  std::string model, checkpoint;
  int threads = 1;
  int repeat = 1;
  int budget = 0;  // 0: hardware threads
};

/// A positive int, or 0 if `s` is not one.
int positive(const char* s) {
  char* end = nullptr;
  const long v = std::strtol(s, &end, 10);
  return end != s && *end == '\0' && v > 0 && v <= 4096 ? static_cast<int>(v) : 0;
}

bool parse_args(int argc, char** argv, Args& a) {
  std::vector<const char*> pos;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--repeat" && i + 1 < argc) {
      if ((a.repeat = positive(argv[++i])) == 0) return false;
    } else if (arg == "--budget" && i + 1 < argc) {
      if ((a.budget = positive(argv[++i])) == 0) return false;
    } else if (arg.rfind("--", 0) == 0) {
      return false;
    } else {
      pos.push_back(argv[i]);
    }
  }
  if (pos.size() < 2 || pos.size() > 3) return false;
  a.model = pos[0];
  a.checkpoint = pos[1];
  if (pos.size() == 3 && (a.threads = positive(pos[2])) == 0) return false;
  return true;
}

/// The folder of `path`: the model file's data paths are relative to it.
std::string folder_of(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

/// Index of the largest of `n` values.
int64_t argmax(const float* v, int64_t n) { return std::max_element(v, v + n) - v; }

/// Class of sample `i`: the label index, or the argmax of a one-hot row.
int64_t label_of(const plexus::Tensor& labels, int64_t i) {
  if (labels.ndim() == 1) return static_cast<int64_t>(labels.data()[i]);
  const int64_t c = labels.dim(1);
  return argmax(labels.data() + i * c, c);
}

/// Classifies samples [begin, end) in batches of kBatch; returns how many are right.
int64_t classify(const plexus::Session& session, const plexus::Dataset& test, int64_t begin, int64_t end) {
  const std::string& input = session.model().feature_input();
  int64_t correct = 0;
  for (int64_t b = begin; b < end; b += kBatch) {
    const int64_t e = std::min(end, b + kBatch);
    const plexus::Tensor out = session.run({{input, test.features.rows(b, e)}}).at(session.output_name());
    const int64_t classes = out.dim(1);
    for (int64_t i = b; i < e; ++i)
      correct += argmax(out.data() + (i - b) * classes, classes) == label_of(test.labels, i);
  }
  return correct;
}

}  // namespace

int main(int argc, char** argv) {
  Args args;
  if (!parse_args(argc, argv, args)) {
    std::fprintf(stderr, "usage: host_cpp MODEL CHECKPOINT [THREADS] [--repeat K] [--budget B]\n");
    return 1;
  }
  try {
    plexus::RuntimeOptions options;
    options.threads = args.budget;
    plexus::Runtime rt(options);
    plexus::Model model(rt, args.model);
    model.load_weights(args.checkpoint);
    const plexus::proto::DataSpec& spec = model.def().train().test_data();
    if (spec.path().empty())
      throw plexus::Error(plexus::ErrorCode::kInvalid, args.model + ": the model has no train.test_data to classify");
    const plexus::Dataset test = plexus::load_dataset(plexus::data_spec_from_proto(spec, folder_of(args.model)));
    const plexus::Session session(model);
    const int64_t n = test.size();

    // Thread t takes samples [n t / T, n (t + 1) / T); every repeat classifies
    // the whole set again, and the first one's count is the accuracy.
    std::vector<int64_t> correct(static_cast<size_t>(args.threads), 0);
    std::vector<std::exception_ptr> errors(static_cast<size_t>(args.threads));
    const auto start = std::chrono::steady_clock::now();
    std::vector<std::thread> pool;
    for (int t = 0; t < args.threads; ++t) {
      pool.emplace_back([&, t] {
        const int64_t begin = n * t / args.threads, end = n * (t + 1) / args.threads;
        try {
          for (int r = 0; r < args.repeat; ++r) {
            const int64_t c = classify(session, test, begin, end);
            if (r == 0) correct[static_cast<size_t>(t)] = c;
          }
        } catch (...) {
          errors[static_cast<size_t>(t)] = std::current_exception();
        }
      });
    }
    for (std::thread& th : pool) th.join();
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    for (const std::exception_ptr& e : errors)
      if (e) std::rethrow_exception(e);

    int64_t right = 0;
    for (int64_t c : correct) right += c;
    std::printf("accuracy %.4f (%lld/%lld) throughput %.0f samples/s threads %d\n",
                n > 0 ? static_cast<double>(right) / static_cast<double>(n) : 0.0, static_cast<long long>(right),
                static_cast<long long>(n), static_cast<double>(n) * args.repeat / seconds, args.threads);
    return 0;
  } catch (const plexus::Error& e) {
    std::fprintf(stderr, "host_cpp: %s\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "host_cpp: %s\n", e.what());
    return 1;
  }
}
