#include "svg_map.hpp"

#include <plexus/error.hpp>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdio>

namespace plexus::svg {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

std::string fmt(double v) { return px(v); }

/// Data values in attributes (data-z, data-level): the shortest text that reads back exactly.
std::string exact(double v) {
  char buf[32];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  return ec == std::errc() ? std::string(buf, end) : std::string("nan");
}

/// A colour bar or legend value: three significant digits.
std::string short_number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3g", v);
  return buf;
}

struct Range {
  double lo = kInf;
  double hi = -kInf;
  void add(double v) {
    if (!std::isfinite(v)) return;
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
};

struct Rgb {
  double r, g, b;
};
// Anchors of matplotlib's viridis at 0, 0.2, ..., 1.
constexpr std::array<Rgb, 6> kViridis = {{{68, 1, 84}, {65, 68, 135}, {42, 120, 142},
                                          {34, 168, 132}, {122, 209, 81}, {253, 231, 37}}};
// ColorBrewer RdBu reversed; the middle anchor (t = 0.5, z = 0) is pure white.
constexpr std::array<Rgb, 5> kBlueWhiteRed = {{{33, 102, 172}, {146, 197, 222}, {255, 255, 255},
                                               {244, 165, 130}, {178, 24, 43}}};

/// Piecewise-linear interpolation between equally spaced anchors, t in [0, 1].
template <size_t N>
std::string ramp(const std::array<Rgb, N>& anchors, double t) {
  const double pos = std::clamp(t, 0.0, 1.0) * static_cast<double>(N - 1);
  const size_t k = std::min(static_cast<size_t>(pos), N - 2);
  const double f = pos - static_cast<double>(k);
  const Rgb& a = anchors[k];
  const Rgb& b = anchors[k + 1];
  auto mix = [f](double p, double q) { return static_cast<int>(std::lround(p + (q - p) * f)); };
  char buf[8];
  std::snprintf(buf, sizeof buf, "#%02x%02x%02x", mix(a.r, b.r), mix(a.g, b.g), mix(a.b, b.b));
  return buf;
}

/// z -> colour for one chart. `lo`/`hi` are in colour space (log10 z when log).
struct ColourMap {
  ColourScale scale = ColourScale::kSequential;
  bool log = false;
  double lo = 0.0;
  double hi = 0.0;

