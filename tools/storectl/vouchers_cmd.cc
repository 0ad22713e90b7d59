// storectl vouchers: the store's voucher and gift card balances at the fog.
//
//   storectl vouchers show [--card C] [--limit N] [--format text|json]
//
// A card's balance is its loads (sale lines that sold or topped it up) less
// its redemptions (voucher tenders), as the fog booked them from the tills'
// journals; a negative balance is an overdraft the fog also raises as an
// alert on its status (docs/FORMATS.md "Vouchers, gift cards and tips").
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>

#include "commands.h"
#include "sim/json.h"
#include "storenode/common/money.h"

namespace storenode::storectl {
namespace {

struct VoucherArgs {
  FogFlags fog;
  std::string card;
  uint32_t limit = 1000;
  std::string format = "text";
};

int Show(const VoucherArgs& a) {
  v1::FogRequest request;
  request.mutable_voucher_show()->set_card_id(a.card);
  request.mutable_voucher_show()->set_limit(a.limit);
  v1::FogResponse response;
  if (int code = AskFogOrFail(a.fog, request, &response); code != kExitOk) return code;
  const v1::VoucherShowResponse& r = response.voucher_show();
  if (a.format == "json") {
    std::cout << tools::JsonPretty(r);
    return kExitOk;
  }
  char line[256];
  std::snprintf(line, sizeof line, "%-32s %-8s %12s %12s %12s\n", "CARD", "TYPE", "LOADED",
                "REDEEMED", "BALANCE");
  std::cout << line;
  for (const v1::VoucherCard& c : r.cards()) {
    std::snprintf(line, sizeof line, "%-32s %-8s %12s %12s %12s%s\n", c.card_id().c_str(),
                  c.voucher_type().c_str(), Money(c.loaded()).ToString().c_str(),
                  Money(c.redeemed()).ToString().c_str(), Money(c.balance()).ToString().c_str(),
                  c.balance() < 0 ? "  OVERDRAWN" : "");
    std::cout << line;
  }
  std::cout << r.alert_count() << " overdraft alert(s)\n";
  for (const v1::VoucherAlert& x : r.alerts()) {
    std::cout << "  " << x.business_day() << " card " << x.card_id() << ": "
              << Money(x.amount()).ToString() << " redeemed by " << x.device_id() << " seq "
              << x.seq() << " left " << Money(x.balance()).ToString() << "\n";
  }
  return kExitOk;
}

}  // namespace

void AddVoucherCommands(CLI::App& app, int* exit_code) {
  auto args = std::make_shared<VoucherArgs>();
  CLI::App* vouchers = app.add_subcommand("vouchers", "voucher and gift card balances");
  vouchers->require_subcommand(1);
  CLI::App* show = vouchers->add_subcommand("show", "balances per card and overdraft alerts");
  show->add_option("--card", args->card, "one card")->check([](const std::string& c) {
    return c.size() <= 32 ? std::string() : std::string("a card id has at most 32 characters");
  });
  show->add_option("--limit", args->limit, "at most this many cards (by card id)")
      ->check(CLI::Range(1, 100000));
  show->add_option("--format", args->format, "text or json (VoucherShowResponse)")
      ->check(CLI::IsMember({"text", "json"}));
  AddFogOptions(show, &args->fog);
  show->callback([args, exit_code] { *exit_code = Show(*args); });
}

}  // namespace storenode::storectl
