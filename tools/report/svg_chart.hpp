// A small self-contained SVG writer for line charts (no plotting dependency).
//
//   svg::Chart c{.title = "loss", .x_label = "epoch", .y_label = "train_loss"};
//   c.series.push_back({"run_a", {{1, 0.9}, {2, 0.5}, {3, NAN}, {4, 0.2}}});  // NaN = gap
//   std::string doc = svg::render_svg(c);  // one <svg> element, no XML declaration
//
// Every text written (title, labels, legend) is XML-escaped. The output is plain
// SVG 1.1: no scripts, no external resources, so it can be inlined into HTML.
// Later plot kinds (scatter, heat map) are meant to reuse the axis helpers here.
#ifndef PLEXUS_TOOLS_SVG_CHART_HPP
#define PLEXUS_TOOLS_SVG_CHART_HPP

#include <string>
#include <string_view>
#include <vector>

namespace plexus::svg {

struct Point {
  double x = 0.0;
  double y = 0.0;
};

/// One line; a point with a NaN coordinate breaks the line (a gap).
struct Series {
  std::string label;
  std::vector<Point> points;
};

struct Chart {
  std::string title;
  std::string x_label;
  std::string y_label;
  bool log_x = false;  ///< decades on the x axis; every finite x must be > 0
  bool log_y = false;  ///< decades on the y axis; every finite y must be > 0
  std::vector<Series> series;
};

/// Pixel geometry of one chart. The plot area is the rectangle inside the margins;
/// the legend sits in the right margin.
struct Size {
  int width = 760;
  int height = 360;
  int margin_left = 76;
  int margin_right = 180;
  int margin_top = 40;
  int margin_bottom = 52;
};

/// One axis: its domain [lo, hi] (log10 of it on a log axis) and its tick values.
struct Axis {
  double lo = 0.0;
  double hi = 1.0;
  bool log = false;
  std::vector<double> ticks;
};

/// The smallest step of the form {1, 2, 5} x 10^k that is >= raw (raw > 0).
double nice_step(double raw);

/// Multiples of nice_step((hi - lo) / target) inside [lo, hi] (with a little slack), ascending.
std::vector<double> nice_ticks(double lo, double hi, int target);

/// Powers of ten inside [lo, hi] (0 < lo <= hi), every m-th decade so that at most max_ticks remain.
std::vector<double> decade_ticks(double lo, double hi, int max_ticks);

/// An axis over the finite data range [data_lo, data_hi]. Linear: the domain is the
/// data range, widened to the outer ticks when expand is set. Log: the domain is
/// widened to whole decades. Empty or single-valued ranges get a small domain around them.
Axis make_axis(double data_lo, double data_hi, bool log, bool expand, int target);

/// A tick label: as many decimals as the tick step needs ("0.25", "1000", "1e-6").
std::string format_tick(double value, double step);

/// &, <, >, " and ' as XML entities.
std::string xml_escape(std::string_view text);

/// The colour of series i: ten distinct colours, then generated hues.
std::string series_colour(size_t i);

/// A pixel coordinate as written: two decimals.
std::string px(double v);

/// The start of a chart of `size`: the <svg> tag, a white background (class
/// background) and the title (class title) centred over the plot area.
std::string open_svg(const Size& size, const std::string& title);

/// Grid lines (class grid), tick labels (x-tick, y-tick) and axis labels
/// (x-label, y-label) of the plot area that `size` leaves, with the domains
/// and ticks of `ax` and `ay` (linear or log).
void write_axes(std::string& s, const Axis& ax, const Axis& ay, const Size& size, const std::string& x_label,
                const std::string& y_label);

/// One chart as one <svg> element (no XML declaration). Class names mark the parts:
/// plot-area (rect), x-tick / y-tick (text, y-tick centred on its tick's pixel row,
/// x-tick on its column), x-label / y-label / title (text), series (one <path> per
/// series, data-label = its label), legend-label (text).
std::string render_svg(const Chart& chart, const Size& size = {});

/// Several rendered charts stacked vertically into one standalone SVG document
/// (with XML declaration); each chart is `size.height` tall.
std::string stack_svg(const std::vector<std::string>& charts, const Size& size = {});

}  // namespace plexus::svg

#endif