  static ColourMap of(const MapChart& c) {
    ColourMap m{c.scale, c.heat_log && c.scale == ColourScale::kSequential, 0.0, 0.0};
    Range r;
    for (double z : c.heat->z) {
      if (m.log && !(z > 0)) continue;
      r.add(m.scale == ColourScale::kDiverging ? std::fabs(z) : (m.log ? std::log10(z) : z));
    }
    if (r.lo > r.hi) return m;  // no finite value: everything at the middle (or lowest) colour
    if (m.scale == ColourScale::kDiverging) {
      m.lo = -r.hi;
      m.hi = r.hi;
    } else {
      m.lo = r.lo;
      m.hi = r.hi;
    }
    return m;
  }
  /// The position of z on the ramp, 0 = lowest colour.
  double t(double z) const {
    if (log && !(z > 0)) return 0.0;
    const double v = log ? std::log10(z) : z;
    return hi > lo ? (v - lo) / (hi - lo) : (log ? 0.0 : 0.5);
  }
  std::string at_t(double t) const {
    return scale == ColourScale::kDiverging ? ramp(kBlueWhiteRed, t) : ramp(kViridis, t);
  }
  std::string operator()(double z) const { return at_t(t(z)); }
  /// The z value at ramp position t (colour bar labels).
  double value_at(double t) const {
    const double v = lo + (hi - lo) * t;
    return log ? std::pow(10.0, v) : v;
  }
};

/// Data -> pixels over the plot area; y grows upwards.
struct Frame {
  Axis ax, ay;
  double left, right, top, bottom;
  double px(double x) const { return left + (x - ax.lo) / (ax.hi - ax.lo) * (right - left); }
  double py(double y) const { return bottom + (y - ay.lo) / (ay.hi - ay.lo) * (top - bottom); }
  bool inside(const Point& p) const {
    const double ex = 1e-9 * (ax.hi - ax.lo), ey = 1e-9 * (ay.hi - ay.lo);
    return p.x >= ax.lo - ex && p.x <= ax.hi + ex && p.y >= ay.lo - ey && p.y <= ay.hi + ey;
  }
};

bool finite(const Point& p) { return std::isfinite(p.x) && std::isfinite(p.y); }

/// Each NaN bound of the chart from the heat grid's extent, else from the points (plus 5%).
Frame make_frame(const MapChart& c, const Size& z) {
  Range rx, ry;
  if (c.heat) {
    rx.add(c.heat->x0), rx.add(c.heat->x1), ry.add(c.heat->y0), ry.add(c.heat->y1);
  } else {
    for (const ScatterGroup& g : c.scatter)
      for (const Point& p : g.points)
        if (finite(p)) rx.add(p.x), ry.add(p.y);
    for (const Polyline& l : c.lines)
      for (const Point& p : l.points)
        if (finite(p)) rx.add(p.x), ry.add(p.y);
    for (Range* r : {&rx, &ry}) {
      const double pad = r->hi > r->lo ? 0.05 * (r->hi - r->lo) : 0.0;
      r->lo -= pad, r->hi += pad;
    }
  }
  const double x_lo = std::isnan(c.x_lo) ? rx.lo : c.x_lo, x_hi = std::isnan(c.x_hi) ? rx.hi : c.x_hi;
  const double y_lo = std::isnan(c.y_lo) ? ry.lo : c.y_lo, y_hi = std::isnan(c.y_hi) ? ry.hi : c.y_hi;
  return Frame{make_axis(x_lo, x_hi, false, false, 8), make_axis(y_lo, y_hi, false, false, 6),
               static_cast<double>(z.margin_left), static_cast<double>(z.width - z.margin_right),
               static_cast<double>(z.margin_top), static_cast<double>(z.height - z.margin_bottom)};
}

/// One rect per finite grid point, centred on it and cut at the grid's extent (border
/// cells are half cells), so the cells tile the extent exactly. Each rect reaches 0.5 px
/// further right and down so anti-aliasing never shows a hairline between neighbours.
void write_heat(std::string& s, const Grid& g, const ColourMap& cm, const Frame& f) {
  const double hx = (g.x1 - g.x0) / (g.nx - 1) / 2, hy = (g.y1 - g.y0) / (g.ny - 1) / 2;
  const double gx_lo = std::min(g.x0, g.x1), gx_hi = std::max(g.x0, g.x1);
  const double gy_lo = std::min(g.y0, g.y1), gy_hi = std::max(g.y0, g.y1);
  for (int j = 0; j < g.ny; ++j) {
    const double ya = f.py(std::clamp(g.y(j) - hy, gy_lo, gy_hi)), yb = f.py(std::clamp(g.y(j) + hy, gy_lo, gy_hi));
    for (int i = 0; i < g.nx; ++i) {
      const double z = g.at(i, j);
      if (!std::isfinite(z)) continue;
      const double xa = f.px(std::clamp(g.x(i) - hx, gx_lo, gx_hi)), xb = f.px(std::clamp(g.x(i) + hx, gx_lo, gx_hi));
      s += "<rect class=\"heat-cell\" data-z=\"" + exact(z) + "\" x=\"" + fmt(std::min(xa, xb)) + "\" y=\"" +
           fmt(std::min(ya, yb)) + "\" width=\"" + fmt(std::fabs(xb - xa) + 0.5) + "\" height=\"" +
           fmt(std::fabs(yb - ya) + 0.5) + "\" fill=\"" + cm(z) + "\"/>\n";
    }
  }
}

/// The colour bar at the top of the right margin (high values at the top); returns its bottom.
double write_colour_bar(std::string& s, const MapChart& c, const ColourMap& cm, const Frame& f) {
  constexpr int kSteps = 48;
  const double x = f.right + 16, w = 14, y0 = f.top + 22, h = std::min(160.0, (f.bottom - f.top) * 0.45);
  s += "<g class=\"colour-bar\">\n";
  s += "<text class=\"colour-bar-label\" x=\"" + fmt(x) + "\" y=\"" + fmt(f.top + 8) +
       "\" dominant-baseline=\"middle\">" + xml_escape(c.heat_label) + "</text>\n";
  for (int k = 0; k < kSteps; ++k) {
    const double t = (k + 0.5) / kSteps, y = y0 + h * (1.0 - (k + 1.0) / kSteps);
    s += "<rect x=\"" + fmt(x) + "\" y=\"" + fmt(y) + "\" width=\"" + fmt(w) + "\" height=\"" +
         fmt(h / kSteps + 0.5) + "\" fill=\"" + cm.at_t(t) + "\" shape-rendering=\"crispEdges\"/>\n";
  }
  s += "<rect x=\"" + fmt(x) + "\" y=\"" + fmt(y0) + "\" width=\"" + fmt(w) + "\" height=\"" + fmt(h) +
       "\" fill=\"none\" stroke=\"#444\"/>\n";
  for (double t : {0.0, 0.5, 1.0})
    s += "<text class=\"colour-bar-tick\" x=\"" + fmt(x + w + 6) + "\" y=\"" + fmt(y0 + h * (1.0 - t)) +
         "\" dominant-baseline=\"middle\">" + xml_escape(short_number(cm.value_at(t))) + "</text>\n";
  s += "</g>\n";
  return y0 + h;
}

void write_contours(std::string& s, const MapChart& c, const Frame& f) {
  for (double level : c.contour_levels) {
    std::string d;
    double label_x = -kInf, label_y = 0.0;
    for (const auto& [a, b] : contour_segments(*c.heat, level)) {
      const double x1 = f.px(a.x), y1 = f.py(a.y), x2 = f.px(b.x), y2 = f.py(b.y);
      d += (d.empty() ? "M" : " M") + fmt(x1) + " " + fmt(y1) + " L" + fmt(x2) + " " + fmt(y2);
      // The label goes at the rightmost point whose text stays inside the plot area.
      const double mx = (x1 + x2) / 2, my = (y1 + y2) / 2;
      const bool room = mx > f.left + 30 && mx <= f.right && my > f.top + 14 && my <= f.bottom;
      if (room && mx > label_x) label_x = mx, label_y = my;
    }
    s += "<path class=\"contour\" data-level=\"" + exact(level) + "\" d=\"" + d +
         "\" fill=\"none\" stroke=\"#222\" stroke-width=\"0.8\" stroke-opacity=\"0.8\"/>\n";
    if (std::isfinite(label_x))
      s += "<text class=\"contour-label\" x=\"" + fmt(label_x - 3) + "\" y=\"" + fmt(label_y - 3) +
           "\" text-anchor=\"end\" font-size=\"10\" fill=\"#222\">" + xml_escape(short_number(level)) + "</text>\n";
  }
}

void write_scatter(std::string& s, const MapChart& c, const Frame& f) {
  for (size_t gi = 0; gi < c.scatter.size(); ++gi) {
    const ScatterGroup& g = c.scatter[gi];
    s += "<g class=\"scatter-group\" data-label=\"" + xml_escape(g.label) + "\" fill=\"" + series_colour(gi) +
         "\" stroke=\"white\" stroke-width=\"0.75\">\n";
    for (const Point& p : g.points)
      if (finite(p) && f.inside(p))
        s += "<circle cx=\"" + fmt(f.px(p.x)) + "\" cy=\"" + fmt(f.py(p.y)) + "\" r=\"3\"/>\n";
    s += "</g>\n";
  }
}

std::string line_colour(const MapChart& c, size_t i) {
  return c.lines[i].colour.empty() ? series_colour(c.scatter.size() + i) : xml_escape(c.lines[i].colour);
}

/// "M x y L x y ..." with a new M after every NaN; a lone point becomes a round dot ("h0").
std::string line_path(const Polyline& line, const Frame& f) {
  std::string d;
  size_t run = 0;
  for (const Point& p : line.points) {
    if (!finite(p)) {
      if (run == 1) d += " h0";
      run = 0;
      continue;
    }
    d += (d.empty() ? "" : " ") + std::string(run == 0 ? "M" : "L") + fmt(f.px(p.x)) + " " + fmt(f.py(p.y));
    ++run;
  }
  if (run == 1) d += " h0";
  return d;
}

void write_lines(std::string& s, const MapChart& c, const Frame& f, const std::string& clip) {
  for (size_t i = 0; i < c.lines.size(); ++i) {
    const Polyline& l = c.lines[i];
    const std::string colour = line_colour(c, i);
    s += "<path class=\"line\" data-label=\"" + xml_escape(l.label) + "\" d=\"" + line_path(l, f) +
         "\" clip-path=\"url(#" + clip + ")\" fill=\"none\" stroke=\"" + colour + "\" stroke-width=\"2\"" +
         (l.dashed ? " stroke-dasharray=\"6 4\"" : "") + " stroke-linejoin=\"round\" stroke-linecap=\"round\"/>\n";
    if (!l.markers) continue;
    const auto first = std::find_if(l.points.begin(), l.points.end(), finite);
    const auto last = std::find_if(l.points.rbegin(), l.points.rend(), finite);
    if (first == l.points.end()) continue;
    if (f.inside(*first))
      s += "<circle class=\"line-start\" cx=\"" + fmt(f.px(first->x)) + "\" cy=\"" + fmt(f.py(first->y)) +
           "\" r=\"3.5\" fill=\"" + colour + "\" stroke=\"white\" stroke-width=\"0.75\"/>\n";
    if (f.inside(*last))
      s += "<circle class=\"line-end\" cx=\"" + fmt(f.px(last->x)) + "\" cy=\"" + fmt(f.py(last->y)) +
           "\" r=\"4.5\" fill=\"white\" stroke=\"" + colour + "\" stroke-width=\"2\"/>\n";
  }
}

/// Scatter groups then lines, one row each, from y = `top` down the right margin.
void write_legend(std::string& s, const MapChart& c, const Frame& f, double top) {
  double y = top;
  auto label = [&](const std::string& text) {
    s += "<text class=\"legend-label\" x=\"" + fmt(f.right + 44) + "\" y=\"" + fmt(y) +
         "\" dominant-baseline=\"middle\">" + xml_escape(text) + "</text>\n";
    y += 18;
  };
  for (size_t i = 0; i < c.scatter.size(); ++i) {
    s += "<circle class=\"legend-swatch\" cx=\"" + fmt(f.right + 26) + "\" cy=\"" + fmt(y) + "\" r=\"4\" fill=\"" +
         series_colour(i) + "\"/>\n";
    label(c.scatter[i].label);
  }
  for (size_t i = 0; i < c.lines.size(); ++i) {
    s += "<line class=\"legend-swatch\" x1=\"" + fmt(f.right + 14) + "\" y1=\"" + fmt(y) + "\" x2=\"" +
         fmt(f.right + 38) + "\" y2=\"" + fmt(y) + "\" stroke=\"" + line_colour(c, i) + "\" stroke-width=\"3\"" +
         (c.lines[i].dashed ? " stroke-dasharray=\"6 4\"" : "") + "/>\n";
    label(c.lines[i].label);
  }
}

void check_grid(const Grid& g, const char* where) {
  if (g.nx < 2 || g.ny < 2 || g.z.size() != static_cast<size_t>(g.nx) * static_cast<size_t>(g.ny))
    throw Error(ErrorCode::kInvalid, std::string(where) + ": expected a grid with nx, ny >= 2 and nx * ny values, " +
                                         "got nx = " + std::to_string(g.nx) + ", ny = " + std::to_string(g.ny) +
                                         " and " + std::to_string(g.z.size()) + " values");
}

}  // namespace

