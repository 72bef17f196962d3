#include "svg_chart.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

namespace plexus::svg {
namespace {

constexpr double kSlack = 1e-9;
const char* const kPalette[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                                "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};

std::string fmt(double v) { return px(v); }

/// Maps data values to pixels along one axis (pixel lo -> domain lo).
struct Scale {
  const Axis& axis;
  double px_lo;
  double px_hi;
  double operator()(double v) const {
    const double t = axis.log ? std::log10(v) : v;
    return px_lo + (t - axis.lo) / (axis.hi - axis.lo) * (px_hi - px_lo);
  }
};

struct Range {
  double lo = std::numeric_limits<double>::infinity();
  double hi = -std::numeric_limits<double>::infinity();
  void add(double v) {
    if (!std::isfinite(v)) return;
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
};

double tick_step(const std::vector<double>& ticks) { return ticks.size() > 1 ? ticks[1] - ticks[0] : 1.0; }

/// Finite, and positive on a log axis; anything else is drawn as a gap.
bool drawable(const Point& p, const Chart& c) {
  return std::isfinite(p.x) && std::isfinite(p.y) && (!c.log_x || p.x > 0) && (!c.log_y || p.y > 0);
}

/// "M x y L x y ..." with a new M after every gap; a lone point becomes a round dot ("h0").
std::string path_data(const Chart& chart, const Series& series, const Scale& sx, const Scale& sy) {
  std::string d;
  size_t run = 0;
  for (const Point& p : series.points) {
    if (!drawable(p, chart)) {
      if (run == 1) d += " h0";
      run = 0;
      continue;
    }
    if (!d.empty()) d += ' ';
    d += run == 0 ? 'M' : 'L';
    d += fmt(sx(p.x));
    d += ' ';
    d += fmt(sy(p.y));
    ++run;
  }
  if (run == 1) d += " h0";
  return d;
}

}  // namespace

double nice_step(double raw) {
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (m * mag >= raw * (1 - kSlack)) return m * mag;
  return 10.0 * mag;
}

std::vector<double> nice_ticks(double lo, double hi, int target) {
  std::vector<double> ticks;
  if (!(hi > lo)) return {lo};
  const double step = nice_step((hi - lo) / std::max(1, target));
  const double first = std::ceil(lo / step - kSlack);
  const double last = std::floor(hi / step + kSlack);
  for (double k = first; k <= last; k += 1.0) ticks.push_back(k * step == 0.0 ? 0.0 : k * step);
  return ticks;
}

std::vector<double> decade_ticks(double lo, double hi, int max_ticks) {
  const int first = static_cast<int>(std::ceil(std::log10(lo) - kSlack));
  const int last = static_cast<int>(std::floor(std::log10(hi) + kSlack));
  const int count = last - first + 1;
  const int every = std::max(1, (count + max_ticks - 1) / std::max(1, max_ticks));
  std::vector<double> ticks;
  for (int e = first; e <= last; e += every) ticks.push_back(std::pow(10.0, e));
  return ticks;
}

Axis make_axis(double data_lo, double data_hi, bool log, bool expand, int target) {
  Axis a;
  a.log = log;
  if (!std::isfinite(data_lo) || !std::isfinite(data_hi)) {
    data_lo = log ? 1.0 : 0.0;
    data_hi = log ? 10.0 : 1.0;
  }
  if (log) {
    a.lo = std::floor(std::log10(data_lo) + kSlack);
    a.hi = std::ceil(std::log10(data_hi) - kSlack);
    if (a.hi <= a.lo) a.hi = a.lo + 1;
    a.ticks = decade_ticks(std::pow(10.0, a.lo), std::pow(10.0, a.hi), target);
    return a;
  }
  if (data_hi <= data_lo) {
    const double d = data_lo == 0.0 ? 1.0 : std::fabs(data_lo) * 0.1;
    data_lo -= d;
    data_hi += d;
  }
  a.lo = data_lo;
  a.hi = data_hi;
  if (expand) {
    const double step = nice_step((data_hi - data_lo) / std::max(1, target));
    a.lo = std::floor(data_lo / step + kSlack) * step;
    a.hi = std::ceil(data_hi / step - kSlack) * step;
  }
  a.ticks = nice_ticks(a.lo, a.hi, target);
  return a;
}

std::string format_tick(double value, double step) {
  char buf[48];
  const double mag = std::fabs(value);
  if (mag != 0.0 && (mag >= 1e6 || mag < 1e-4)) {
    const int e = static_cast<int>(std::floor(std::log10(mag) + kSlack));
    const double mant = value / std::pow(10.0, e);
    if (std::fabs(mant - std::round(mant)) < 1e-6) {
      std::snprintf(buf, sizeof buf, "%.0fe%d", std::round(mant), e);
      return buf;
    }
    std::snprintf(buf, sizeof buf, "%.3g", value);
    return buf;
  }
  const int decimals = std::clamp(static_cast<int>(-std::floor(std::log10(std::fabs(step)) + kSlack)), 0, 12);
  std::snprintf(buf, sizeof buf, "%.*f", decimals, value);
  return buf;
}

std::string xml_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string series_colour(size_t i) {
  if (i < std::size(kPalette)) return kPalette[i];
  const int hue = static_cast<int>((i * 137.508) - 360.0 * std::floor(i * 137.508 / 360.0));
  return "hsl(" + std::to_string(hue) + ",65%,45%)";
}

std::string px(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", v);
  return buf;
}

std::string open_svg(const Size& z, const std::string& title) {
  const std::string w = std::to_string(z.width), h = std::to_string(z.height);
  std::string s = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + w + "\" height=\"" + h + "\" viewBox=\"0 0 " +
                  w + " " + h + "\" font-family=\"sans-serif\" font-size=\"12\">\n";
  s += "<rect class=\"background\" x=\"0\" y=\"0\" width=\"" + w + "\" height=\"" + h + "\" fill=\"white\"/>\n";
  s += "<text class=\"title\" x=\"" + px((z.margin_left + z.width - z.margin_right) / 2.0) +
       "\" y=\"24\" text-anchor=\"middle\" font-size=\"15\">" + xml_escape(title) + "</text>\n";
  return s;
}

void write_axes(std::string& s, const Axis& ax, const Axis& ay, const Size& z, const std::string& x_label,
                const std::string& y_label) {
  const double left = z.margin_left, right = z.width - z.margin_right;
  const double top = z.margin_top, bottom = z.height - z.margin_bottom;
  const Scale sx{ax, left, right};
  const Scale sy{ay, bottom, top};
  const double step_x = tick_step(ax.ticks), step_y = tick_step(ay.ticks);
  for (double t : ax.ticks) {
    const double x = sx(t);
    s += "<line class=\"grid\" x1=\"" + px(x) + "\" y1=\"" + px(top) + "\" x2=\"" + px(x) + "\" y2=\"" + px(bottom) +
         "\" stroke=\"#e0e0e0\"/>\n";
    s += "<text class=\"x-tick\" x=\"" + px(x) + "\" y=\"" + px(bottom + 16) + "\" text-anchor=\"middle\">" +
         xml_escape(format_tick(t, ax.log ? t : step_x)) + "</text>\n";
  }
  for (double t : ay.ticks) {
    const double y = sy(t);
    s += "<line class=\"grid\" x1=\"" + px(left) + "\" y1=\"" + px(y) + "\" x2=\"" + px(right) + "\" y2=\"" + px(y) +
         "\" stroke=\"#e0e0e0\"/>\n";
    s += "<text class=\"y-tick\" x=\"" + px(left - 6) + "\" y=\"" + px(y) +
         "\" text-anchor=\"end\" dominant-baseline=\"middle\">" + xml_escape(format_tick(t, ay.log ? t : step_y)) +
         "</text>\n";
  }
  const double mid_x = (left + right) / 2, mid_y = (top + bottom) / 2;
  s += "<text class=\"x-label\" x=\"" + px(mid_x) + "\" y=\"" + px(bottom + 38) + "\" text-anchor=\"middle\">" +
       xml_escape(x_label) + "</text>\n";
  s += "<text class=\"y-label\" x=\"16\" y=\"" + px(mid_y) + "\" text-anchor=\"middle\" transform=\"rotate(-90 16 " +
       px(mid_y) + ")\">" + xml_escape(y_label) + "</text>\n";
}

std::string render_svg(const Chart& chart, const Size& z) {
  Range rx, ry;
  for (const Series& s : chart.series)
    for (const Point& p : s.points)
      if (drawable(p, chart)) {
        rx.add(p.x);
        ry.add(p.y);
      }
  const Axis ax = make_axis(rx.lo, rx.hi, chart.log_x, false, 8);
  const Axis ay = make_axis(ry.lo, ry.hi, chart.log_y, true, 6);
  const double left = z.margin_left, right = z.width - z.margin_right;
  const double top = z.margin_top, bottom = z.height - z.margin_bottom;
  const Scale sx{ax, left, right};
  const Scale sy{ay, bottom, top};

  std::string s = open_svg(z, chart.title);
  write_axes(s, ax, ay, z, chart.x_label, chart.y_label);
  s += "<rect class=\"plot-area\" x=\"" + fmt(left) + "\" y=\"" + fmt(top) + "\" width=\"" + fmt(right - left) +
       "\" height=\"" + fmt(bottom - top) + "\" fill=\"none\" stroke=\"#444\"/>\n";
  for (size_t i = 0; i < chart.series.size(); ++i) {
    const Series& ser = chart.series[i];
    s += "<path class=\"series\" data-label=\"" + xml_escape(ser.label) + "\" d=\"" + path_data(chart, ser, sx, sy) +
         "\" fill=\"none\" stroke=\"" + series_colour(i) +
         "\" stroke-width=\"2\" stroke-linejoin=\"round\" stroke-linecap=\"round\"/>\n";
    const double ly = top + 8 + 18.0 * static_cast<double>(i);
    s += "<line class=\"legend-swatch\" x1=\"" + fmt(right + 14) + "\" y1=\"" + fmt(ly) + "\" x2=\"" + fmt(right + 38) +
         "\" y2=\"" + fmt(ly) + "\" stroke=\"" + series_colour(i) + "\" stroke-width=\"3\"/>\n";
    s += "<text class=\"legend-label\" x=\"" + fmt(right + 44) + "\" y=\"" + fmt(ly) +
         "\" dominant-baseline=\"middle\">" + xml_escape(ser.label) + "</text>\n";
  }
  s += "</svg>\n";
  return s;
}

std::string stack_svg(const std::vector<std::string>& charts, const Size& z) {
  const std::string h = std::to_string(z.height * static_cast<int>(charts.size()));
  std::string s = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" +
                  std::to_string(z.width) + "\" height=\"" + h + "\" viewBox=\"0 0 " + std::to_string(z.width) +
                  " " + h + "\">\n";
  for (size_t i = 0; i < charts.size(); ++i)
    s += "<g class=\"chart\" transform=\"translate(0 " + std::to_string(z.height * static_cast<int>(i)) + ")\">\n" +
         charts[i] + "</g>\n";
  s += "</svg>\n";
  return s;
}

}  // namespace plexus::svg
