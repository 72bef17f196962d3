// Reading model definitions: protobuf text format or binary.
#include <plexus/error.hpp>
#include <plexus/model.hpp>

#include <google/protobuf/io/tokenizer.h>
#include <google/protobuf/text_format.h>

#include <fstream>
#include <sstream>

namespace plexus {
namespace {

class CollectErrors : public google::protobuf::io::ErrorCollector {
 public:
  explicit CollectErrors(std::string source) : source_(std::move(source)) {}
  void AddError(int line, google::protobuf::io::ColumnNumber column, const std::string& message) override {
    if (first_.empty())
      first_ = source_ + ":" + std::to_string(line + 1) + ":" + std::to_string(column + 1) + ": " + message;
  }
  void AddWarning(int, google::protobuf::io::ColumnNumber, const std::string&) override {}
  const std::string& first() const { return first_; }

 private:
  std::string source_;
  std::string first_;
};

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

proto::ModelDef parse_model_def_text(const std::string& text, const std::string& source) {
  proto::ModelDef def;
  google::protobuf::TextFormat::Parser parser;
  CollectErrors errors(source);
  parser.RecordErrorsTo(&errors);
  if (!parser.ParseFromString(text, &def))
    throw Error(ErrorCode::kFormat, "malformed model definition " +
                                        (errors.first().empty() ? source : errors.first()));
  return def;
}

proto::ModelDef load_model_def(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(ErrorCode::kIo, "cannot open model definition '" + path + "'");
  std::stringstream buf;
  buf << in.rdbuf();
  const std::string bytes = buf.str();
  if (ends_with(path, ".pbtxt") || ends_with(path, ".prototxt") || ends_with(path, ".txt"))
    return parse_model_def_text(bytes, path);
  proto::ModelDef def;
  if (def.ParseFromString(bytes)) return def;
  // Not binary: perhaps text under another extension; report the text error.
  return parse_model_def_text(bytes, path);
}

}  // namespace plexus
