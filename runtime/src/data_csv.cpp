// CSV files of numbers, gzip-compressed or plain.
//
// Every data line holds the same number of comma-separated numbers; one column
// is the label, the others are the features. Blank lines are skipped (line
// numbers in messages still count them). Quoting is not supported: a CSV of
// numbers has nothing to quote.
//
// Header lines (`header`):
//   none     every line is data.
//   names    the first non-blank line is skipped (column names).
//   sklearn  the first non-blank line is scikit-learn's "n_samples,n_features,
//            class names..."; the data must then have n_samples rows of
//            n_features + 1 columns, which is checked.
//   auto     the first line is taken as the scikit-learn header when all of:
//              1. its first two fields are integers n_samples >= 1 and
//                 n_features >= 1;
//              2. the next non-blank line has exactly n_features + 1 fields;
//              3. the first line could not be a data row of that file: it has
//                 a field that is not a number, or a field count other than
//                 n_features + 1.
//            Otherwise a first line where no field is a number is a line of
//            names (skipped), and any other first line is data: a data row
//            with one bad field is reported, not silently taken for names.
//            Rule 3 is what keeps a data row that happens to start with two
//            small integers (digits.csv: "0,0,5,13,...") from being taken for
//            a header; rules 1 and 2 keep a line of names from being taken for
//            a scikit-learn header.
#include "data_formats.hpp"

#include <plexus/error.hpp>

#include <charconv>
#include <optional>
#include <string_view>
#include <vector>

namespace plexus::detail {

namespace {

struct Line {
  std::string_view text;
  int64_t number = 0;  // 1-based
};

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

std::vector<Line> split_lines(const std::string& text) {
  std::vector<Line> lines;
  size_t pos = 0;
  int64_t number = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    ++number;
    const std::string_view line = trim(std::string_view(text).substr(pos, end - pos));
    if (!line.empty()) lines.push_back({line, number});
    pos = end + 1;
  }
  return lines;
}

std::vector<std::string_view> split_fields(std::string_view line) {
  std::vector<std::string_view> fields;
  size_t pos = 0;
  for (;;) {
    const size_t comma = line.find(',', pos);
    fields.push_back(trim(line.substr(pos, comma == std::string_view::npos ? std::string_view::npos : comma - pos)));
    if (comma == std::string_view::npos) break;
    pos = comma + 1;
  }
  return fields;
}

std::optional<double> parse_number(std::string_view s) {
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  if (s.empty()) return std::nullopt;
  double v = 0.0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

std::optional<int64_t> parse_count(std::string_view s) {
  int64_t v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || s.empty() || v < 0) return std::nullopt;
  return v;
}

bool all_numbers(const std::vector<std::string_view>& fields) {
  for (std::string_view f : fields)
    if (!parse_number(f)) return false;
  return true;
}

struct SklearnHeader {
  int64_t n_samples = 0;
  int64_t n_features = 0;
};

std::optional<SklearnHeader> parse_sklearn(const std::vector<std::string_view>& fields) {
  if (fields.size() < 2) return std::nullopt;
  const auto n = parse_count(fields[0]);
  const auto d = parse_count(fields[1]);
  if (!n || !d) return std::nullopt;
  return SklearnHeader{*n, *d};
}

/// Decides how many leading lines are a header (0 or 1), and whether that
/// header is scikit-learn's.
std::optional<SklearnHeader> detect_header(const std::string& path, const std::vector<Line>& lines,
                                           const std::string& mode, size_t& skip) {
  skip = 0;
  if (mode == "none" || lines.empty()) return std::nullopt;
  const auto first = split_fields(lines[0].text);
  if (mode == "names") {
    skip = 1;
    return std::nullopt;
  }
  const auto sk = parse_sklearn(first);
  if (mode == "sklearn") {
    if (!sk)
      throw Error(ErrorCode::kFormat, path + ":" + std::to_string(lines[0].number) +
                                          ": expected the scikit-learn header 'n_samples,n_features,names...' "
                                          "(two non-negative integers first), found '" + std::string(lines[0].text) + "'");
    skip = 1;
    return sk;
  }
  // auto
  const bool numeric = all_numbers(first);
  if (sk && sk->n_samples >= 1 && sk->n_features >= 1 && lines.size() >= 2) {
    const auto width = static_cast<int64_t>(split_fields(lines[1].text).size());
    const bool could_be_data = numeric && static_cast<int64_t>(first.size()) == sk->n_features + 1;
    if (width == sk->n_features + 1 && !could_be_data) {
      skip = 1;
      return sk;
    }
  }
  bool any_number = false;
  for (std::string_view f : first) any_number = any_number || parse_number(f).has_value();
  skip = any_number ? 0 : 1;
  return std::nullopt;
}

}  // namespace

