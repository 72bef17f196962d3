// `plexus report`, run as a real process on CSV files in a temp folder; the SVG it
// writes is parsed as XML (Boost.PropertyTree) and checked part by part. The SVG
// writer's tick helpers are unit-tested directly (svg_chart.cpp is compiled in).
#include "support/test_support.hpp"
#include "svg_xml.hpp"
#include "svg_chart.hpp"

#include <gtest/gtest.h>

#include <boost/property_tree/ptree.hpp>
#include <boost/property_tree/xml_parser.hpp>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
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
namespace fs = std::filesystem;
using Result = test::ProcessResult;

Result run(const std::string& args) {
  return test::run_shell(std::string(PLEXUS_BINARY_DIR) + "/bin/plexus report " + args);
}

std::string write_file(const std::string& dir, const std::string& name, const std::string& text) {
  const std::string path = dir + "/" + name;
  std::ofstream(path) << text;
  return path;
}

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

const char kHeader[] = "epoch,step,train_loss,train_accuracy,test_loss,test_accuracy,lr,seconds,samples_per_sec\n";

/// The charts of a stacked SVG file: the <svg> inside each <g class="chart">, as element lists.
std::vector<std::vector<Element>> read_charts(const std::string& path, pt::ptree& doc) {
  pt::read_xml(path, doc);
  std::vector<std::vector<Element>> charts;
  for (const auto& [tag, g] : doc.get_child("svg"))
    if (tag == "g") charts.push_back(descendants(g.get_child("svg")));
  return charts;
}

void expect_increasing_numbers(const std::vector<std::string>& labels, const std::string& what) {
  ASSERT_GE(labels.size(), 2u) << what;
  for (size_t i = 1; i < labels.size(); ++i) EXPECT_LT(std::stod(labels[i - 1]), std::stod(labels[i])) << what;
}

TEST(ReportCli, OneChartPerColumnOneLinePerRunWithLegendAndTicks) {
  const std::string dir = test::temp_dir();
  const std::string a = write_file(dir, "run_a.csv",
                                   std::string(kHeader) + "1,100,2.0,0.5,1.9,0.55,0.1,1.0,500\n" +
                                       "2,200,1.0,0.7,,,0.1,2.0,500\n3,300,0.5,0.8,0.6,0.8,0.05,3.0,500\n");
  const std::string b = write_file(dir, "run_b.csv", std::string(kHeader) + "1,100,2.5,0.4,2.4,0.45,0.1,1.0,400\n" +
                                                         "2,200,1.5,0.6,1.4,0.62,0.1,2.0,400\n");
  const Result r = run(a + " " + b + " --out " + dir + "/r.svg --y train_loss,test_accuracy --labels 'run&1,<b>'" +
                       " --title 'MNIST \"mlp\"'");
  ASSERT_EQ(r.code, 0) << r.out;
  pt::ptree doc;
  const auto charts = read_charts(dir + "/r.svg", doc);
  ASSERT_EQ(charts.size(), 2u);
  const char* ys[] = {"train_loss", "test_accuracy"};
  for (size_t c = 0; c < charts.size(); ++c) {
    const auto& all = charts[c];
    EXPECT_EQ(with_class(all, "series").size(), 2u) << ys[c];
    EXPECT_EQ(texts(all, "legend-label"), (std::vector<std::string>{"run&1", "<b>"}));
    EXPECT_EQ(texts(all, "title"), std::vector<std::string>{std::string("MNIST \"mlp\": ") + ys[c]});
    EXPECT_EQ(texts(all, "x-label"), std::vector<std::string>{"epoch"});
    EXPECT_EQ(texts(all, "y-label"), std::vector<std::string>{ys[c]});
    expect_increasing_numbers(texts(all, "x-tick"), "x ticks");
    expect_increasing_numbers(texts(all, "y-tick"), "y ticks");
    const auto series = with_class(all, "series");
    EXPECT_NE(series[0].attr("stroke"), series[1].attr("stroke")) << "runs need distinct colours";
  }
}

