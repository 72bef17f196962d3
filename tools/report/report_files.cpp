#include "report_files.hpp"

#include "svg_chart.hpp"

#include <plexus/error.hpp>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <sys/stat.h>
#include <unistd.h>

namespace plexus::report {

std::string folder_of(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

void write_atomically(const std::string& path, const std::string& text) {
  std::string tmp = folder_of(path) + "/.plexus_report_XXXXXX";
  const int fd = ::mkstemp(tmp.data());
  if (fd < 0)
    throw Error(ErrorCode::kInvalid, "cannot create a temp file in '" + folder_of(path) + "' for '" + path +
                                         "': " + std::strerror(errno));
  ::fchmod(fd, 0644);  // mkstemp makes 0600; a report is meant to be shared
  size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n <= 0) break;
    done += static_cast<size_t>(n);
  }
  const bool ok = done == text.size() && ::fsync(fd) == 0;
  const bool closed = ::close(fd) == 0;
  if (!ok || !closed || ::rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string why = std::strerror(errno);
    ::unlink(tmp.c_str());
    throw Error(ErrorCode::kInvalid, "cannot write '" + path + "': " + why);
  }
}

std::string number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

Csv::Csv(std::vector<std::string> columns) : columns_(columns.size()) { add_row(columns); }

void Csv::add_row(const std::vector<std::string>& cells) {
  if (cells.size() != columns_)
    throw Error(ErrorCode::kInternal, "Csv row has " + std::to_string(cells.size()) + " cells for " +
                                          std::to_string(columns_) + " columns");
  for (size_t i = 0; i < cells.size(); ++i) text_ += (i ? "," : "") + cells[i];
  text_ += "\n";
}

void Csv::add_row(const std::vector<double>& values) {
  std::vector<std::string> cells;
  for (double v : values) cells.push_back(number(v));
  add_row(cells);
}

void Page::add_heading(const std::string& text) { body_ += "<h2>" + svg::xml_escape(text) + "</h2>\n"; }

void Page::add_text(const std::string& text) { body_ += "<p>" + svg::xml_escape(text) + "</p>\n"; }

void Page::add_table(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows) {
  body_ += "<table>\n<tr>";
  for (const std::string& h : header) body_ += "<th>" + svg::xml_escape(h) + "</th>";
  body_ += "</tr>\n";
  for (const auto& row : rows) {
    body_ += "<tr>";
    for (const std::string& c : row) body_ += "<td>" + svg::xml_escape(c) + "</td>";
    body_ += "</tr>\n";
  }
  body_ += "</table>\n";
}

void Page::add_svg(const std::string& svg) { body_ += "<div class=\"chart\">\n" + svg + "</div>\n"; }

std::string Page::html() const {
  return "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>" + svg::xml_escape(title_) +
         "</title>\n<style>body{font-family:sans-serif;margin:24px;max-width:980px}"
         " .chart{margin-bottom:16px} table{border-collapse:collapse;margin:8px 0 16px}"
         " td,th{border:1px solid #ccc;padding:2px 8px;text-align:right}</style>\n</head>\n<body>\n<h1>" +
         svg::xml_escape(title_) + "</h1>\n" + body_ + "</body>\n</html>\n";
}

}  // namespace plexus::report
