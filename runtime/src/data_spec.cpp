// DataSpec from a model file's proto::DataSpec or from the command line.
#include "data_formats.hpp"

#include <plexus/data.hpp>
#include <plexus/error.hpp>

#include "plexus.pb.h"

#include <charconv>
#include <cmath>
#include <filesystem>
#include <set>
#include <string_view>
#include <vector>

namespace plexus {

namespace {

constexpr const char* kKnownKeys =
    "labels, label_column, header, rows, split, test_fraction, split_seed, scale, standardize, label_map, num_classes";

std::string resolve(const std::string& path, const std::string& base_dir) {
  if (path.empty() || base_dir.empty() || std::filesystem::path(path).is_absolute()) return path;
  return (std::filesystem::path(base_dir) / path).string();
}

[[noreturn]] void bad_value(const std::string& text, const std::string& key, const std::string& value,
                            const std::string& expected) {
  throw Error(ErrorCode::kInvalid, "data spec '" + text + "': bad value '" + value + "' for " + key + " (expected " +
                                       expected + ")");
}

template <typename T>
T parse_int(const std::string& text, const std::string& key, std::string_view v, const std::string& expected) {
  T r{};
  const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), r);
  if (v.empty() || ec != std::errc() || end != v.data() + v.size()) bad_value(text, key, std::string(v), expected);
  return r;
}

double parse_double(const std::string& text, const std::string& key, std::string_view v) {
  double r = 0.0;
  const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), r);
  if (v.empty() || ec != std::errc() || end != v.data() + v.size() || !std::isfinite(r))
    bad_value(text, key, std::string(v), "a finite number");
  return r;
}

void set_key(DataSpec& s, const std::string& text, const std::string& key, const std::string& v,
             const std::string& base_dir) {
  if (key == "labels") {
    s.labels_path = resolve(v, base_dir);
  } else if (key == "label_column") {
    s.label_column = parse_int<int64_t>(text, key, v, "an integer column, negative from the end");
  } else if (key == "header") {
    s.header = v;
  } else if (key == "rows") {
    const size_t colon = v.find(':');
    if (colon == std::string::npos) bad_value(text, key, v, "BEGIN:END, e.g. 0:8000 or 8000:");
    const std::string_view b = std::string_view(v).substr(0, colon);
    const std::string_view e = std::string_view(v).substr(colon + 1);
    s.row_begin = b.empty() ? 0 : parse_int<int64_t>(text, key, b, "BEGIN:END with non-negative integers");
    s.row_end = e.empty() ? 0 : parse_int<int64_t>(text, key, e, "BEGIN:END with non-negative integers");
  } else if (key == "split") {
    s.split = v;
  } else if (key == "test_fraction") {
    s.test_fraction = parse_double(text, key, v);
  } else if (key == "split_seed") {
    s.split_seed = parse_int<uint64_t>(text, key, v, "a non-negative integer");
  } else if (key == "scale") {
    s.scale = parse_double(text, key, v);
  } else if (key == "standardize") {
    if (v == "1" || v == "true") s.standardize = true;
    else if (v == "0" || v == "false") s.standardize = false;
    else bad_value(text, key, v, "0 or 1");
  } else if (key == "label_map") {
    s.label_map = v;
  } else if (key == "num_classes") {
    s.num_classes = parse_int<int64_t>(text, key, v, "a non-negative integer");
  } else {
    throw Error(ErrorCode::kInvalid, "data spec '" + text + "': unknown key '" + key + "' (known: " + kKnownKeys + ")");
  }
}

}  // namespace

namespace detail {

void validate_data_spec(const DataSpec& s, const std::string& where) {
  auto fail = [&](const std::string& what) { throw Error(ErrorCode::kInvalid, where + ": " + what); };
  if (s.path.empty()) fail("no data file given");
  if (!s.format.empty() && s.format != "idx" && s.format != "csv" && s.format != "npy")
    fail("unknown data format '" + s.format + "' (known: idx, csv, npy)");
  if (s.header != "auto" && s.header != "sklearn" && s.header != "none" && s.header != "names")
    fail("unknown CSV header mode '" + s.header + "' (known: auto, sklearn, none, names)");
  if (s.split != "" && s.split != "train" && s.split != "test")
    fail("unknown split '" + s.split + "' (known: train, test, or empty for all rows)");
  if (!(s.test_fraction >= 0.0 && s.test_fraction <= 1.0))
    fail("test_fraction " + std::to_string(s.test_fraction) + " is outside [0, 1]");
  if (!std::isfinite(s.scale)) fail("scale must be a finite number");
  if (s.label_map != "index" && s.label_map != "pm1" && s.label_map != "onehot")
    fail("unknown label_map '" + s.label_map + "' (known: index, pm1, onehot)");
  if (s.num_classes < 0) fail("num_classes " + std::to_string(s.num_classes) + " is negative");
  if (s.row_begin < 0 || s.row_end < 0 || (s.row_end != 0 && s.row_begin > s.row_end))
    fail("bad row range " + std::to_string(s.row_begin) + ":" + std::to_string(s.row_end) +
         " (expected 0 <= BEGIN <= END, END 0 for all rows)");
}

}  // namespace detail

DataSpec data_spec_from_proto(const proto::DataSpec& p, const std::string& base_dir) {
  DataSpec s;
  s.format = p.format();
  s.path = resolve(p.path(), base_dir);
  s.labels_path = resolve(p.labels_path(), base_dir);
  // Unset (field presence: `optional` in the .proto) means the last column.
  if (p.has_label_column()) s.label_column = p.label_column();
  if (!p.header().empty()) s.header = p.header();
  s.row_begin = p.row_begin();
  s.row_end = p.row_end();
  s.split = p.split();
  if (p.has_test_fraction()) s.test_fraction = p.test_fraction();
  s.split_seed = p.split_seed();
  s.scale = p.scale();
  s.standardize = p.standardize();
  if (!p.label_map().empty()) s.label_map = p.label_map();
  s.num_classes = p.num_classes();
  detail::validate_data_spec(s, "data spec for '" + s.path + "'");
  return s;
}

DataSpec parse_data_spec(const std::string& text, const std::string& base_dir) {
  std::vector<std::string> parts;
  size_t pos = 0;
  for (;;) {
    const size_t comma = text.find(',', pos);
    parts.push_back(text.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos));
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  DataSpec s;
  std::string path = parts[0];
  const size_t colon = path.find(':');
  if (colon != std::string::npos && colon > 0 &&
      path.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789") == colon) {
    s.format = path.substr(0, colon);
    path = path.substr(colon + 1);
  }
  if (path.empty())
    throw Error(ErrorCode::kInvalid, "data spec '" + text + "': no file path (expected FORMAT:PATH[,key=value...] "
                                         "or PATH[,key=value...])");
  s.path = resolve(path, base_dir);
  std::set<std::string> seen;
  for (size_t i = 1; i < parts.size(); ++i) {
    const size_t eq = parts[i].find('=');
    if (eq == std::string::npos || eq == 0)
      throw Error(ErrorCode::kInvalid, "data spec '" + text + "': expected key=value, found '" + parts[i] +
                                           "' (known keys: " + kKnownKeys + ")");
    const std::string key = parts[i].substr(0, eq);
    if (!seen.insert(key).second)
      throw Error(ErrorCode::kInvalid, "data spec '" + text + "': key '" + key + "' given twice");
    set_key(s, text, key, parts[i].substr(eq + 1), base_dir);
  }
  detail::validate_data_spec(s, "data spec '" + text + "'");
  return s;
}

}  // namespace plexus