Grid sample_grid(double x0, double x1, double y0, double y1, int nx, int ny,
                 const std::function<double(double, double)>& f) {
  Grid g{x0, x1, y0, y1, nx, ny, {}};
  if (nx < 2 || ny < 2)
    throw Error(ErrorCode::kInvalid, "sample_grid: expected nx, ny >= 2, got nx = " + std::to_string(nx) +
                                         ", ny = " + std::to_string(ny));
  g.z.reserve(static_cast<size_t>(nx) * static_cast<size_t>(ny));
  for (int j = 0; j < ny; ++j)
    for (int i = 0; i < nx; ++i) g.z.push_back(f(g.x(i), g.y(j)));
  return g;
}

std::vector<std::pair<Point, Point>> contour_segments(const Grid& g, double level) {
  check_grid(g, "contour_segments");
  std::vector<std::pair<Point, Point>> out;
  for (int j = 0; j + 1 < g.ny; ++j) {
    for (int i = 0; i + 1 < g.nx; ++i) {
      // Corners counter-clockwise from (i, j); edge e runs from corner e to corner e + 1.
      const Point p[4] = {{g.x(i), g.y(j)}, {g.x(i + 1), g.y(j)}, {g.x(i + 1), g.y(j + 1)}, {g.x(i), g.y(j + 1)}};
      const double v[4] = {g.at(i, j), g.at(i + 1, j), g.at(i + 1, j + 1), g.at(i, j + 1)};
      if (std::any_of(v, v + 4, [](double z) { return std::isnan(z); })) continue;
      Point cross[4];
      int n = 0;
      for (int e = 0; e < 4; ++e) {
        const int k = (e + 1) % 4;
        if ((v[e] >= level) == (v[k] >= level)) continue;
        const double t = (level - v[e]) / (v[k] - v[e]);
        cross[n++] = {p[e].x + t * (p[k].x - p[e].x), p[e].y + t * (p[k].y - p[e].y)};
      }
      if (n == 2) {
        out.emplace_back(cross[0], cross[1]);
      } else if (n == 4) {
        // Saddle: opposite corners agree. If the centre agrees with corner 0, corners 0 and 2
        // are joined through it and the segments cut off corners 1 (edges 0, 1) and 3 (2, 3);
        // otherwise they cut off corners 0 (edges 3, 0) and 2 (edges 1, 2).
        const bool centre = (v[0] + v[1] + v[2] + v[3]) / 4 >= level;
        if (centre == (v[0] >= level)) {
          out.emplace_back(cross[0], cross[1]);
          out.emplace_back(cross[2], cross[3]);
        } else {
          out.emplace_back(cross[3], cross[0]);
          out.emplace_back(cross[1], cross[2]);
        }
      }
    }
  }
  return out;
}

