#include "qr.h"

#include <fmt/format.h>
#include <qrencode.h>

#include <memory>

namespace storenode::edge {

Result<std::string> QrSvg(std::string_view payload) {
  constexpr int kQuiet = 4;
  std::unique_ptr<QRcode, decltype(&QRcode_free)> code(
      QRcode_encodeData(static_cast<int>(payload.size()),
                        reinterpret_cast<const unsigned char*>(payload.data()), 0, QR_ECLEVEL_M),
      &QRcode_free);
  if (!code) {
    return Status::Invalid(fmt::format("a QR code cannot hold {} bytes", payload.size()));
  }
  const int n = code->width, size = n + 2 * kQuiet;
  std::string svg = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {0} {0}\" "
      "shape-rendering=\"crispEdges\"><rect width=\"{0}\" height=\"{0}\" fill=\"#fff\"/>"
      "<path fill=\"#000\" d=\"",
      size);
  // One horizontal run of dark modules per path segment.
  for (int y = 0; y < n; ++y) {
    for (int x = 0; x < n;) {
      if (!(code->data[y * n + x] & 1)) {
        ++x;
        continue;
      }
      int run = 1;
      while (x + run < n && (code->data[y * n + x + run] & 1)) ++run;
      svg += fmt::format("M{} {}h{}v1h-{}z", x + kQuiet, y + kQuiet, run, run);
      x += run;
    }
  }
  svg += "\"/></svg>\n";
  return svg;
}

}  // namespace storenode::edge
