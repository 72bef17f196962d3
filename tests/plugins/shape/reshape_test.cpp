// reshape: shapes with and without -1, gradients (a copy), errors that name the node.
#include "support/gradcheck.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace plexus::test {
namespace {

// Row-major data is unchanged by reshape: dst = src.
std::vector<double> reshape_ref(const RefArgs& a) { return a.src[0]; }

OpCase reshape_case(Shape s, const std::string& shape) {
  return {.op = "reshape", .attrs = {{"shape", AttrValue(shape)}}, .inputs = {s}, .reference = reshape_ref};
}

Shape infer_dst(const Shape& src, const std::string& shape) {
  const OpKernel& k = builtin_registry().op("reshape");
  const Shape in[] = {src};
  return k.infer("rs", k.resolve_attrs({{"shape", AttrValue(shape)}}, "rs"), in).dst;
}

TEST(Reshape, GradcheckAndReference) {
  const OpCase cases[] = {reshape_case({2, 12}, "3,4"), reshape_case({1, 784}, "1,28,28"),
                          reshape_case({3, 2, 3, 5}, "-1"), reshape_case({2, 6, 5}, "5,-1,2"),
                          reshape_case({1, 1}, "1,1,1")};
  for (const OpCase& c : cases) check_op(c);
}

TEST(Reshape, Shapes) {
  EXPECT_EQ(infer_dst({8, 784}, "1,28,28"), (Shape{8, 1, 28, 28}));
  EXPECT_EQ(infer_dst({8, 16, 7, 7}, "-1"), (Shape{8, 784}));
  EXPECT_EQ(infer_dst({8, 16, 7, 7}, "16,-1"), (Shape{8, 16, 49}));
  EXPECT_EQ(infer_dst({0, 16, 7, 7}, "-1,7"), (Shape{0, 112, 7}));  // an empty batch keeps its dims
}

TEST(Reshape, BadShapesNameTheNode) {
  const OpKernel& k = builtin_registry().op("reshape");
  const Shape in[] = {Shape{2, 12}};
  auto fails = [&](const std::string& shape, const std::vector<std::string>& parts) {
    expect_error([&] { k.infer("rs", k.resolve_attrs({{"shape", AttrValue(shape)}}, "rs"), in); },
                 ErrorCode::kInvalid, parts);
  };
  fails("5,5", {"node 'rs'", "12 values per sample", "25 values"});
  fails("-1,-1", {"node 'rs'", "more than one -1"});
  fails("5,-1", {"node 'rs'", "cannot infer -1", "not a multiple of 5"});
  fails("3,x", {"node 'rs'", "'3,x'"});
  fails("", {"node 'rs'", "positive dims"});
  fails("0,12", {"node 'rs'", "positive dims"});
}

}  // namespace
}  // namespace plexus::test
