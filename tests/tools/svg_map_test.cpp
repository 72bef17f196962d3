// svg_map: marching squares against closed-form level sets, and render_map_svg parsed
// as XML (Boost.PropertyTree) and checked part by part: heat cells, colours, contours,
// scatter groups, lines, the domain and escaping.
#include "svg_map.hpp"
#include "svg_xml.hpp"

#include <plexus/error.hpp>

#include <gtest/gtest.h>

#include <boost/property_tree/ptree.hpp>
#include <boost/property_tree/xml_parser.hpp>

#include <algorithm>
#include <cmath>
#include <numbers>
#include <sstream>
#include <string>
#include <vector>

namespace plexus {
namespace {

namespace pt = boost::property_tree;
using test::Element;
using test::descendants;
using test::texts;
using test::path_runs;
using test::with_class;
using Segments = std::vector<std::pair<svg::Point, svg::Point>>;

/// A rendered map: the parsed tree (owns the nodes) and its elements.
struct Doc {
  pt::ptree tree;
  std::vector<Element> all;
};

void parse(const std::string& svg_text, Doc& doc) {
  std::istringstream in(svg_text);
  pt::read_xml(in, doc.tree);
  doc.all = descendants(doc.tree.get_child("svg"));
}

struct Rgb {
  int r, g, b;
};

Rgb rgb(const std::string& hex) {
  EXPECT_EQ(hex.size(), 7u) << hex;
  if (hex.size() != 7) return {-1, -1, -1};
  return {std::stoi(hex.substr(1, 2), nullptr, 16), std::stoi(hex.substr(3, 2), nullptr, 16),
          std::stoi(hex.substr(5, 2), nullptr, 16)};
}

/// The fill of the heat cell whose data-z is `z`.
std::string fill_of_z(const std::vector<Element>& all, double z) {
  for (const Element& e : with_class(all, "heat-cell"))
    if (std::fabs(e.num("data-z") - z) <= 1e-12 * std::fabs(z)) return e.attr("fill");
  ADD_FAILURE() << "no heat cell with z = " << z;
  return "";
}

const svg::Size kSize{760, 520, 76, 200, 40, 52};
constexpr double kLeft = 76, kRight = 760 - 200, kTop = 40, kBottom = 520 - 52;

double expected_px(double x, double lo, double hi) { return kLeft + (x - lo) / (hi - lo) * (kRight - kLeft); }
double expected_py(double y, double lo, double hi) { return kBottom - (y - lo) / (hi - lo) * (kBottom - kTop); }

// ---- sample_grid and contour_segments -------------------------------------------------

TEST(SvgMapGrid, SampleGridStoresRowsOfConstantY) {
  const svg::Grid g = svg::sample_grid(0, 2, -1, 1, 3, 2, [](double x, double y) { return x + 10 * y; });
  ASSERT_EQ(g.z.size(), 6u);
  for (int j = 0; j < 2; ++j)
    for (int i = 0; i < 3; ++i) EXPECT_DOUBLE_EQ(g.z[static_cast<size_t>(j * 3 + i)], i - 10.0 + 20.0 * j);
  EXPECT_DOUBLE_EQ(g.x(2), 2.0);
  EXPECT_DOUBLE_EQ(g.y(1), 1.0);
  EXPECT_THROW(svg::sample_grid(0, 1, 0, 1, 1, 5, [](double, double) { return 0.0; }), Error);
}

svg::Grid paraboloid() {
  return svg::sample_grid(-2, 2, -2, 2, 41, 41, [](double x, double y) { return x * x + y * y; });
}

TEST(SvgMapContour, ParaboloidLevelOneIsTheUnitCircle) {
  const Segments segs = svg::contour_segments(paraboloid(), 1.0);
  EXPECT_GT(segs.size(), 40u);
  double length = 0;
  for (const auto& [a, b] : segs) {
    EXPECT_NEAR(std::hypot(a.x, a.y), 1.0, 0.02) << a.x << ", " << a.y;
    EXPECT_NEAR(std::hypot(b.x, b.y), 1.0, 0.02) << b.x << ", " << b.y;
    length += std::hypot(b.x - a.x, b.y - a.y);
  }
  EXPECT_NEAR(length, 2 * std::numbers::pi, 0.02 * 2 * std::numbers::pi)
      << "one closed loop around the circle, no duplicates";
  EXPECT_TRUE(svg::contour_segments(paraboloid(), 100.0).empty()) << "above every value";
  EXPECT_TRUE(svg::contour_segments(paraboloid(), -1.0).empty()) << "below every value";
}

TEST(SvgMapContour, CellsWithANanCornerGiveNoSegment) {
  svg::Grid g = paraboloid();
  const size_t all = svg::contour_segments(g, 1.0).size();
  // The node (1, 0) lies on the circle; the four cells around it span [0.9, 1.1] x [-0.1, 0.1].
  g.z[20 * 41 + 30] = NAN;
  const Segments segs = svg::contour_segments(g, 1.0);
  EXPECT_LT(segs.size(), all);
  for (const auto& [a, b] : segs) {
    const double mx = (a.x + b.x) / 2, my = (a.y + b.y) / 2;
    EXPECT_FALSE(mx > 0.9 + 1e-9 && mx < 1.1 - 1e-9 && my > -0.1 + 1e-9 && my < 0.1 - 1e-9)
        << "segment inside a NaN cell at " << mx << ", " << my;
  }
  std::fill(g.z.begin(), g.z.end(), NAN);
  EXPECT_TRUE(svg::contour_segments(g, 1.0).empty());
}

TEST(SvgMapContour, LinearFieldGivesAStraightLine) {
  // 0.25 between grid columns (x = 1/6, 2/6) and exactly on a column (x = 0.25).
  for (int nx : {7, 5}) {
    const svg::Grid g = svg::sample_grid(0, 1, 0, 1, nx, 5, [](double x, double) { return x; });
    const Segments segs = svg::contour_segments(g, 0.25);
    EXPECT_EQ(segs.size(), 4u) << "one segment per row of cells, nx = " << nx;
    for (const auto& [a, b] : segs) {
      EXPECT_NEAR(a.x, 0.25, 1e-12);
      EXPECT_NEAR(b.x, 0.25, 1e-12);
      EXPECT_NEAR(std::fabs(b.y - a.y), 0.25, 1e-12);
    }
  }
}

TEST(SvgMapContour, ValuesEqualToTheLevelCountAsAbove) {
  // Bottom row exactly at the level, top row below it: the contour runs along the bottom edge.
  const svg::Grid g{0, 1, 0, 1, 2, 2, {0, 0, -1, -1}};
  const Segments segs = svg::contour_segments(g, 0.0);
  ASSERT_EQ(segs.size(), 1u);
  EXPECT_EQ(segs[0].first.y, 0.0);
  EXPECT_EQ(segs[0].second.y, 0.0);
  EXPECT_TRUE(svg::contour_segments(svg::Grid{0, 1, 0, 1, 2, 2, {0, 0, 0, 0}}, 0.0).empty()) << "all above";
}

TEST(SvgMapContour, SaddleIsResolvedByTheCellCentre) {
  // Corners (0,0) = 1, (1,0) = 0, (1,1) = 1, (0,1) = 0; centre mean 0.5.
  const svg::Grid g{0, 1, 0, 1, 2, 2, {1, 0, 0, 1}};
  auto cut_corners = [&](double level) {
    std::vector<std::pair<double, double>> corners;  // the cell corner each segment cuts off
    for (const auto& [a, b] : svg::contour_segments(g, level))
      corners.emplace_back(std::round((a.x + b.x) / 2), std::round((a.y + b.y) / 2));
    std::sort(corners.begin(), corners.end());
    return corners;
  };
  using C = std::vector<std::pair<double, double>>;
  EXPECT_EQ(cut_corners(0.4), (C{{0, 1}, {1, 0}})) << "centre above: the high corners are joined";
  EXPECT_EQ(cut_corners(0.6), (C{{0, 0}, {1, 1}})) << "centre below: the low corners are joined";
}

// ---- render_map_svg ----------------------------------------------------------------------

svg::MapChart full_chart() {
  svg::MapChart m;
  m.title = "loss <&> \"map\"";
  m.x_label = "w1 & w2";
  m.y_label = "<y>";
  m.heat = svg::sample_grid(-2, 2, -1, 3, 11, 9, [](double x, double y) { return x * x + (y - 1) * (y - 1); });
  m.heat->z[0] = NAN;
  m.heat->z[50] = NAN;
  m.heat_label = "loss & <co>";
  m.contour_levels = {0.5, 2};
  m.scatter.push_back({"a&b", {{0, 0}, {1, 1}, {-1, 2}}});
  m.scatter.push_back({"<c>", {{0.5, 0.5}, {1.5, 2.5}}});
  m.lines.push_back({"SGD 'x'", {{0.5, 1.0}, {0.2, 0.8}, {NAN, NAN}, {0.1, 0.1}}, true, true, ""});
  m.lines.push_back({"boundary", {{-1.5, -0.5}, {1.5, 2.5}}, false, false, "#123456"});
  return m;
}

TEST(SvgMapRender, DrawsEveryPartWithEscapedText) {
  const svg::MapChart m = full_chart();
  Doc doc;
  ASSERT_NO_THROW(parse(svg::render_map_svg(m, kSize), doc));
  const auto& all = doc.all;
  EXPECT_EQ(texts(all, "title"), std::vector<std::string>{"loss <&> \"map\""});
  EXPECT_EQ(texts(all, "x-label"), std::vector<std::string>{"w1 & w2"});
  EXPECT_EQ(texts(all, "y-label"), std::vector<std::string>{"<y>"});
  EXPECT_EQ(texts(all, "colour-bar-label"), std::vector<std::string>{"loss & <co>"});
  EXPECT_EQ(texts(all, "legend-label"), (std::vector<std::string>{"a&b", "<c>", "SGD 'x'", "boundary"}));
  EXPECT_GE(with_class(all, "x-tick").size(), 3u);
  EXPECT_GE(with_class(all, "y-tick").size(), 3u);

  const Element area = with_class(all, "plot-area").at(0);
  EXPECT_DOUBLE_EQ(area.num("x"), kLeft);
  EXPECT_DOUBLE_EQ(area.num("width"), kRight - kLeft);

  // Heat: one cell per finite value, tiling the grid extent (= the plot area here).
  const auto cells = with_class(all, "heat-cell");
  EXPECT_EQ(cells.size(), 11u * 9u - 2u);
  double min_x = 1e9, max_x = -1e9, min_y = 1e9, max_y = -1e9;
  for (const Element& c : cells) {
    EXPECT_TRUE(std::isfinite(c.num("data-z")));
    min_x = std::min(min_x, c.num("x"));
    max_x = std::max(max_x, c.num("x") + c.num("width"));
    min_y = std::min(min_y, c.num("y"));
    max_y = std::max(max_y, c.num("y") + c.num("height"));
  }
  EXPECT_NEAR(min_x, kLeft, 0.011);
  EXPECT_NEAR(max_x, kRight + 0.5, 0.011) << "cells overlap by half a pixel";
  EXPECT_NEAR(min_y, kTop, 0.011);
  EXPECT_NEAR(max_y, kBottom + 0.5, 0.011);
  EXPECT_EQ(with_class(all, "colour-bar").size(), 1u);

  const auto contours = with_class(all, "contour");
  ASSERT_EQ(contours.size(), 2u);
  EXPECT_EQ(contours[0].num("data-level"), 0.5);
  EXPECT_EQ(contours[1].num("data-level"), 2.0);
  EXPECT_GT(path_runs(contours[1].attr("d")).size(), 10u);

  const auto groups = with_class(all, "scatter-group");
  ASSERT_EQ(groups.size(), 2u);
  EXPECT_EQ(groups[0].attr("data-label"), "a&b");
  EXPECT_EQ(groups[1].attr("data-label"), "<c>");
  EXPECT_EQ(groups[0].node->count("circle"), 3u);
  EXPECT_EQ(groups[1].node->count("circle"), 2u);
  EXPECT_NE(groups[0].attr("fill"), groups[1].attr("fill"));
  const Element first_circle = descendants(*groups[0].node).at(0);
  EXPECT_NEAR(first_circle.num("cx"), expected_px(0, -2, 2), 0.006);
  EXPECT_NEAR(first_circle.num("cy"), expected_py(0, -1, 3), 0.006);

  const auto lines = with_class(all, "line");
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0].attr("data-label"), "SGD 'x'");
  const auto runs = path_runs(lines[0].attr("d"));
  ASSERT_EQ(runs.size(), 2u) << "NaN breaks the line";
  EXPECT_NEAR(runs[0][0].x, expected_px(0.5, -2, 2), 0.006);
  EXPECT_NEAR(runs[0][0].y, expected_py(1.0, -1, 3), 0.006);
  EXPECT_FALSE(lines[0].attr("stroke-dasharray").empty());
  EXPECT_TRUE(lines[1].attr("stroke-dasharray").empty());
  EXPECT_EQ(lines[1].attr("stroke"), "#123456");
  EXPECT_EQ(lines[0].attr("stroke"), svg::series_colour(2)) << "after the two scatter groups";
  const auto boundary = path_runs(lines[1].attr("d"));
  ASSERT_EQ(boundary.size(), 1u);
  EXPECT_NEAR(boundary[0][0].x, expected_px(-1.5, -2, 2), 0.006);
  EXPECT_NEAR(boundary[0][0].y, expected_py(-0.5, -1, 3), 0.006);
  const auto start = with_class(all, "line-start"), end = with_class(all, "line-end");
  ASSERT_EQ(start.size(), 1u) << "markers only on the line that asks for them";
  ASSERT_EQ(end.size(), 1u);
  EXPECT_NEAR(start[0].num("cx"), expected_px(0.5, -2, 2), 0.006);
  EXPECT_NEAR(end[0].num("cx"), expected_px(0.1, -2, 2), 0.006);
  EXPECT_EQ(end[0].attr("fill"), "white") << "a ring at the end";
}