TEST(ReportCli, DefaultColumnsSkipBookkeepingAndEmptyColumns) {
  const std::string dir = test::temp_dir();
  const std::string a = write_file(dir, "m.csv", std::string(kHeader) + "1,10,2.0,0.5,,,0.1,1.0,500\n" +
                                                     "2,20,1.0,0.7,,,0.05,2.0,500\n");
  const Result r = run(a + " --out " + dir + "/r.svg");
  ASSERT_EQ(r.code, 0) << r.out;
  pt::ptree doc;
  const auto charts = read_charts(dir + "/r.svg", doc);
  std::vector<std::string> y_labels;
  for (const auto& all : charts) {
    for (const std::string& t : texts(all, "y-label")) y_labels.push_back(t);
    EXPECT_EQ(texts(all, "legend-label"), std::vector<std::string>{"m"});
  }
  EXPECT_EQ(y_labels, (std::vector<std::string>{"train_loss", "train_accuracy", "lr"}));
}

TEST(ReportCli, PointsMapToThePlotAreaAndTheirTicks) {
  const std::string dir = test::temp_dir();
  const std::string a = write_file(dir, "p.csv", "x,y\n1,0\n2,0.25\n3,0.5\n4,0.75\n5,1\n");
  const Result r = run(a + " --out " + dir + "/p.svg --x x --y y");
  ASSERT_EQ(r.code, 0) << r.out;
  pt::ptree doc;
  const auto charts = read_charts(dir + "/p.svg", doc);
  ASSERT_EQ(charts.size(), 1u);
  const auto& all = charts[0];
  const Element area = with_class(all, "plot-area").at(0);
  const auto runs = path_runs(with_class(all, "series").at(0).attr("d"));
  ASSERT_EQ(runs.size(), 1u);
  ASSERT_EQ(runs[0].size(), 5u);
  const svg::Point first = runs[0].front(), last = runs[0].back();
  EXPECT_NEAR(first.x, area.num("x"), 0.011) << "first x at the left edge";
  EXPECT_NEAR(last.x, area.num("x") + area.num("width"), 0.011) << "last x at the right edge";
  double tick0 = NAN, tick1 = NAN;
  for (const Element& t : with_class(all, "y-tick")) {
    if (std::stod(t.text()) == 0.0) tick0 = t.num("y");
    if (std::stod(t.text()) == 1.0) tick1 = t.num("y");
  }
  EXPECT_NEAR(first.y, tick0, 0.011) << "y = 0 lies on the tick labelled 0";
  EXPECT_NEAR(last.y, tick1, 0.011) << "y = 1 lies on the tick labelled 1";
  EXPECT_NEAR(runs[0][2].y, (tick0 + tick1) / 2, 0.011) << "y = 0.5 halfway";
  EXPECT_NEAR(runs[0][2].x, area.num("x") + area.num("width") / 2, 0.011) << "x = 3 halfway";
}

TEST(ReportCli, EmptyCellsAreGapsInOnePath) {
  const std::string dir = test::temp_dir();
  const std::string a = write_file(dir, "g.csv", "epoch,loss\n1,1\n2,0.8\n3,\n4,0.5\n5,0.4\n6,\n7,0.3\n");
  const Result r = run(a + " --out " + dir + "/g.svg");
  ASSERT_EQ(r.code, 0) << r.out;
  pt::ptree doc;
  const auto charts = read_charts(dir + "/g.svg", doc);
  ASSERT_EQ(charts.size(), 1u);
  const auto series = with_class(charts[0], "series");
  ASSERT_EQ(series.size(), 1u);
  const auto runs = path_runs(series[0].attr("d"));
  ASSERT_EQ(runs.size(), 3u) << series[0].attr("d");
  EXPECT_EQ(runs[0].size(), 2u);
  EXPECT_EQ(runs[1].size(), 2u);
  EXPECT_EQ(runs[2].size(), 1u);
  EXPECT_NE(series[0].attr("d").find("h0"), std::string::npos) << "a lone point is drawn as a dot";
}

TEST(ReportCli, LogAxisTicksArePowersOfTen) {
  const std::string dir = test::temp_dir();
  const std::string a = write_file(dir, "l.csv", "epoch,loss\n1,2.3\n2,0.4\n3,0.03\n4,0.004\n");
  const Result r = run(a + " --out " + dir + "/l.svg --log-y");
  ASSERT_EQ(r.code, 0) << r.out;
  pt::ptree doc;
  const auto charts = read_charts(dir + "/l.svg", doc);
  ASSERT_EQ(charts.size(), 1u);
  const auto labels = texts(charts[0], "y-tick");
  expect_increasing_numbers(labels, "log y ticks");
  for (const std::string& t : labels) {
    const double e = std::log10(std::stod(t));
    EXPECT_NEAR(e, std::round(e), 1e-9) << "'" << t << "' is not a power of ten";
  }
  EXPECT_EQ(labels.front(), "0.001");
  EXPECT_EQ(labels.back(), "10");
}