CsvTable load_csv(const std::string& path, int64_t label_column, const std::string& header) {
  if (header != "auto" && header != "sklearn" && header != "none" && header != "names")
    throw Error(ErrorCode::kInvalid, "unknown CSV header mode '" + header + "' for '" + path +
                                         "' (known: auto, sklearn, none, names)");
  const std::string text = read_file_bytes(path, /*gunzip=*/true);
  const std::vector<Line> lines = split_lines(text);
  size_t skip = 0;
  const std::optional<SklearnHeader> sk = detect_header(path, lines, header, skip);
  if (lines.size() <= skip)
    throw Error(ErrorCode::kFormat, "CSV file '" + path + "' has no data rows" +
                                        (sk ? " (its scikit-learn header says " + std::to_string(sk->n_samples) +
                                                  " samples)"
                                            : std::string()));

  const int64_t width = static_cast<int64_t>(split_fields(lines[skip].text).size());
  if (width < 2)
    throw Error(ErrorCode::kFormat, path + ":" + std::to_string(lines[skip].number) +
                                        ": a data row needs at least 2 columns (features and a label), found 1");
  const int64_t label = label_column < 0 ? width + label_column : label_column;
  if (label < 0 || label >= width)
    throw Error(ErrorCode::kInvalid, "label_column " + std::to_string(label_column) + " is outside the " +
                                         std::to_string(width) + " columns of '" + path + "'");

  const int64_t rows = static_cast<int64_t>(lines.size() - skip);
  std::vector<float> values;
  values.reserve(static_cast<size_t>(rows * width));
  for (size_t i = skip; i < lines.size(); ++i) {
    const auto fields = split_fields(lines[i].text);
    const std::string where = path + ":" + std::to_string(lines[i].number);
    if (static_cast<int64_t>(fields.size()) != width)
      throw Error(ErrorCode::kFormat, where + ": expected " + std::to_string(width) + " fields (as on line " +
                                          std::to_string(lines[skip].number) + "), found " +
                                          std::to_string(fields.size()));
    for (size_t f = 0; f < fields.size(); ++f) {
      const auto v = parse_number(fields[f]);
      if (!v)
        throw Error(ErrorCode::kFormat, where + ": field " + std::to_string(f + 1) + " is not a number: '" +
                                            std::string(fields[f]) + "'");
      values.push_back(static_cast<float>(*v));
    }
  }
  if (sk && (sk->n_samples != rows || sk->n_features + 1 != width))
    throw Error(ErrorCode::kFormat,
                path + ":" + std::to_string(lines[0].number) + ": the scikit-learn header says " +
                    std::to_string(sk->n_samples) + " samples of " + std::to_string(sk->n_features) +
                    " features (" + std::to_string(sk->n_features + 1) + " columns with the label); found " +
                    std::to_string(rows) + " rows of " + std::to_string(width) + " columns");

  CsvTable t;
  t.features = Tensor::empty({rows, width - 1});
  t.labels = Tensor::empty({rows});
  float* x = t.features.data();
  float* y = t.labels.data();
  for (int64_t r = 0; r < rows; ++r) {
    const float* row = values.data() + r * width;
    for (int64_t c = 0; c < width; ++c) {
      if (c == label)
        y[r] = row[c];
      else
        *x++ = row[c];
    }
  }
  return t;
}

}  // namespace plexus::detail