TEST(SvgMapRender, ColourBarAndLegendDoNotOverlap) {
  Doc doc;
  parse(svg::render_map_svg(full_chart(), kSize), doc);
  double bar_bottom = -1e9;
  for (const Element& e : descendants(*with_class(doc.all, "colour-bar").at(0).node)) {
    if (e.tag == "rect") bar_bottom = std::max(bar_bottom, e.num("y") + e.num("height"));
    if (e.tag == "text") bar_bottom = std::max(bar_bottom, e.num("y") + 6);
    if (e.tag == "rect" || e.tag == "text") {
      EXPECT_GT(e.num("x"), kRight) << "in the right margin";
    }
  }
  const auto legend = with_class(doc.all, "legend-label");
  ASSERT_FALSE(legend.empty());
  for (const Element& e : legend) {
    EXPECT_GT(e.num("y") - 6, bar_bottom) << e.text();
    EXPECT_LT(e.num("y"), kSize.height) << e.text();
  }
}

TEST(SvgMapRender, DivergingScaleIsWhiteAtZeroBlueBelowRedAbove) {
  svg::MapChart m;
  m.heat = svg::sample_grid(-2, 2, 0, 1, 5, 2, [](double x, double) { return x; });
  m.scale = svg::ColourScale::kDiverging;
  Doc doc;
  parse(svg::render_map_svg(m, kSize), doc);
  EXPECT_EQ(fill_of_z(doc.all, 0.0), "#ffffff");
  for (double z : {-2.0, -1.0}) {
    const Rgb c = rgb(fill_of_z(doc.all, z));
    EXPECT_GT(c.b, c.r + 40) << "z = " << z << " bluish";
  }
  for (double z : {1.0, 2.0}) {
    const Rgb c = rgb(fill_of_z(doc.all, z));
    EXPECT_GT(c.r, c.b + 40) << "z = " << z << " reddish";
  }
  EXPECT_NE(fill_of_z(doc.all, -2.0), fill_of_z(doc.all, -1.0)) << "the ramp is not flat";
}

