// Reading rendered SVG back in the chart tests: parsed with Boost.PropertyTree,
// elements listed in document order, picked by their class attribute.
#ifndef PLEXUS_TESTS_TOOLS_SVG_XML_HPP
#define PLEXUS_TESTS_TOOLS_SVG_XML_HPP

#include "svg_chart.hpp"

#include <boost/property_tree/ptree.hpp>

#include <sstream>

#include <string>
#include <utility>
#include <vector>

namespace plexus::test {

namespace pt = boost::property_tree;

/// An element of a parsed document: its tag and node (attributes under "<xmlattr>").
struct Element {
  std::string tag;
  const pt::ptree* node;
  std::string attr(const std::string& name) const { return node->get<std::string>("<xmlattr>." + name, ""); }
  double num(const std::string& name) const { return std::stod(attr(name)); }
  std::string text() const { return node->data(); }
};

/// Every element below `root`, in document order (an explicit stack, no recursion).
inline std::vector<Element> descendants(const pt::ptree& root) {
  std::vector<Element> out;
  std::vector<std::pair<pt::ptree::const_iterator, pt::ptree::const_iterator>> stack{{root.begin(), root.end()}};
  while (!stack.empty()) {
    auto& [it, end] = stack.back();
    if (it == end) {
      stack.pop_back();
      continue;
    }
    const auto& [tag, child] = *it++;
    if (tag == "<xmlattr>" || tag == "<xmlcomment>") continue;
    out.push_back({tag, &child});
    stack.emplace_back(child.begin(), child.end());
  }
  return out;
}

inline std::vector<Element> with_class(const std::vector<Element>& all, const std::string& cls) {
  std::vector<Element> out;
  for (const Element& e : all)
    if (e.attr("class") == cls) out.push_back(e);
  return out;
}

inline std::vector<std::string> texts(const std::vector<Element>& all, const std::string& cls) {
  std::vector<std::string> out;
  for (const Element& e : with_class(all, cls)) out.push_back(e.text());
  return out;
}

/// The points of a path's d attribute ("M x y L x y ..."), one vector per "M" run.
inline std::vector<std::vector<svg::Point>> path_runs(const std::string& d) {
  std::vector<std::vector<svg::Point>> runs;
  std::istringstream in(d);
  std::string tok;
  while (in >> tok) {
    if (tok == "h0") continue;  // a zero-length segment that makes a lone point visible
    if (tok[0] == 'M') runs.emplace_back();
    svg::Point p;
    p.x = std::stod(tok.substr(1));
    in >> p.y;
    runs.back().push_back(p);
  }
  return runs;
}

}  // namespace plexus::test

#endif
