// JSON output of the command-line tools, through protobuf's own printer.
//
// It lives beside the simulator because sn_sim is the one library every tool
// links; field names are the .proto names (snake_case), and zero-valued
// fields are printed so that scripts see every figure.
#pragma once

#include <google/protobuf/message.h>

#include <string>

namespace storenode::tools {

// The whole message on one line, without a trailing newline.
std::string JsonLine(const google::protobuf::Message& message);

// Indented, for people; ends with a newline.
std::string JsonPretty(const google::protobuf::Message& message);

}  // namespace storenode::tools
