// Writing report files: atomically (a reader never sees half a file) and as
// self-contained HTML pages that embed SVG charts (no scripts, no network).
//
//   plexus::report::Page page{"LISTA vs ISTA"};
//   page.add_text("Each learned step is worth many fixed ones.");
//   page.add_table({"T", "error"}, {{"1", "0.31"}, {"2", "0.12"}});
//   page.add_svg(svg::render_svg(chart));
//   plexus::report::write_atomically("runs/lista/report.html", page.html());
#ifndef PLEXUS_TOOLS_REPORT_FILES_HPP
#define PLEXUS_TOOLS_REPORT_FILES_HPP

#include <string>
#include <vector>

namespace plexus::report {

/// The folder of a file path: "." if it has none.
std::string folder_of(const std::string& path);

/// Writes `text` to a temp file beside `path`, fsyncs it, then renames it over
/// `path`. On failure nothing is left behind and an Error names `path`.
void write_atomically(const std::string& path, const std::string& text);

/// A CSV file built row by row; cells are written as given (numbers with %.9g).
class Csv {
 public:
  explicit Csv(std::vector<std::string> columns);
  void add_row(const std::vector<double>& values);
  void add_row(const std::vector<std::string>& cells);
  std::string text() const { return text_; }

 private:
  size_t columns_;
  std::string text_;
};

/// "%.9g": enough digits to read a float back exactly.
std::string number(double v);

/// One HTML page: a title, then paragraphs, tables and inline SVG charts in order.
class Page {
 public:
  explicit Page(std::string title) : title_(std::move(title)) {}
  void add_heading(const std::string& text);
  void add_text(const std::string& text);  ///< one paragraph, escaped
  void add_table(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows);
  void add_svg(const std::string& svg);    ///< an <svg> element as rendered by svg::render_*
  std::string html() const;

 private:
  std::string title_;
  std::string body_;
};

}  // namespace plexus::report

#endif
