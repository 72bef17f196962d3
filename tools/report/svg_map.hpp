// Maps of a plane as SVG: a heat map of a function sampled on a grid, its
// contour lines, scatter points in groups and polylines (trajectories,
// decision boundaries, reference curves). Same conventions as svg_chart.hpp:
// one <svg> element, escaped text, no scripts, no external resources.
//
//   svg::MapChart m{.title = "loss landscape", .x_label = "w1", .y_label = "w2"};
//   m.heat = svg::sample_grid(-2, 2, -2, 2, 61, 61, [](double x, double y) { return f(x, y); });
//   m.contour_levels = {0.1, 1, 10};
//   m.lines.push_back({"SGD from (2, -1)", trajectory});
//   std::string doc = svg::render_map_svg(m);
#ifndef PLEXUS_TOOLS_SVG_MAP_HPP
#define PLEXUS_TOOLS_SVG_MAP_HPP

#include "svg_chart.hpp"

#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace plexus::svg {

/// A function sampled on a regular nx x ny grid: z[j * nx + i] is the value at
/// x = x0 + i (x1 - x0) / (nx - 1), y = y0 + j (y1 - y0) / (ny - 1). nx, ny >= 2.
/// NaN values are allowed (drawn as no colour, never crossed by a contour).
struct Grid {
  double x0 = 0.0, x1 = 1.0, y0 = 0.0, y1 = 1.0;
  int nx = 0, ny = 0;
  std::vector<double> z;
  double x(int i) const { return x0 + (x1 - x0) * i / (nx - 1); }
  double y(int j) const { return y0 + (y1 - y0) * j / (ny - 1); }
  double at(int i, int j) const { return z[static_cast<size_t>(j) * static_cast<size_t>(nx) + static_cast<size_t>(i)]; }
};

/// Samples f on the grid described by the other arguments: z[j * nx + i] = f(x(i), y(j)).
/// Throws plexus::Error (kInvalid) unless nx, ny >= 2.
Grid sample_grid(double x0, double x1, double y0, double y1, int nx, int ny,
                 const std::function<double(double, double)>& f);

/// The contour of `grid` at `level` by marching squares on its cells, with
/// crossing points placed by linear interpolation along cell edges: a list of
/// segments (unordered, unjoined). Cells with a NaN corner give no segment. A value equal
/// to `level` counts as above it; the two saddle cases are resolved by the mean of the
/// cell's four corners. Throws plexus::Error (kInvalid) for a malformed grid.
std::vector<std::pair<Point, Point>> contour_segments(const Grid& grid, double level);

enum class ColourScale {
  kSequential,  ///< low = dark blue ... high = yellow (viridis-like)
  kDiverging,   ///< negative = blue, 0 = white, positive = red; symmetric around 0
};

/// Points drawn as small circles, one colour per group (series_colour(group index)).
struct ScatterGroup {
  std::string label;
  std::vector<Point> points;
};

/// A polyline in data coordinates; NaN breaks it. `markers` draws a dot at its
/// start and a ring at its end (trajectories).
struct Polyline {
  std::string label;
  std::vector<Point> points;
  bool dashed = false;
  bool markers = false;
  std::string colour;  ///< empty: series_colour(index among lines, after the scatter groups)
};

/// NaN: a domain bound taken from the data (the heat grid's extent, else the range of
/// the scatter and line points plus 5% on each side). Points outside the domain are clipped.
inline constexpr double kAuto = std::numeric_limits<double>::quiet_NaN();

struct MapChart {
  std::string title;
  std::string x_label;
  std::string y_label;
  /// The plotted domain. NaN: the heat grid's extent, else the data range.
  double x_lo = kAuto, x_hi = kAuto, y_lo = kAuto, y_hi = kAuto;
  /// Drawn first, one rect per finite grid point, centred on it and cut at the grid's
  /// extent (border cells are half cells), so the cells cover the extent exactly.
  std::optional<Grid> heat;
  ColourScale scale = ColourScale::kSequential;
  bool heat_log = false;           ///< colour by log10(z) (sequential only; z <= 0 drawn as the lowest colour)
  std::string heat_label;          ///< the colour bar's caption (a colour bar is drawn when heat is set)
  std::vector<double> contour_levels;  ///< contour lines of `heat` at these values (thin, dark, labelled)
  std::vector<ScatterGroup> scatter;
  std::vector<Polyline> lines;
};

/// One map as one <svg> element. Class names mark the parts, like render_svg:
/// plot-area, x-tick, y-tick, x-label, y-label, title, heat-cell (rect, data-z =
/// its value), colour-bar, contour (one <path> per level, data-level = the level),
/// scatter-group (a <g> per group, data-label = its label, one <circle> per point),
/// line (one <path> per polyline, data-label), legend-label.
std::string render_map_svg(const MapChart& chart, const Size& size = {760, 520, 76, 200, 40, 52});

}  // namespace plexus::svg

#endif