std::string render_map_svg(const MapChart& c, const Size& z) {
  if (c.heat) check_grid(*c.heat, "render_map_svg: heat");
  const Frame f = make_frame(c, z);
  // The same id for every chart of one Size: charts inlined in one page share identical clip rects.
  const std::string clip = "plexus-map-clip-" + std::to_string(z.width) + "x" + std::to_string(z.height) + "-" +
                           std::to_string(z.margin_left) + "-" + std::to_string(z.margin_right) + "-" +
                           std::to_string(z.margin_top) + "-" + std::to_string(z.margin_bottom);
  std::string s = open_svg(z, c.title);
  s += "<defs><clipPath id=\"" + clip + "\"><rect x=\"" + fmt(f.left) + "\" y=\"" + fmt(f.top) + "\" width=\"" +
       fmt(f.right - f.left) + "\" height=\"" + fmt(f.bottom - f.top) + "\"/></clipPath></defs>\n";
  write_axes(s, f.ax, f.ay, z, c.x_label, c.y_label);
  double legend_top = f.top + 8;
  if (c.heat) {
    const ColourMap cm = ColourMap::of(c);
    s += "<g class=\"heat\" clip-path=\"url(#" + clip + ")\" shape-rendering=\"crispEdges\">\n";
    write_heat(s, *c.heat, cm, f);
    s += "</g>\n<g class=\"contours\" clip-path=\"url(#" + clip + ")\">\n";
    write_contours(s, c, f);
    s += "</g>\n";
    legend_top = write_colour_bar(s, c, cm, f) + 28;
  }
  write_scatter(s, c, f);
  write_lines(s, c, f, clip);
  s += "<rect class=\"plot-area\" x=\"" + fmt(f.left) + "\" y=\"" + fmt(f.top) + "\" width=\"" +
       fmt(f.right - f.left) + "\" height=\"" + fmt(f.bottom - f.top) + "\" fill=\"none\" stroke=\"#444\"/>\n";
  write_legend(s, c, f, legend_top);
  s += "</svg>\n";
  return s;
}

}  // namespace plexus::svg