TEST(ReportCli, HtmlEmbedsOneSvgPerChartAndNothingExternal) {
  const std::string dir = test::temp_dir();
  const std::string a = write_file(dir, "h.csv", std::string(kHeader) + "1,10,2.0,0.5,1.8,0.6,0.1,1.0,500\n" +
                                                     "2,20,1.0,0.7,0.9,0.75,0.05,2.0,500\n");
  const Result r = run(a + " --out " + dir + "/h.html --title 'a <report>'");
  ASSERT_EQ(r.code, 0) << r.out;
  const std::string html = read_text(dir + "/h.html");
  EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_NE(html.find("<title>a &lt;report&gt;</title>"), std::string::npos);
  for (const char* banned : {"<script", "href=", "src=", "<link", "@import", "url("})
    EXPECT_EQ(html.find(banned), std::string::npos) << banned;
  size_t count = 0;
  for (size_t at = html.find("<svg"); at != std::string::npos; at = html.find("<svg", at + 1)) {
    const size_t end = html.find("</svg>", at);
    ASSERT_NE(end, std::string::npos);
    std::istringstream in(html.substr(at, end + 6 - at));
    pt::ptree one;
    EXPECT_NO_THROW(pt::read_xml(in, one)) << "chart " << count << " is not well-formed XML";
    ++count;
  }
  EXPECT_EQ(count, 5u) << "train_loss, train_accuracy, test_loss, test_accuracy, lr";
}

struct ErrorCase {
  const char* name;
  const char* content;  // nullptr: the file does not exist
  const char* args;
  std::vector<std::string> parts;  // besides the file name
};

TEST(ReportCli, BadInputFailsNamingTheFileAndWritesNothing) {
  const std::vector<ErrorCase> cases = {
      {"missing.csv", nullptr, "", {"cannot open"}},
      {"empty.csv", "", "", {"empty"}},
      {"header.csv", "epoch,loss\n", "", {"no data rows"}},
      {"cells.csv", "epoch,loss\n1,2\n2,3,4\n", "", {":3:", "expected 2 cells", "found 3"}},
      {"text.csv", "epoch,loss\n1,2\n2,abc\n", "", {":3:", "'loss'", "'abc'"}},
      {"x.csv", "epoch,loss\n1,2\n", "--x time", {"'time'", "known: epoch, loss"}},
      {"y.csv", "epoch,loss\n1,2\n", "--y loss,acc", {"'acc'", "known: epoch, loss"}},
      {"logy.csv", "epoch,loss\n1,2\n2,0\n", "--log-y", {":3:", "'loss'", "log"}},
      {"logx.csv", "epoch,loss\n0,2\n1,1\n", "--log-x", {":2:", "'epoch'", "log"}},
  };
  for (const ErrorCase& c : cases) {
    const std::string dir = test::temp_dir();
    const std::string good = write_file(dir, "good.csv", "epoch,loss\n1,2\n2,1\n");
    const std::string path = dir + "/" + c.name;
    if (c.content != nullptr) write_file(dir, c.name, c.content);
    for (const char* ext : {".svg", ".html"}) {
      const std::string out = dir + "/out" + ext;
      const Result r = run(path + " " + good + " --out " + out + " " + c.args);
      EXPECT_NE(r.code, 0) << c.name << ": " << r.out;
      EXPECT_NE(r.out.find(c.name), std::string::npos) << c.name << " not named in: " << r.out;
      for (const std::string& p : c.parts) EXPECT_NE(r.out.find(p), std::string::npos) << p << " not in: " << r.out;
      EXPECT_FALSE(fs::exists(out)) << c.name;
    }
    size_t files = 0;
    for (const auto& e : fs::directory_iterator(dir)) files += e.path().filename().string().rfind(".plexus", 0) == 0;
    EXPECT_EQ(files, 0u) << "temp file left behind";
  }
}

