// plexus report A.csv [B.csv ...] --out report.svg|report.html [--x COL] [--y COL,COL] [--log-x] [--log-y]
//                [--title T] [--labels a,b]
// Line charts of metrics CSV files (as `plexus train --metrics` writes them): one
// chart per y column, one line per file. Everything is validated before anything
// is written, and the output appears atomically (temp file + rename).
#include "commands.hpp"
#include "common.hpp"
#include "report_files.hpp"
#include "svg_chart.hpp"

#include <plexus/error.hpp>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <set>
#include <sys/stat.h>
#include <unistd.h>

namespace plexus::cli {
namespace {

/// One CSV file: named columns of numbers (NaN for empty cells) and each row's line number.
struct Table {
  std::string path;
  std::vector<std::string> names;
  std::vector<std::vector<double>> columns;
  std::vector<int> lines;

  int find(const std::string& name) const {
    const auto it = std::find(names.begin(), names.end(), name);
    return it == names.end() ? -1 : static_cast<int>(it - names.begin());
  }
};

Error bad(const std::string& msg) { return Error(ErrorCode::kInvalid, msg); }

std::vector<std::string> split(const std::string& line, char sep) {
  std::vector<std::string> cells;
  size_t start = 0;
  while (true) {
    const size_t at = line.find(sep, start);
    std::string cell = line.substr(start, at == std::string::npos ? std::string::npos : at - start);
    const size_t b = cell.find_first_not_of(" \t\r");
    const size_t e = cell.find_last_not_of(" \t\r");
    cells.push_back(b == std::string::npos ? "" : cell.substr(b, e - b + 1));
    if (at == std::string::npos) return cells;
    start = at + 1;
  }
}

double parse_cell(const Table& t, const std::string& cell, int line, size_t col) {
  if (cell.empty()) return std::nan("");
  char* end = nullptr;
  errno = 0;
  const double v = std::strtod(cell.c_str(), &end);
  if (end != cell.c_str() + cell.size() || std::isinf(v))
    throw bad(t.path + ":" + std::to_string(line) + ": column '" + t.names[col] + "' (" + std::to_string(col + 1) +
              "): '" + cell + "' is not a finite number");
  return v;
}

Table read_table(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw bad("cannot open '" + path + "': " + std::strerror(errno));
  Table t;
  t.path = path;
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    std::vector<std::string> cells = split(line, ',');
    if (t.names.empty()) {
      t.names = cells;
      t.columns.resize(cells.size());
      continue;
    }
    if (cells.size() != t.names.size())
      throw bad(path + ":" + std::to_string(n) + ": expected " + std::to_string(t.names.size()) +
                " cells (as in the header), found " + std::to_string(cells.size()));
    for (size_t c = 0; c < cells.size(); ++c) t.columns[c].push_back(parse_cell(t, cells[c], n, c));
    t.lines.push_back(n);
  }
  if (t.names.empty()) throw bad("'" + path + "' is empty (expected a header row and data rows)");
  if (t.lines.empty()) throw bad("'" + path + "' has a header but no data rows");
  return t;
}

std::string known_columns(const Table& t) {
  std::string s;
  for (const std::string& n : t.names) s += (s.empty() ? "" : ", ") + n;
  return s;
}

int require_column(const Table& t, const std::string& name, const std::string& flag) {
  const int c = t.find(name);
  if (c < 0) throw bad(flag + " column '" + name + "' not in '" + t.path + "' (known: " + known_columns(t) + ")");
  return c;
}

bool has_values(const std::vector<Table>& tables, const std::string& name) {
  for (const Table& t : tables)
    for (double v : t.columns[static_cast<size_t>(t.find(name))])
      if (!std::isnan(v)) return true;
  return false;
}

/// Every column of the first file present in all files, except x and bookkeeping columns, with some value.
std::vector<std::string> default_y(const std::vector<Table>& tables, const std::string& x) {
  const std::set<std::string> skip = {x, "seconds", "samples_per_sec", "step", "epoch"};
  std::vector<std::string> ys;
  for (const std::string& name : tables[0].names) {
    if (skip.count(name)) continue;
    bool everywhere = true;
    for (const Table& t : tables) everywhere = everywhere && t.find(name) >= 0;
    if (everywhere && has_values(tables, name)) ys.push_back(name);
  }
  if (ys.empty())
    throw bad("no column to plot in '" + tables[0].path + "' (columns: " + known_columns(tables[0]) + ")");
  return ys;
}

void check_positive(const Table& t, int col, const std::string& axis) {
  const std::vector<double>& v = t.columns[static_cast<size_t>(col)];
  for (size_t r = 0; r < v.size(); ++r)
    if (!std::isnan(v[r]) && v[r] <= 0)
      throw bad(t.path + ":" + std::to_string(t.lines[r]) + ": column '" + t.names[static_cast<size_t>(col)] +
                "' has the value " + svg::format_tick(v[r], 1e-6) + " but " + axis +
                " is logarithmic (needs values > 0)");
}

std::string base_name(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  std::string b = slash == std::string::npos ? path : path.substr(slash + 1);
  const size_t dot = b.find_last_of('.');
  return dot == std::string::npos || dot == 0 ? b : b.substr(0, dot);
}

std::vector<std::string> split_list(const po::variables_map& vm, const std::string& flag) {
  if (!vm.count(flag)) return {};
  std::vector<std::string> items = split(vm[flag].as<std::string>(), ',');
  items.erase(std::remove(items.begin(), items.end(), std::string()), items.end());
  return items;
}

struct Options {
  std::vector<std::string> files;
  std::string out;
  bool html = false;
  std::string title;
  std::vector<std::string> labels;
  bool log_x = false;
  bool log_y = false;
};

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::vector<svg::Chart> build_charts(const Options& o, const std::vector<Table>& tables, const std::string& x,
                                     const std::vector<std::string>& ys) {
  std::vector<svg::Chart> charts;
  for (const std::string& y : ys) {
    svg::Chart c{o.title.empty() ? y : o.title + ": " + y, x, y, o.log_x, o.log_y, {}};
    for (size_t f = 0; f < tables.size(); ++f) {
      const Table& t = tables[f];
      const int cx = require_column(t, x, "--x"), cy = require_column(t, y, "--y");
      if (o.log_x) check_positive(t, cx, "the x axis");
      if (o.log_y) check_positive(t, cy, "the y axis");
      svg::Series s{o.labels.empty() ? base_name(t.path) : o.labels[f], {}};
      for (size_t r = 0; r < t.lines.size(); ++r)
        s.points.push_back({t.columns[static_cast<size_t>(cx)][r], t.columns[static_cast<size_t>(cy)][r]});
      c.series.push_back(std::move(s));
    }
    charts.push_back(std::move(c));
  }
  return charts;
}

}  // namespace

