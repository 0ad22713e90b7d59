// A POS written in C++ against storenode/till.h alone (over
// libstorenode-edge.so.1), driven by tests/edge_c_test.cc against a real fog,
// built in the tree and, out of tree, through find_package(storenode).
//
//   edge_cpp_consumer PROFILE SALES
//
// Records the same SALES sales as tests/edge_c_consumer.c (sale i, from 0:
// (i % 3) + 1 x "C-i" at 100 + 10 * i under tax A, paid by card), checks
// each receipt's printed text, QR payload and SVG, waits until the fog has
// acked them all, and prints the same two lines:
//
//   x {...the till's X-report JSON...}
//   day=YYYY-MM-DD receipts=N net=CENTS head=SEQ acked=SEQ logs=0
//
// Exit 0 when every check held, 1 otherwise (the reason on stderr).
#include <chrono>
#include <cstdio>
#include <iostream>
#include <string>
#include <thread>

#include "storenode/till.h"

namespace {

int Fail(const std::string& what, const std::string& why) {
  std::cerr << "edge_cpp_consumer: " << what << ": " << why << "\n";
  return 1;
}

bool Has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) return Fail("usage", "edge_cpp_consumer PROFILE SALES");
  const int sales = std::stoi(argv[2]);
  auto till = storenode::Till::Open(argv[1]);
  if (!till.ok()) return Fail("open", till.error());
  // A moved-from till is closed: its calls say so, they do not crash.
  storenode::Till moved = std::move(*till);
  if (auto s = till->SyncState(); s.code() != SN_BAD_HANDLE) return Fail("moved-from", s.error());
  if (auto r = till->Receipt(1);
      r.code() != SN_BAD_HANDLE || r.error().find("not an open till") == std::string::npos) {
    return Fail("moved-from receipt", r.error());
  }

  long net = 0;
  for (int i = 0; i < sales; ++i) {
    const long qty = (i % 3) + 1, price = 100 + 10 * i;
    const std::string sku = "C-" + std::to_string(i);
    const std::string json =
        "{\"lines\":[{\"sku\":\"" + sku + "\",\"qty\":" + std::to_string(qty) +
        ",\"unit_price\":" + std::to_string(price) + ",\"tax_code\":\"A\",\"name\":\"Item " + sku +
        "\"}],\"tenders\":[{\"type\":\"CARD\",\"amount\":" + std::to_string(qty * price) +
        "}],\"cashier\":\"c1\"}";
    auto rec = moved.RecordJson(SN_SALE, json);
    if (!rec.ok()) return Fail("record", rec.error());
    if (rec->receipt_no != static_cast<uint64_t>(i + 1) || rec->total != qty * price) {
      return Fail("record", "receipt " + std::to_string(rec->receipt_no) + " total " +
                                std::to_string(rec->total));
    }
    net += rec->total;
    auto text = moved.Receipt(rec->receipt_no);
    if (!text.ok()) return Fail("receipt", text.error());
    char amount[32];
    std::snprintf(amount, sizeof amount, "%ld.%02ld", qty * price / 100, qty * price % 100);
    for (const std::string& part : {"RECEIPT " + std::to_string(i + 1), "Item " + sku,
                                    std::string("CARD"), std::string(amount)}) {
      if (!Has(*text, part)) return Fail("receipt text lacks '" + part + "'", *text);
    }
    auto qr = moved.Receipt(rec->receipt_no, SN_RECEIPT_QR_PAYLOAD);
    const std::string want = ";r=" + std::to_string(i + 1) + ";";
    if (!qr.ok() || qr->rfind("SN1;", 0) != 0 || !Has(*qr, want)) return Fail("qr", qr.error());
    auto svg = moved.Receipt(rec->receipt_no, SN_RECEIPT_QR_SVG);
    if (!svg.ok() || svg->rfind("<svg", 0) != 0) return Fail("svg", svg.error());
  }
  if (auto none = moved.Receipt(sales + 1); none.code() != SN_NOT_FOUND) {
    return Fail("receipt not issued", none.error());
  }
  auto x = moved.XReport();
  if (!x.ok()) return Fail("x", x.error());
  auto x_text = moved.XReport(SN_FORMAT_TEXT);
  if (!x_text.ok() || !Has(*x_text, "X-REPORT")) return Fail("x text", x_text.error());
  std::cout << "x " << *x << "\n";

  sn_sync_state st{};
  for (int waited = 0;; waited += 100) {
    auto s = moved.SyncState();
    if (!s.ok()) return Fail("sync state", s.error());
    st = *s;
    if (st.syncing && st.backlog == 0 && st.acked_seq == st.head_seq) break;
    if (waited > 60000) return Fail("sync", "not acked: head " + std::to_string(st.head_seq));
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  auto day = moved.BusinessDay();
  if (!day.ok()) return Fail("day", day.error());
  moved.Close();
  std::cout << "day=" << *day << " receipts=" << sales << " net=" << net << " head=" << st.head_seq
            << " acked=" << st.acked_seq << " logs=0\n";
  return 0;
}
