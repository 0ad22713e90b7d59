#include "storenode/common/status.h"

#include <cstdio>
#include <cstdlib>

namespace storenode {

const char* CodeName(Code code) {
  switch (code) {
    case Code::kOk:
      return "ok";
    case Code::kInvalidArgument:
      return "invalid argument";
    case Code::kNotFound:
      return "not found";
    case Code::kAlreadyExists:
      return "already exists";
    case Code::kCorruption:
      return "corruption";
    case Code::kIoError:
      return "io error";
    case Code::kUnavailable:
      return "unavailable";
    case Code::kFailedPrecondition:
      return "failed precondition";
  }
  return "unknown";
}

std::string Status::ToString() const {
  if (ok()) return "ok";
  return std::string(CodeName(code_)) + ": " + message_;
}

void DieOnErrorResult(const Status& status, const char* what) {
  std::fprintf(stderr, "storenode: Result::%s on an error result: %s\n", what,
               status.ToString().c_str());
  std::fflush(stderr);
  std::abort();
}

}  // namespace storenode