TEST(SvgMapRender, LogScaleSeparatesDecades) {
  svg::MapChart m;
  m.heat = svg::Grid{0, 7, 0, 1, 8, 2, {}};
  for (int j = 0; j < 2; ++j)
    for (int i = 0; i < 8; ++i) m.heat->z.push_back(i == 0 ? 0.0 : std::pow(10.0, i - 4));
  m.heat_log = true;
  Doc doc;
  parse(svg::render_map_svg(m, kSize), doc);
  const std::string lo = fill_of_z(doc.all, 1e-3), mid = fill_of_z(doc.all, 1.0), hi = fill_of_z(doc.all, 1e3);
  EXPECT_NE(lo, hi);
  EXPECT_NE(lo, mid);
  EXPECT_NE(mid, hi);
  EXPECT_EQ(fill_of_z(doc.all, 0.0), lo) << "z <= 0 gets the lowest colour";
  // Linear colouring would put 1e-3 .. 10 on nearly the same colour; log keeps them apart.
  EXPECT_NE(fill_of_z(doc.all, 1e-2), lo);
}

TEST(SvgMapRender, ExplicitDomainClipsPoints) {
  svg::MapChart m;
  m.x_lo = 0, m.x_hi = 1, m.y_lo = 0, m.y_hi = 1;
  m.scatter.push_back({"g", {{0.5, 0.5}, {2, 0.5}, {0.5, -1}, {1, 1}, {NAN, 0.5}}});
  m.lines.push_back({"l", {{5, 5}, {0.5, 0.5}, {-3, 0.5}}, false, true, ""});
  Doc doc;
  parse(svg::render_map_svg(m, kSize), doc);
  const auto groups = with_class(doc.all, "scatter-group");
  ASSERT_EQ(groups.size(), 1u);
  EXPECT_EQ(groups[0].node->count("circle"), 2u) << "only (0.5, 0.5) and the corner (1, 1)";
  EXPECT_TRUE(with_class(doc.all, "line-start").empty()) << "start (5, 5) is outside";
  EXPECT_TRUE(with_class(doc.all, "line-end").empty()) << "end (-3, 0.5) is outside";
  const Element line = with_class(doc.all, "line").at(0);
  const std::string clip = line.attr("clip-path");
  ASSERT_EQ(clip.rfind("url(#", 0), 0u) << "a line is clipped to the plot area";
  const std::string id = clip.substr(5, clip.size() - 6);
  bool found = false;
  for (const Element& e : doc.all) found = found || (e.tag == "clipPath" && e.attr("id") == id);
  EXPECT_TRUE(found) << "clipPath " << id << " is defined";
  const auto runs = path_runs(line.attr("d"));
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_NEAR(runs[0][1].x, expected_px(0.5, 0, 1), 0.006);
  EXPECT_NEAR(runs[0][1].y, expected_py(0.5, 0, 1), 0.006);
}

TEST(SvgMapRender, DomainFromPointsHoldsEveryPointInsideThePlot) {
  svg::MapChart m;
  m.scatter.push_back({"a", {{-3, 10}, {7, 20}, {2, 15}}});
  Doc doc;
  parse(svg::render_map_svg(m, kSize), doc);
  const auto circles = descendants(*with_class(doc.all, "scatter-group").at(0).node);
  ASSERT_EQ(circles.size(), 3u);
  for (const Element& c : circles) {
    EXPECT_GT(c.num("cx"), kLeft);
    EXPECT_LT(c.num("cx"), kRight);
    EXPECT_GT(c.num("cy"), kTop);
    EXPECT_LT(c.num("cy"), kBottom);
  }
  EXPECT_TRUE(with_class(doc.all, "colour-bar").empty()) << "no heat, no colour bar";
  EXPECT_TRUE(with_class(doc.all, "heat-cell").empty());
}

TEST(SvgMapRender, MalformedGridThrows) {
  svg::MapChart m;
  m.heat = svg::Grid{0, 1, 0, 1, 3, 3, {1, 2, 3}};
  EXPECT_THROW(svg::render_map_svg(m, kSize), Error);
}

}  // namespace
}  // namespace plexus
