// storectl report: the fog's reports of one business day or of a range.
//
//   storectl report KIND (--day D | --from D --to D | --week-to-date |
//                   --month-to-date) [--format text|json|csv] [--top N]
//                   [--config FILE] [--broker URI ...]
//
// KIND is z (the day's Z-report and its supplements), x (the running totals
// of an open day), hourly, items (by revenue, --top N of them), departments,
// cashiers or tenders. A range sums its days (at most 366); week and month to
// date end on the store's business day now, in its calendar, which the fog
// knows (ReportRequest.period). Every figure comes from the fog
// (FogRequest.report); the text and CSV forms are report_text.h's, the ones
// the web console prints too.
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "commands.h"
#include "sim/json.h"
#include "storenode/common/clock.h"
#include "storenode/common/report_text.h"

namespace storenode::storectl {
namespace {

const std::vector<std::string> kKinds = {"z",           "x",        "hourly", "items",
                                         "departments", "cashiers", "tenders"};

struct ReportArgs {
  FogFlags fog;
  std::string kind;
  std::string day;
  std::string from, to;
  bool week_to_date = false;
  bool month_to_date = false;
  std::string format = "text";
  uint32_t top = 0;
};

int ShowReport(const ReportArgs& a) {
  const int forms =
      !a.day.empty() + (!a.from.empty() || !a.to.empty()) + a.week_to_date + a.month_to_date;
  if (forms != 1) {
    return Fail(kExitUsage,
                "name the days once: --day D, --from D --to D, --week-to-date or --month-to-date");
  }
  for (const auto& [flag, day] : {std::pair{"--day", a.day}, {"--from", a.from}, {"--to", a.to}}) {
    if (!day.empty() && !IsValidDay(day))
      return Fail(kExitUsage, std::string(flag) + " '" + day + "' is not a day (YYYY-MM-DD)");
  }
  if (a.from.empty() != a.to.empty()) return Fail(kExitUsage, "--from and --to go together");
  if (a.top != 0 && a.kind != "items") return Fail(kExitUsage, "--top is for the items report");
  v1::FogRequest request;
  v1::ReportRequest* ask = request.mutable_report();
  ask->set_kind(a.kind);
  ask->set_business_day(a.day);
  ask->set_from_day(a.from);
  ask->set_to_day(a.to);
  if (a.week_to_date) ask->set_period("week_to_date");
  if (a.month_to_date) ask->set_period("month_to_date");
  ask->set_top(a.top);
  v1::FogResponse response;
  if (int code = AskFogOrFail(a.fog, request, &response); code != kExitOk) return code;
  const v1::Report& report = response.report();
  if (a.format == "json") {
    std::cout << tools::JsonPretty(report);
    return kExitOk;
  }
  // The fog answers the kind it was asked for; anything else is its bug,
  // which the formatters name.
  Result<std::string> printed =
      a.format == "csv" ? FormatReportCsv(report) : FormatReportText(report);
  if (!printed.ok()) return Fail(kExitFailed, "the fog's answer: " + printed.status().message());
  std::cout << *printed;
  return kExitOk;
}

}  // namespace

void AddReportCommand(CLI::App& app, int* exit_code) {
  auto args = std::make_shared<ReportArgs>();
  CLI::App* cmd = app.add_subcommand(
      "report",
      "print a report of one business day or a range from the fog: z (the Z-reports and "
      "their supplements), x (running totals), hourly, items, departments, cashiers or tenders");
  cmd->add_option("KIND", args->kind, "z, x, hourly, items, departments, cashiers or tenders")
      ->required()
      ->check(CLI::IsMember(kKinds));
  cmd->add_option("--day", args->day, "business day")->type_name("YYYY-MM-DD");
  cmd->add_option("--from", args->from, "first business day of a range (with --to)")
      ->type_name("YYYY-MM-DD");
  cmd->add_option("--to", args->to, "last business day of a range, inclusive (at most 366 days)")
      ->type_name("YYYY-MM-DD");
  cmd->add_flag("--week-to-date", args->week_to_date,
                "from Monday of this week (ISO) to today, in the store's calendar");
  cmd->add_flag("--month-to-date", args->month_to_date,
                "from the 1st of this month to today, in the store's calendar");
  cmd->add_option("--format", args->format,
                  "text (an 80-column page), json (the fog's Report) or csv (with a header row)")
      ->check(CLI::IsMember({"text", "json", "csv"}))
      ->capture_default_str();
  cmd->add_option("--top", args->top, "items: only the N best by revenue (default: all)")
      ->type_name("N")
      ->check(CLI::PositiveNumber);
  AddFogOptions(cmd, &args->fog);
  cmd->callback([args, exit_code] { *exit_code = ShowReport(*args); });
}

}  // namespace storenode::storectl
