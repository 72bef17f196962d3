// Data sets: the bundled MNIST and UCI files, specs, splits, preprocessing,
// label maps, batches, and every malformed-input error.
#include "support/test_support.hpp"

#include <plexus/data.hpp>
#include <plexus/error.hpp>
#include <plexus/npy.hpp>

#include "plexus.pb.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <numeric>
#include <set>
#include <sstream>
#include <vector>

namespace plexus {
namespace {

using test::expect_error;

const std::string kMnistDir = "models/data/mnist10k";

std::string mnist_spec(const std::string& extra = "") {
  return "idx:" + test::source_path(kMnistDir + "/images-idx3-ubyte.gz") +
         ",labels=" + test::source_path(kMnistDir + "/labels-idx1-ubyte.gz") + extra;
}

std::string uci(const std::string& name) { return test::source_path("models/data/uci/" + name); }

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void write_all(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

Dataset load(const std::string& spec) { return load_dataset(parse_data_spec(spec)); }

/// A CSV of `n` rows "i,10*i+0.5,label" with label i % 3, so each row names itself.
std::string indexed_csv(int n) {
  const std::string path = test::temp_dir() + "/indexed.csv";
  std::string text = "id,x,label\n";
  for (int i = 0; i < n; ++i) text += std::to_string(i) + "," + std::to_string(10 * i) + ".5," + std::to_string(i % 3) + "\n";
  write_all(path, text);
  return path;
}

std::vector<int64_t> ids(const Dataset& d) {
  std::vector<int64_t> r;
  for (int64_t i = 0; i < d.size(); ++i) r.push_back(static_cast<int64_t>(d.features.data()[i * d.features.dim(1)]));
  return r;
}

// ---- bundled data ------------------------------------------------------------

TEST(Data, MnistIdx) {
  Dataset d = load(mnist_spec());
  ASSERT_EQ(d.features.shape(), Shape({10000, 784}));
  ASSERT_EQ(d.labels.shape(), Shape({10000}));
  const float* x = d.features.data();
  EXPECT_EQ(x[127], 0.0f);
  EXPECT_EQ(x[128], 51.0f);
  EXPECT_EQ(x[129], 238.0f);
  EXPECT_EQ(x[9999 * 784 + 128], 41.0f);
  const float* y = d.labels.data();
  const std::vector<float> first = {5, 3, 1, 6, 9, 1, 5, 1, 1, 4};
  for (size_t i = 0; i < first.size(); ++i) EXPECT_EQ(y[i], first[i]);
  std::vector<int> counts(10, 0);
  for (int64_t i = 0; i < 10000; ++i) counts[static_cast<size_t>(y[i])]++;
  EXPECT_EQ(counts, (std::vector<int>{1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978}));
  EXPECT_EQ(*std::max_element(x, x + d.features.numel()), 255.0f);
  EXPECT_NE(d.source.find("images-idx3-ubyte.gz"), std::string::npos);
}

TEST(Data, MnistRowRangesAndScale) {
  Dataset all = load(mnist_spec());
  Dataset train = load(mnist_spec(",rows=0:8000,scale=0.00392156862745098"));
  Dataset test = load(mnist_spec(",rows=8000:"));
  ASSERT_EQ(train.size(), 8000);
  ASSERT_EQ(test.size(), 2000);
  EXPECT_FLOAT_EQ(train.features.data()[129], 238.0f / 255.0f);
  EXPECT_EQ(*std::max_element(train.features.span().begin(), train.features.span().end()), 1.0f);
  EXPECT_EQ(test.features.data()[1999 * 784 + 128], 41.0f);
  EXPECT_EQ(test.labels.data()[1999], all.labels.data()[9999]);
  EXPECT_EQ(test.labels.data()[0], all.labels.data()[8000]);
  // Format guessed from the name.
  DataSpec s = parse_data_spec(test::source_path(kMnistDir + "/labels-idx1-ubyte.gz"));
  EXPECT_EQ(load_dataset(s).features.shape(), Shape({10000}));
}

TEST(Data, BreastCancerSklearnHeader) {
  for (const std::string header : {"auto", "sklearn"}) {
    Dataset d = load(uci("breast_cancer.csv") + ",header=" + header);
    ASSERT_EQ(d.features.shape(), Shape({569, 30})) << header;
    ASSERT_EQ(d.labels.shape(), Shape({569}));
    EXPECT_FLOAT_EQ(d.features.data()[0], 17.99f);
    EXPECT_FLOAT_EQ(d.features.data()[1], 10.38f);
    EXPECT_FLOAT_EQ(d.features.data()[29], 0.1189f);
    EXPECT_FLOAT_EQ(d.features.data()[30], 20.57f);
    int ones = 0;
    for (float v : d.labels.span()) {
      EXPECT_TRUE(v == 0.0f || v == 1.0f);
      ones += v == 1.0f;
    }
    EXPECT_EQ(ones, 357);
    EXPECT_EQ(d.labels.data()[0], 0.0f);
  }
  // As plain data, the header line is a bad row: reported with line and field.
  expect_error([] { load(uci("breast_cancer.csv") + ",header=none"); }, ErrorCode::kFormat,
               {uci("breast_cancer.csv") + ":1", "field 3", "'malignant'"});
}

TEST(Data, IrisAndDigits) {
  Dataset iris = load("csv:" + uci("iris.csv"));
  ASSERT_EQ(iris.features.shape(), Shape({150, 4}));
  EXPECT_FLOAT_EQ(iris.features.data()[0], 5.1f);
  EXPECT_FLOAT_EQ(iris.features.data()[149 * 4 + 2], 5.1f);
  EXPECT_EQ(iris.labels.data()[0], 0.0f);
  EXPECT_EQ(iris.labels.data()[149], 2.0f);

  Dataset digits = load(uci("digits.csv.gz"));  // no header line: auto must keep the first row
  ASSERT_EQ(digits.features.shape(), Shape({1797, 64}));
  const float row0[] = {0, 0, 5, 13, 9, 1, 0, 0};
  for (int i = 0; i < 8; ++i) EXPECT_EQ(digits.features.data()[i], row0[i]);
  EXPECT_EQ(digits.labels.data()[0], 0.0f);
  EXPECT_EQ(digits.labels.data()[1], 1.0f);
  EXPECT_EQ(digits.features.data()[1796 * 64 + 2], 10.0f);
  EXPECT_EQ(*std::max_element(digits.features.span().begin(), digits.features.span().end()), 16.0f);
}

// ---- splits and preprocessing -------------------------------------------------

TEST(Data, SplitIsDeterministicDisjointAndComplete) {
  const std::string path = indexed_csv(100);
  Dataset train = load(path + ",split=train,split_seed=7,test_fraction=0.25");
  Dataset test = load(path + ",split=test,split_seed=7,test_fraction=0.25");
  ASSERT_EQ(train.size(), 75);
  ASSERT_EQ(test.size(), 25);
  std::vector<int64_t> a = ids(train), b = ids(test);
  EXPECT_EQ(ids(load(path + ",split=train,split_seed=7,test_fraction=0.25")), a);
  std::set<int64_t> all(a.begin(), a.end());
  all.insert(b.begin(), b.end());
  EXPECT_EQ(all.size(), 100u);
  EXPECT_EQ(*all.begin(), 0);
  EXPECT_EQ(*all.rbegin(), 99);
  // Shuffled, and a different seed gives a different split.
  EXPECT_FALSE(std::is_sorted(a.begin(), a.end()));
  EXPECT_NE(ids(load(path + ",split=test,split_seed=8,test_fraction=0.25")), b);
  // Labels follow their rows.
  for (int64_t i = 0; i < test.size(); ++i) EXPECT_EQ(test.labels.data()[i], static_cast<float>(b[static_cast<size_t>(i)] % 3));

  // A split of a row range stays inside it; round(0.2 * 569) = 114 test rows.
  Dataset ranged = load(path + ",rows=10:30,split=test,test_fraction=0.5");
  for (int64_t id : ids(ranged)) EXPECT_TRUE(id >= 10 && id < 30) << id;
  EXPECT_EQ(ranged.size(), 10);
  EXPECT_EQ(load(uci("breast_cancer.csv") + ",split=test").size(), 114);
  EXPECT_EQ(load(uci("breast_cancer.csv") + ",split=train").size(), 455);
}

TEST(Data, StandardizeUsesTrainStatistics) {
  const std::string base = uci("breast_cancer.csv") + ",split_seed=3";
  Dataset raw_test = load(base + ",split=test");
  Dataset raw_train = load(base + ",split=train");
  Dataset train = load(base + ",split=train,standardize=1");
  Dataset test = load(base + ",split=test,standardize=1");
  const int64_t d = 30;
  bool test_mean_moved = false;
  for (int64_t j = 0; j < d; ++j) {
    double mean = 0, sq = 0;
    for (int64_t i = 0; i < train.size(); ++i) mean += raw_train.features.data()[i * d + j];
    mean /= static_cast<double>(train.size());
    for (int64_t i = 0; i < train.size(); ++i) sq += std::pow(raw_train.features.data()[i * d + j] - mean, 2);
    const double sd = std::sqrt(sq / static_cast<double>(train.size()));
    double tmean = 0, tsq = 0, smean = 0;
    for (int64_t i = 0; i < train.size(); ++i) tmean += train.features.data()[i * d + j];
    tmean /= static_cast<double>(train.size());
    for (int64_t i = 0; i < train.size(); ++i) tsq += std::pow(train.features.data()[i * d + j] - tmean, 2);
    EXPECT_NEAR(tmean, 0.0, 1e-5) << j;
    EXPECT_NEAR(std::sqrt(tsq / static_cast<double>(train.size())), 1.0, 1e-4) << j;
    for (int64_t i = 0; i < test.size(); ++i) {
      const double expect = (raw_test.features.data()[i * d + j] - mean) / sd;
      EXPECT_NEAR(test.features.data()[i * d + j], expect, 1e-4 * std::max(1.0, std::fabs(expect)));
      smean += test.features.data()[i * d + j];
    }
    test_mean_moved = test_mean_moved || std::fabs(smean / static_cast<double>(test.size())) > 0.02;
  }
  EXPECT_TRUE(test_mean_moved) << "the test part's mean was forced to 0: its own statistics were used";

  // Scale comes first, then standardization: the result is the same.
  Dataset scaled = load(base + ",split=train,standardize=1,scale=0.5");
  for (int64_t i = 0; i < 60; ++i) EXPECT_NEAR(scaled.features.data()[i], train.features.data()[i], 1e-4);
}

TEST(Data, StandardizeConstantColumnAndAllRows) {
  const std::string path = test::temp_dir() + "/c.csv";
  write_all(path, "1,3.5,0\n2,3.5,1\n3,3.5,0\n4,3.5,1\n");
  Dataset d = load(path + ",standardize=1,header=none");
  ASSERT_EQ(d.features.shape(), Shape({4, 2}));
  const float s = static_cast<float>(1.0 / std::sqrt(1.25));
  const float expect[] = {-1.5f * s, 0, -0.5f * s, 0, 0.5f * s, 0, 1.5f * s, 0};
  for (int i = 0; i < 8; ++i) EXPECT_NEAR(d.features.data()[i], expect[i], 1e-6) << i;
}

// ---- label maps -----------------------------------------------------------------

TEST(Data, LabelMaps) {
  Dataset pm1 = load(uci("breast_cancer.csv") + ",label_map=pm1");
  int plus = 0;
  for (float v : pm1.labels.span()) {
    EXPECT_TRUE(v == -1.0f || v == 1.0f);
    plus += v == 1.0f;
  }
  EXPECT_EQ(plus, 357);
  EXPECT_EQ(pm1.labels.data()[0], -1.0f);
  expect_error([] { load(uci("iris.csv") + ",label_map=pm1"); }, ErrorCode::kInvalid,
               {"pm1", "labels 0 or 1", "found 2", uci("iris.csv")});

  Dataset onehot = load(uci("iris.csv") + ",label_map=onehot");
  ASSERT_EQ(onehot.labels.shape(), Shape({150, 3}));
  for (int64_t i = 0; i < 150; ++i) {
    float sum = 0;
    for (int c = 0; c < 3; ++c) sum += onehot.labels.data()[i * 3 + c];
    EXPECT_EQ(sum, 1.0f);
  }
  EXPECT_EQ(onehot.labels.data()[0], 1.0f);
  EXPECT_EQ(onehot.labels.data()[149 * 3 + 2], 1.0f);
  // Width from the whole file, so a part without class 2 still gets 3 columns.
  EXPECT_EQ(load(uci("iris.csv") + ",label_map=onehot,rows=0:10").labels.shape(), Shape({10, 3}));
  EXPECT_EQ(load(uci("iris.csv") + ",label_map=onehot,num_classes=5").labels.shape(), Shape({150, 5}));
  expect_error([] { load(uci("iris.csv") + ",label_map=onehot,num_classes=2"); }, ErrorCode::kInvalid,
               {"label 2", "num_classes 2", uci("iris.csv")});
  Dataset mnist = load(mnist_spec(",rows=0:100,label_map=onehot"));
  ASSERT_EQ(mnist.labels.shape(), Shape({100, 10}));
  EXPECT_EQ(mnist.labels.data()[5], 1.0f);  // first label is 5
}

// ---- batches ------------------------------------------------------------------------

// A labels file with a vector per sample holds regression targets (the codes
// a sparse coder should output): kept whole, split with their rows; onehot
// needs one index per sample.
TEST(Data, NpyLabelsWithATargetVectorPerSample) {
  const std::string dir = test::temp_dir();
  const Tensor x = test::random_tensor(Shape{6, 4}, 1);
  const Tensor z = test::random_tensor(Shape{6, 3}, 2);
  write_npy(dir + "/x.npy", x);
  write_npy(dir + "/z.npy", z);
  const Dataset d = load_dataset(parse_data_spec("npy:" + dir + "/x.npy,labels=" + dir + "/z.npy,rows=2:5"));
  ASSERT_EQ(d.labels.shape(), Shape({3, 3}));
  for (int64_t i = 0; i < 9; ++i) EXPECT_EQ(d.labels.data()[i], z.data()[6 + i]);
  write_npy(dir + "/y1.npy", Tensor::from(Shape{6, 1}, std::vector<float>{0, 1, 2, 0, 1, 2}));
  EXPECT_EQ(load_dataset(parse_data_spec("npy:" + dir + "/x.npy,labels=" + dir + "/y1.npy")).labels.shape(), Shape({6}));
  expect_error([&] { load_dataset(parse_data_spec("npy:" + dir + "/x.npy,labels=" + dir + "/z.npy,label_map=onehot")); },
               ErrorCode::kInvalid, {"onehot needs one class index per sample", "z.npy", "[3]"});
}

TEST(Data, BatchOrderAndGather) {
  std::mt19937_64 rng(42);
  EXPECT_EQ(batch_order(5, false, rng), (std::vector<int64_t>{0, 1, 2, 3, 4}));
  std::mt19937_64 a(42), b(42);
  std::vector<int64_t> o = batch_order(1000, true, a);
  EXPECT_EQ(o, batch_order(1000, true, b));
  EXPECT_NE(o, batch_order(1000, true, a));  // the rng moved on
  std::vector<int64_t> sorted = o;
  std::sort(sorted.begin(), sorted.end());
  std::vector<int64_t> iota(1000);
  std::iota(iota.begin(), iota.end(), 0);
  EXPECT_EQ(sorted, iota);
  EXPECT_NE(o, iota);
  // Our own Fisher-Yates over mt19937_64: the same order with any standard library.
  std::mt19937_64 g(42);
  EXPECT_EQ(batch_order(10, true, g), (std::vector<int64_t>{1, 7, 9, 0, 3, 8, 4, 2, 5, 6}));
  EXPECT_TRUE(batch_order(0, true, g).empty());

  Tensor src = Tensor::from({4, 2, 2}, std::vector<float>{0, 1, 2, 3, 10, 11, 12, 13, 20, 21, 22, 23, 30, 31, 32, 33});
  const std::vector<int64_t> idx = {3, 0, 3};
  Tensor g3 = gather_rows(src, idx);
  ASSERT_EQ(g3.shape(), Shape({3, 2, 2}));
  EXPECT_EQ(std::vector<float>(g3.span().begin(), g3.span().end()),
            (std::vector<float>{30, 31, 32, 33, 0, 1, 2, 3, 30, 31, 32, 33}));
  const std::vector<int64_t> bad = {1, 4};
  expect_error([&] { gather_rows(src, bad); }, ErrorCode::kInvalid, {"row index 4", "[4, 2, 2]"});
}

// ---- specs --------------------------------------------------------------------------

TEST(Data, ParseDataSpec) {
  DataSpec s = parse_data_spec(
      "idx:img.gz,labels=lab.gz,label_column=-2,header=names,rows=5:50,split=test,test_fraction=0.3,"
      "split_seed=99,scale=0.5,standardize=1,label_map=onehot,num_classes=10",
      "/base");
  EXPECT_EQ(s.format, "idx");
  EXPECT_EQ(s.path, "/base/img.gz");
  EXPECT_EQ(s.labels_path, "/base/lab.gz");
  EXPECT_EQ(s.label_column, -2);
  EXPECT_EQ(s.header, "names");
  EXPECT_EQ(s.row_begin, 5);
  EXPECT_EQ(s.row_end, 50);
  EXPECT_EQ(s.split, "test");
  EXPECT_DOUBLE_EQ(s.test_fraction, 0.3);
  EXPECT_EQ(s.split_seed, 99u);
  EXPECT_DOUBLE_EQ(s.scale, 0.5);
  EXPECT_TRUE(s.standardize);
  EXPECT_EQ(s.label_map, "onehot");
  EXPECT_EQ(s.num_classes, 10);

  DataSpec d = parse_data_spec("/abs/data.csv", "/base");
  EXPECT_EQ(d.format, "");
  EXPECT_EQ(d.path, "/abs/data.csv");
  EXPECT_EQ(d.label_column, -1);
  EXPECT_EQ(d.header, "auto");
  EXPECT_EQ(parse_data_spec("rel/data.csv").path, "rel/data.csv");
  EXPECT_EQ(parse_data_spec("x.csv,rows=100:").row_begin, 100);

  expect_error([] { parse_data_spec("x.csv,shuffle=1"); }, ErrorCode::kInvalid,
               {"unknown key 'shuffle'", "known: labels, label_column, header, rows"});
  expect_error([] { parse_data_spec("x.csv,scale=abc"); }, ErrorCode::kInvalid, {"'abc'", "scale"});
  expect_error([] { parse_data_spec("x.csv,rows=5"); }, ErrorCode::kInvalid, {"rows", "BEGIN:END"});
  expect_error([] { parse_data_spec("x.csv,split=valid"); }, ErrorCode::kInvalid, {"'valid'", "train, test"});
  expect_error([] { parse_data_spec("x.csv,label_map=sign"); }, ErrorCode::kInvalid, {"'sign'", "index, pm1, onehot"});
  expect_error([] { parse_data_spec("x.csv,header=yes"); }, ErrorCode::kInvalid, {"'yes'", "auto, sklearn"});
  expect_error([] { parse_data_spec("x.csv,scale=1,scale=2"); }, ErrorCode::kInvalid, {"'scale' given twice"});
  expect_error([] { parse_data_spec("hdf5:x.h5"); }, ErrorCode::kInvalid, {"'hdf5'", "idx, csv, npy"});
  expect_error([] { parse_data_spec("x.csv,test_fraction=1.5"); }, ErrorCode::kInvalid, {"test_fraction"});
  expect_error([] { parse_data_spec("x.csv,standardize"); }, ErrorCode::kInvalid, {"key=value"});
  expect_error([] { parse_data_spec(""); }, ErrorCode::kInvalid, {"no file path"});
}

TEST(Data, DataSpecFromProto) {
  proto::DataSpec p;
  p.set_path("uci/iris.csv");
  DataSpec s = data_spec_from_proto(p, "/models/data");
  EXPECT_EQ(s.path, "/models/data/uci/iris.csv");
  EXPECT_EQ(s.label_column, -1);  // unset: the last column
  EXPECT_EQ(s.header, "auto");
  EXPECT_DOUBLE_EQ(s.test_fraction, 0.2);
  EXPECT_EQ(s.label_map, "index");
  p.set_format("csv");
  p.set_label_column(2);
  p.set_header("sklearn");
  p.set_row_begin(1);
  p.set_row_end(9);
  p.set_split("train");
  p.set_test_fraction(0.5);
  p.set_split_seed(3);
  p.set_scale(2.0);
  p.set_standardize(true);
  p.set_label_map("pm1");
  p.set_num_classes(4);
  p.set_labels_path("/abs/l.gz");
  s = data_spec_from_proto(p, "/models/data");
  EXPECT_EQ(s.format, "csv");
  EXPECT_EQ(s.labels_path, "/abs/l.gz");
  EXPECT_EQ(s.label_column, 2);
  EXPECT_EQ(s.header, "sklearn");
  EXPECT_EQ(s.row_begin, 1);
  EXPECT_EQ(s.row_end, 9);
  EXPECT_EQ(s.split, "train");
  EXPECT_DOUBLE_EQ(s.test_fraction, 0.5);
  EXPECT_EQ(s.split_seed, 3u);
  EXPECT_DOUBLE_EQ(s.scale, 2.0);
  EXPECT_TRUE(s.standardize);
  EXPECT_EQ(s.label_map, "pm1");
  EXPECT_EQ(s.num_classes, 4);
  p.set_label_map("nope");
  expect_error([&] { data_spec_from_proto(p, ""); }, ErrorCode::kInvalid, {"'nope'", "uci/iris.csv"});
}

// ---- errors -------------------------------------------------------------------------

std::string idx_header(uint8_t type, std::vector<uint32_t> dims) {
  std::string h = {0, 0, static_cast<char>(type), static_cast<char>(dims.size())};
  for (uint32_t d : dims)
    for (int s = 24; s >= 0; s -= 8) h += static_cast<char>((d >> s) & 0xFF);
  return h;
}

TEST(Data, IdxErrors) {
  const std::string dir = test::temp_dir();
  const std::string img = dir + "/images-idx3-ubyte", lab = dir + "/labels-idx1-ubyte";
  write_all(img, idx_header(0x08, {3, 28, 28}) + std::string(3 * 784 - 10, '\x01'));
  write_all(lab, idx_header(0x08, {3}) + "\x01\x02\x03");
  expect_error([&] { load("idx:" + img + ",labels=" + lab); }, ErrorCode::kFormat,
               {"truncated IDX file '" + img + "'", "3 x 28 x 28 uint8", "2368 bytes", "found 2358"});
  write_all(img, idx_header(0x08, {3, 28, 28}) + std::string(3 * 784 + 5, '\x01'));
  expect_error([&] { load(img); }, ErrorCode::kFormat, {img, "5 trailing bytes"});
  write_all(img, "\x1f\x8b not really gzip");
  expect_error([&] { load(img); }, ErrorCode::kFormat, {img, "gzip"});
  write_all(img, std::string("\x00\x00\x08", 3));
  expect_error([&] { load(img); }, ErrorCode::kFormat, {img, "truncated", "4-byte magic"});
  write_all(img, idx_header(0x08, {3, 28}).substr(0, 9));
  expect_error([&] { load(img); }, ErrorCode::kFormat, {img, "truncated", "needs 12 bytes, found 9"});
  write_all(img, "GIF89a.......................");
  expect_error([&] { load("idx:" + img); }, ErrorCode::kFormat, {img, "bad magic", "00 00 08 03"});
  write_all(img, idx_header(0x08, {0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF}) + "abc");
  expect_error([&] { load(img); }, ErrorCode::kFormat, {img, "truncated", "4294967295 x"});

  // A gzip file cut in half.
  const std::string gz = read_all(test::source_path(kMnistDir + "/images-idx3-ubyte.gz"));
  write_all(img + ".gz", gz.substr(0, gz.size() / 2));
  expect_error([&] { load("idx:" + img + ".gz"); }, ErrorCode::kFormat, {img + ".gz", "truncated gzip"});

  // Other element types, big-endian; and a label count that does not match.
  std::string be = idx_header(0x0B, {2, 2});
  be += std::string("\xff\xfe\x00\x05\x01\x00\x80\x00", 8);  // -2, 5, 256, -32768
  write_all(img, be);
  write_all(lab, idx_header(0x08, {2}) + "\x01\x02");
  Dataset d = load("idx:" + img + ",labels=" + lab);
  ASSERT_EQ(d.features.shape(), Shape({2, 2}));
  EXPECT_EQ(std::vector<float>(d.features.span().begin(), d.features.span().end()), (std::vector<float>{-2, 5, 256, -32768}));
  EXPECT_EQ(load("idx:" + img).labels.defined(), false);
  write_all(img, idx_header(0x0D, {1, 1}) + std::string("\x3f\xc0\x00\x00", 4));  // 1.5f
  expect_error([&] { load("idx:" + img + ",labels=" + lab); }, ErrorCode::kFormat,
               {lab, "2 labels", img, "1 samples"});
  expect_error([&] { load("idx:" + img + ",label_map=pm1"); }, ErrorCode::kInvalid, {"needs labels", img});
}

TEST(Data, CsvErrors) {
  const std::string dir = test::temp_dir();
  const std::string f = dir + "/d.csv";
  write_all(f, "1,2,0\n3,4,1\n\n5,x7,0\n");
  expect_error([&] { load(f); }, ErrorCode::kFormat, {f + ":4", "field 2", "'x7'"});
  write_all(f, "1,2,0\n3,4,1\n5,0\n");
  expect_error([&] { load(f); }, ErrorCode::kFormat, {f + ":3", "expected 3 fields", "found 2"});
  write_all(f, "1,2,0\n3,,1\n");
  expect_error([&] { load(f); }, ErrorCode::kFormat, {f + ":2", "field 2", "''"});
  write_all(f, "3,2,a,b\n1,2,0\n3,4,1\n");  // header says 3 samples, there are 2
  expect_error([&] { load(f); }, ErrorCode::kFormat, {f + ":1", "3 samples", "found 2 rows"});
  write_all(f, "a,b,label\n");
  expect_error([&] { load(f); }, ErrorCode::kFormat, {f, "no data rows"});
  write_all(f, "7\n8\n");
  expect_error([&] { load(f); }, ErrorCode::kFormat, {f + ":1", "at least 2 columns"});
  write_all(f, "a,2,0\n1,2,0\n");
  expect_error([&] { load(f + ",header=sklearn"); }, ErrorCode::kFormat, {f + ":1", "expected the scikit-learn header"});
  write_all(f, "1,2,0\n");
  expect_error([&] { load(f + ",label_column=3"); }, ErrorCode::kInvalid, {f, "label_column 3", "3 columns"});
  expect_error([&] { load(f + ",header=sklearn"); }, ErrorCode::kFormat, {f, "no data rows", "header says 1 samples"});
  expect_error([&] { load(f + ",rows=0:5"); }, ErrorCode::kInvalid, {f, "rows 0:5", "has 1 rows"});
  expect_error([&] { load(f + ",split=test,test_fraction=0.1"); }, ErrorCode::kInvalid, {f, "selects no rows"});
  expect_error([&] { load(f + ",labels=other.csv"); }, ErrorCode::kInvalid, {"label_column"});
  expect_error([&] { load(dir + "/missing.csv"); }, ErrorCode::kIo, {dir + "/missing.csv", "cannot open"});
  expect_error([&] { load(dir + "/data.bin"); }, ErrorCode::kInvalid, {dir + "/data.bin", "cannot guess"});
}

TEST(Data, CsvHeaderModesAndLabelColumn) {
  const std::string dir = test::temp_dir();
  const std::string f = dir + "/h.csv";
  // Names line, CRLF line ends, spaces, '+' signs, the label first.
  write_all(f, "label, a, b\r\n1, +0.5, -2e3\r\n0, 7, 8\r\n");
  for (const std::string header : {"auto", "names"}) {
    Dataset d = load(f + ",label_column=0,header=" + header);
    ASSERT_EQ(d.features.shape(), Shape({2, 2}));
    EXPECT_EQ(std::vector<float>(d.features.span().begin(), d.features.span().end()), (std::vector<float>{0.5f, -2000, 7, 8}));
    EXPECT_EQ(std::vector<float>(d.labels.span().begin(), d.labels.span().end()), (std::vector<float>{1, 0}));
  }
  EXPECT_EQ(load(f + ",label_column=-3").labels.data()[1], 0.0f);
  // A sklearn-like header without class names (regression sets) is found too.
  write_all(f, "2,2\n1,2,0.5\n3,4,1.5\n");
  EXPECT_EQ(load(f).features.shape(), Shape({2, 2}));
  // A first data row starting with two small integers is data, not a header.
  write_all(f, "2,2,1\n3,4,1\n");
  EXPECT_EQ(load(f).size(), 2);
  EXPECT_EQ(load(f + ",header=names").size(), 1);
}

}  // namespace
}  // namespace plexus
