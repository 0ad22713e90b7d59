#include "sim/json.h"

#include <google/protobuf/util/json_util.h>

namespace storenode::tools {
namespace {

std::string Print(const google::protobuf::Message& message, bool pretty) {
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = pretty;
  options.always_print_primitive_fields = true;
  options.preserve_proto_field_names = true;
  std::string out;
  // Printing a well-formed message only fails for Any fields with unknown
  // types, which the tools' messages do not have.
  (void)google::protobuf::util::MessageToJsonString(message, &out, options);
  return out;
}

}  // namespace

std::string JsonLine(const google::protobuf::Message& message) { return Print(message, false); }

std::string JsonPretty(const google::protobuf::Message& message) {
  std::string out = Print(message, true);
  if (out.empty() || out.back() != '\n') out += '\n';
  return out;
}

}  // namespace storenode::tools
