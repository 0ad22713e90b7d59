// Printable forms of the day's figures: the X-report a till prints, the
// Z-report of a close-down and the fog's reports (hourly, items, cashiers,
// tenders), as text and CSV. storectl and the fog's web console both print
// through these, so one figure reads the same everywhere.
//
// Text fits an 80-column printer page, amounts right-aligned with two
// decimals (Money::ToString); discounts and refunds read negative, voids
// positive (they are not in net sales). CSV starts with a header row; amounts
// are decimals ("12.34", refunds positive as stored), counts integers. A
// header names the currency of its amount columns when the report knows it
// ("sales_EUR"); the key-value forms (x, z) have a row "header,currency,EUR"
// instead. A report of a range of days (Report from_day..to_day) says so in
// its head ("Business days 2026-11-30 .. 2026-12-06 (7 days)"). Pure
// functions, thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "storenode/common/status.h"
#include "storenode/schemas/closedown.pb.h"
#include "storenode/schemas/journal.pb.h"
#include "storenode/schemas/settings.pb.h"
#include "storenode/schemas/xreport.pb.h"

namespace storenode {

// Width of the printed page in columns.
inline constexpr int kReportWidth = 80;

// A report of `totals` under `title` ("X-REPORT", "Z-REPORT 17"...) that fits
// an 80-column printer page, amounts right-aligned: header, sales, tax per
// rate, tenders, drawers, no-sale opens. Ends with a newline.
std::string FormatDayTotalsText(const v1::DayTotals& totals, std::string_view title);

// A till's X-report of `totals` for its printer, amounts and times in the
// store's currency and zone from `settings`.
std::string FormatTillXText(const v1::DayTotals& totals, const v1::StoreSettings& settings);

// Width of a receipt: 42 columns, what an 80 mm thermal printer's font A
// prints; FormatReceiptText takes 32..80.
inline constexpr int kReceiptWidth = 42;

// The receipt a till prints for a SALE, REFUND or VOID event, under the
// store `settings` it was recorded with: the store's name, address and tax
// id; receipt number, local time, till and cashier; one entry per line (name
// or sku, qty x unit price, gross and tax code, the discount); the total,
// the cash rounding, each tender (cash handed over and change); one row per
// tax rate (code, rate, net, tax, gross); then the business day, seq, the
// event's hash and Ed25519 signature in hex. The receipt is proven from these
// (storectl verify receipt); ReceiptQrPayload below carries them for a QR
// code. InvalidArgument for an event of another kind or whose hash is wrong.
Result<std::string> FormatReceiptText(const v1::JournalEvent& event,
                                      const v1::StoreSettings& settings, int width = kReceiptWidth);

// The QR code payload of a receipt event (FORMATS.md, "Receipt QR payload"):
//   SN1;s=STORE;d=DEVICE;r=RECEIPT_NO;q=SEQ;b=BUSINESS_DAY;t=TOTAL;h=HASH;g=SIGNATURE
// with TOTAL in minor units and HASH and SIGNATURE in lowercase hex. ASCII,
// at most 400 bytes for ids of up to 64 characters.
Result<std::string> ReceiptQrPayload(const v1::JournalEvent& event);

// The same figures as CSV: a header row "section,key,value", then one row per
// figure. Amounts as decimals ("12.34"), counts as integers; rows of a tax
// rate, tender or drawer have section "tax:A", "tender:CASH", "drawer:till-1".
std::string FormatDayTotalsCsv(const v1::DayTotals& totals);

// A Z-report (or a supplement) for the printer: header (store, day, number,
// kind, the Z a supplement adds to, period, software, forced close and the
// missing tills), one row per till (sealed or missing, receipt numbers, sales
// receipts, journal head seq and short hash), the day's sales, tax, tenders,
// drawers with the counted cash and over/short, grand totals, the Merkle root
// and the previous Z's hash. With `signed_z` (the SignedZ these bytes came
// from), its hash, fog key and signature are printed and checked too.
std::string FormatZText(const v1::ZReport& z, const v1::SignedZ* signed_z = nullptr);

// The Z's figures as CSV: header row "z_number,part,section,key,value", then
// the rows of FormatDayTotalsCsv (same sections and keys) and the Z's own:
// section "z" (header fields), "till:ID", "count:ID" (drawer counts),
// "grand_totals", "integrity".
std::string FormatZCsv(const v1::ZReport& z);

// Receipts, sales, refunds and net per hour of report.hours().
// CSV header: hour,start,receipts,sales_EUR,refunds_EUR,net_EUR
std::string FormatHourlyText(const v1::Report& report);
std::string FormatHourlyCsv(const v1::Report& report);

// Quantity, revenue and refunds per item of report.items(), in their order.
// CSV header: sku,name,qty,revenue_EUR,refund_qty,refund_amount_EUR
std::string FormatItemsText(const v1::Report& report);
std::string FormatItemsCsv(const v1::Report& report);

// Receipts, sales, refunds, voids and no-sale opens per cashier.
// CSV header:
// cashier,receipts,sales_EUR,refund_count,refunds_EUR,void_count,voids_EUR,no_sale_count
std::string FormatCashiersText(const v1::Report& report);
std::string FormatCashiersCsv(const v1::Report& report);

// Count, sales, refunds and net per tender of report.x().tenders().
// CSV header: type,count,sales_EUR,refunds_EUR,net_EUR
std::string FormatTendersText(const v1::Report& report);
std::string FormatTendersCsv(const v1::Report& report);

// Quantity, sale lines, gross, refunds, net and tax per department of
// report.departments(), then their total.
// CSV header: department,items,qty,lines,gross_EUR,refund_qty,refunds_EUR,net_EUR,tax_EUR
std::string FormatDepartmentsText(const v1::Report& report);
std::string FormatDepartmentsCsv(const v1::Report& report);

// Any Report by its kind ("z", "x", "hourly", "items", "departments",
// "cashiers", "tenders"): for "z" every part (the Zs, then their
// supplements) under one CSV header row; the text of a range's z starts with
// a page that lists its Zs, their sum and the days not closed.
// InvalidArgument for another kind.
Result<std::string> FormatReportText(const v1::Report& report);
Result<std::string> FormatReportCsv(const v1::Report& report);

}  // namespace storenode
