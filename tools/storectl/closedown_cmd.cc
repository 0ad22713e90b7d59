// storectl closedown: close business day D at the fog and print its Z.
//
//   storectl closedown --day D [--count DEVICE=AMOUNT ...]
//                      [--count-foreign DEVICE:CURRENCY=AMOUNT ...] [--wait SECONDS]
//                      [--force] [--json] [--config FILE] [--broker URI ...]
//
// The fog tells every till to seal D and makes the Z once all of them have
// (docs/ARCHITECTURE.md, "Close-down"). Until then it answers with the tills that
// sealed and those it waits for, and this command asks again every second:
// the fog treats the same request for the same day as the same close-down,
// so asking again, or running the command twice, never makes a second Z.
// When --wait runs out, --force asks once more with force set, and the fog
// closes without the missing tills; their late sales come in a
// supplementary close-down when they seal.
#include <algorithm>
#include <chrono>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "commands.h"
#include "sim/json.h"
#include "storenode/common/clock.h"
#include "storenode/common/money.h"
#include "storenode/common/report_text.h"
#include "storenode/common/store_settings.h"

namespace storenode::storectl {
namespace {

using SteadyClock = std::chrono::steady_clock;

constexpr double kMaxWaitSeconds = 24 * 60 * 60;

struct CloseDownArgs {
  FogFlags fog;
  std::string day;
  std::vector<std::string> counts;          // DEVICE=AMOUNT
  std::vector<std::string> foreign_counts;  // DEVICE:CURRENCY=AMOUNT
  double wait_s = 60;
  bool force = false;
  bool json = false;
};

// --count DEVICE=AMOUNT into CloseDownRequest.counted_cash; a reason (one
// line) if one of them is not a device and a non-negative amount.
Status ParseCounts(const std::vector<std::string>& counts, v1::CloseDownRequest* request) {
  for (const std::string& count : counts) {
    const size_t eq = count.find('=');
    if (eq == std::string::npos || eq == 0) {
      return Status::Invalid("--count '" + count + "' must be DEVICE=AMOUNT, e.g. till-1=152.35");
    }
    const std::string device = count.substr(0, eq);
    auto amount = Money::Parse(count.substr(eq + 1));
    if (!amount.ok())
      return Status::Invalid("--count " + device + ": " + amount.status().message());
    if (amount->minor() < 0) {
      return Status::Invalid("--count " + device + ": counted cash cannot be negative");
    }
    if (!request->mutable_counted_cash()->insert({device, amount->minor()}).second) {
      return Status::Invalid("--count " + device + " given twice");
    }
  }
  return Status::Ok();
}

// --count-foreign DEVICE:CURRENCY=AMOUNT (the amount in that currency's
// decimals) into CloseDownRequest.counted_foreign; the fog checks the rest.
Status ParseForeignCounts(const std::vector<std::string>& counts, v1::CloseDownRequest* request) {
  for (const std::string& count : counts) {
    const size_t colon = count.find(':'), eq = count.find('=');
    if (colon == std::string::npos || colon == 0 || eq == std::string::npos || eq < colon) {
      return Status::Invalid("--count-foreign '" + count +
                             "' must be DEVICE:CURRENCY=AMOUNT, e.g. till-1:USD=250.00");
    }
    const std::string device = count.substr(0, colon);
    const std::string currency = count.substr(colon + 1, eq - colon - 1);
    const int decimals = settings::CurrencyDecimals(currency);
    if (decimals < 0) return Status::Invalid("--count-foreign " + device + ": unknown currency");
    auto amount = Money::Parse(count.substr(eq + 1), decimals);
    if (!amount.ok() || amount->minor() < 0) {
      return Status::Invalid("--count-foreign " + device + ":" + currency +
                             ": want a non-negative amount");
    }
    v1::ForeignCount* c = request->add_counted_foreign();
    c->set_device_id(device);
    c->set_currency(currency);
    c->set_counted(amount->minor());
  }
  return Status::Ok();
}

std::string Joined(const google::protobuf::RepeatedPtrField<std::string>& items) {
  std::string out;
  for (const std::string& item : items) out += (out.empty() ? "" : ", ") + item;
  return out.empty() ? "none" : out;
}

// "sealed: till-1, till-2; waiting for: till-3"
std::string Progress(const v1::CloseDownResponse& r) {
  return "sealed: " + Joined(r.sealed_tills()) + "; waiting for: " + Joined(r.waiting_for());
}

// The Z and its supplements as text; false (and a reason on stderr) if the
// fog's bytes do not parse.
bool PrintZ(const v1::CloseDownResponse& r, int* code) {
  std::vector<const v1::SignedZ*> parts = {&r.z()};
  for (const v1::SignedZ& s : r.supplements()) parts.push_back(&s);
  std::string out;
  for (const v1::SignedZ* s : parts) {
    v1::ZReport z;
    if (!z.ParseFromString(s->z())) {
      *code = Fail(kExitFailed, "the fog's Z-report for " + r.business_day() + " does not parse");
      return false;
    }
    if (!out.empty()) out += "\n";
    out += FormatZText(z, s);
  }
  std::cout << out;
  return true;
}

int CloseDown(const CloseDownArgs& a) {
  if (!IsValidDay(a.day))
    return Fail(kExitUsage, "--day '" + a.day + "' is not a day (YYYY-MM-DD)");
  v1::FogRequest request;
  v1::CloseDownRequest* closedown = request.mutable_closedown();
  closedown->set_business_day(a.day);
  if (Status s = ParseCounts(a.counts, closedown); !s.ok()) return Fail(kExitUsage, s.message());
  if (Status s = ParseForeignCounts(a.foreign_counts, closedown); !s.ok()) {
    return Fail(kExitUsage, s.message());
  }

  const auto deadline = SteadyClock::now() + std::chrono::duration_cast<SteadyClock::duration>(
                                                 std::chrono::duration<double>(a.wait_s));
  v1::FogResponse response;
  std::string shown;  // the progress line last printed, so that it is printed when it changes
  while (true) {
    const auto asked = SteadyClock::now();
    if (int code = AskFogOrFail(a.fog, request, &response); code != kExitOk) return code;
    if (response.closedown().closed() || asked >= deadline) break;
    const std::string progress = Progress(response.closedown());
    if (!a.json && progress != shown) {
      std::cout << a.day << " " << progress << std::endl;
      shown = progress;
    }
    std::this_thread::sleep_until(std::min(deadline, asked + std::chrono::seconds(1)));
  }

  if (!response.closedown().closed() && a.force) {
    closedown->set_force(true);
    if (int code = AskFogOrFail(a.fog, request, &response); code != kExitOk) return code;
  }
  const v1::CloseDownResponse& result = response.closedown();
  if (a.json) std::cout << tools::JsonPretty(result);
  if (!result.closed()) {
    if (a.force) return Fail(kExitFailed, "the fog did not close " + a.day + " even with --force");
    return Fail(kExitFailed, a.day + " is not closed: still waiting for " +
                                 Joined(result.waiting_for()) +
                                 "; --force would close without them, and their late sales "
                                 "would come in a supplementary close-down");
  }
  int code = kExitOk;
  if (!a.json && !PrintZ(result, &code)) return code;
  return kExitOk;
}

}  // namespace

void AddCloseDownCommand(CLI::App& app, int* exit_code) {
  auto args = std::make_shared<CloseDownArgs>();
  CLI::App* cmd = app.add_subcommand(
      "closedown",
      "close a business day at the fog: every till seals it, the fog makes, signs and prints "
      "the Z-report (asking again for a closed day prints the same Z)");
  cmd->add_option("--day", args->day, "business day to close")->type_name("YYYY-MM-DD")->required();
  cmd->add_option("--count-foreign", args->foreign_counts,
                  "a foreign drawer balance counted, e.g. till-1:USD=250.00 (once per till "
                  "and currency)");
  cmd->add_option("--count", args->counts,
                  "cash counted in a till's drawer, e.g. till-1=152.35 (once per till)")
      ->type_name("DEVICE=AMOUNT");
  cmd->add_option("--wait", args->wait_s,
                  "how long to wait for every till to seal, asking every second")
      ->type_name("SECONDS")
      ->check(CLI::Range(0.0, kMaxWaitSeconds))
      ->capture_default_str();
  cmd->add_flag("--force", args->force,
                "when --wait runs out, close without the tills that have not sealed (their late "
                "sales then come in a supplementary close-down)");
  cmd->add_flag("--json", args->json, "print the fog's final CloseDownResponse as JSON");
  AddFogOptions(cmd, &args->fog);
  cmd->callback([args, exit_code] { *exit_code = CloseDown(*args); });
}

}  // namespace storenode::storectl