int cmd_report(int argc, char** argv) {
  po::options_description d("options");
  d.add_options()
      ("files", po::value<std::vector<std::string>>()->required(), "metrics CSV files (one line per file)")
      ("out", po::value<std::string>()->required(), "output: FILE.svg (charts stacked) or FILE.html (charts inline)")
      ("x", po::value<std::string>(), "x column (default: epoch if every file has it, else the first column)")
      ("y", po::value<std::string>(), "comma-separated y columns, one chart each (default: every metric column)")
      ("log-x", "logarithmic x axis")
      ("log-y", "logarithmic y axis")
      ("title", po::value<std::string>(), "title of the report")
      ("labels", po::value<std::string>(), "comma-separated legend labels, one per file (default: file base names)");
  po::positional_options_description pos;
  pos.add("files", -1);
  auto vm = parse(argc, argv, "plexus report A.csv [B.csv ...] --out report.svg|report.html [--x COL] [--y COL,...]",
                  d, pos);
  if (!vm) return 0;

  Options o;
  o.files = (*vm)["files"].as<std::vector<std::string>>();
  o.out = (*vm)["out"].as<std::string>();
  const std::string ext = lower(o.out.substr(o.out.find_last_of('.') == std::string::npos ? o.out.size()
                                                                                         : o.out.find_last_of('.')));
  if (ext != ".svg" && ext != ".html" && ext != ".htm")
    throw bad("--out '" + o.out + "': expected a name ending in .svg or .html");
  o.html = ext != ".svg";
  o.title = vm->count("title") ? (*vm)["title"].as<std::string>() : "";
  o.labels = split_list(*vm, "labels");
  o.log_x = vm->count("log-x") > 0;
  o.log_y = vm->count("log-y") > 0;
  if (vm->count("labels") && o.labels.size() != o.files.size())
    throw bad("--labels has " + std::to_string(o.labels.size()) + " label(s) for " + std::to_string(o.files.size()) +
              " file(s)");

  std::vector<Table> tables;
  for (const std::string& f : o.files) tables.push_back(read_table(f));
  std::string x = vm->count("x") ? (*vm)["x"].as<std::string>() : "epoch";
  if (!vm->count("x") && std::any_of(tables.begin(), tables.end(), [](const Table& t) { return t.find("epoch") < 0; }))
    x = tables[0].names[0];
  for (const Table& t : tables) require_column(t, x, "--x");
  std::vector<std::string> ys = vm->count("y") ? split_list(*vm, "y") : default_y(tables, x);
  if (ys.empty()) throw bad("--y: no column named");

  std::vector<std::string> rendered;
  for (const svg::Chart& c : build_charts(o, tables, x, ys)) rendered.push_back(svg::render_svg(c));
  std::string text;
  if (o.html) {
    report::Page page(o.title.empty() ? "plexus report" : o.title);
    for (const std::string& c : rendered) page.add_svg(c);
    text = page.html();
  } else {
    text = svg::stack_svg(rendered);
  }
  report::write_atomically(o.out, text);
  std::printf("wrote %s: %zu chart(s), %zu run(s)\n", o.out.c_str(), rendered.size(), tables.size());
  return 0;
}

}  // namespace plexus::cli
