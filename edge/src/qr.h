// A QR code as an SVG image, for the receipt's payload (Journal::ReceiptQrSvg).
#pragma once

#include <string>
#include <string_view>

#include "storenode/common/status.h"

namespace storenode::edge {

// `payload` (8-bit mode, error correction level M) as a standalone SVG: one
// unit per module, 4 modules of quiet zone, black on white, scalable. Invalid
// for a payload too long for a QR code (over 2,331 bytes at level M).
Result<std::string> QrSvg(std::string_view payload);

}  // namespace storenode::edge