TEST(ReportCli, FailureLeavesAnExistingReportUntouched) {
  const std::string dir = test::temp_dir();
  const std::string out = write_file(dir, "r.svg", "old");
  const std::string bad = write_file(dir, "bad.csv", "epoch,loss\n1,x\n");
  EXPECT_NE(run(bad + " --out " + out).code, 0);
  EXPECT_EQ(read_text(out), "old");
  const std::string good = write_file(dir, "good.csv", "epoch,loss\n1,2\n2,1\n");
  ASSERT_EQ(run(good + " --out " + out).code, 0);
  EXPECT_EQ(read_text(out).rfind("<?xml", 0), 0u);
  EXPECT_NE(run(good + " --out " + dir + "/r.png").code, 0) << "unknown output type";
  EXPECT_FALSE(fs::exists(dir + "/r.png"));
}

TEST(SvgChart, NiceTicksUseOneTwoFiveSteps) {
  EXPECT_DOUBLE_EQ(svg::nice_step(0.13), 0.2);
  EXPECT_DOUBLE_EQ(svg::nice_step(0.2), 0.2);
  EXPECT_DOUBLE_EQ(svg::nice_step(3.0), 5.0);
  EXPECT_DOUBLE_EQ(svg::nice_step(7.0), 10.0);
  EXPECT_DOUBLE_EQ(svg::nice_step(1200.0), 2000.0);
  const auto near = [](const std::vector<double>& got, const std::vector<double>& want) {
    ASSERT_EQ(got.size(), want.size());
    for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want[i], 1e-12) << i;
  };
  near(svg::nice_ticks(0, 1, 5), {0, 0.2, 0.4, 0.6, 0.8, 1.0});
  near(svg::nice_ticks(0.13, 0.87, 5), {0.2, 0.4, 0.6, 0.8});
  near(svg::nice_ticks(-3, 7, 5), {-2, 0, 2, 4, 6});
  near(svg::nice_ticks(1, 10, 5), {2, 4, 6, 8, 10});
  near(svg::decade_ticks(1e-3, 100, 10), {1e-3, 1e-2, 1e-1, 1, 10, 100});
  for (double t : svg::decade_ticks(1e-12, 1e12, 6)) EXPECT_NEAR(std::log10(t), std::round(std::log10(t)), 1e-9);
  EXPECT_LE(svg::decade_ticks(1e-12, 1e12, 6).size(), 6u);
  const svg::Axis log_axis = svg::make_axis(0.003, 20, true, false, 6);
  EXPECT_DOUBLE_EQ(log_axis.lo, -3);
  EXPECT_DOUBLE_EQ(log_axis.hi, 2);
  const svg::Axis lin = svg::make_axis(0.13, 0.87, false, true, 5);
  EXPECT_NEAR(lin.lo, 0.0, 1e-12);
  EXPECT_NEAR(lin.hi, 1.0, 1e-12);
  EXPECT_EQ(svg::format_tick(0.1 * 3, 0.1), "0.3");
  EXPECT_EQ(svg::format_tick(2000, 500), "2000");
  EXPECT_EQ(svg::format_tick(1e-5, 1e-5), "1e-5");
  EXPECT_EQ(svg::format_tick(0.01, 0.01), "0.01");
}

TEST(SvgChart, EscapesEveryTextAndDrawsOnePathPerSeries) {
  svg::Chart c{"<a & 'b'>", "x\"", "y<", false, false, {}};
  c.series.push_back({"s&1", {{0, 0}, {1, NAN}, {2, 2}}});
  c.series.push_back({"s<2>", {}});
  std::istringstream in(svg::render_svg(c));
  pt::ptree doc;
  ASSERT_NO_THROW(pt::read_xml(in, doc));
  const auto all = descendants(doc);
  EXPECT_EQ(texts(all, "title"), std::vector<std::string>{"<a & 'b'>"});
  EXPECT_EQ(texts(all, "x-label"), std::vector<std::string>{"x\""});
  EXPECT_EQ(texts(all, "y-label"), std::vector<std::string>{"y<"});
  EXPECT_EQ(texts(all, "legend-label"), (std::vector<std::string>{"s&1", "s<2>"}));
  EXPECT_EQ(with_class(all, "series").size(), 2u);
  EXPECT_EQ(svg::xml_escape("<&>\"'"), "&lt;&amp;&gt;&quot;&apos;");
  EXPECT_NE(svg::series_colour(3), svg::series_colour(13));
}

}  // namespace
}  // namespace plexus
