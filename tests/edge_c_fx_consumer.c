/* A C99 bureau de change on the C ABI only (storenode/edge_c.h), driven by
 * tests/edge_c_test.cc against a real fog whose settings carry the sim
 * store's rate sheet (USD buy 0.89 sell 0.97 mid 0.93; commission 1% min
 * 1.00 selling notes, 2% min 1.50 buying them).
 *
 *   edge_c_fx_consumer PROFILE
 *
 * Opens the till of PROFILE with sync and records, through SN_EXCHANGE and
 * SN_SALE as JSON:
 *   1. SELL_FOREIGN 200.00 USD, paid 195.94 in cash (200.00 handed over);
 *   2. BUY_FOREIGN 50.00 USD, 43.00 paid out in cash;
 *   -  refused: SELL_FOREIGN 200.00 USD paid 190.00 (the tenders do not add
 *      up), and an exchange of the home currency EUR;
 *   3. a 12.99 sale paid in cash with 20.00 USD (13.00 due, 17.80 tendered).
 * It checks each receipt number and total and each refusal's message,
 * waits until the fog has acked everything, and prints
 *
 *   x {...the till's X-report JSON...}
 *   day=YYYY-MM-DD head=SEQ acked=SEQ
 *
 * on stdout, nothing else. Exit 0 when every check held, 1 otherwise (the
 * reason on stderr).
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "storenode/edge_c.h"

static int fail(const char* what, const sn_error* err) {
  fprintf(stderr, "edge_c_fx_consumer: %s: %d %s\n", what, (int)err->code, err->message);
  return 1;
}

/* Records `json` as `kind`; 1 unless it takes receipt `receipt_no` for `total`. */
static int record(sn_till* till, sn_event_kind kind, const char* json, unsigned long receipt_no,
                  long total, const char* what) {
  sn_error err;
  sn_recorded rec;
  if (sn_till_record(till, kind, SN_FORMAT_JSON, json, strlen(json), &rec, &err) != SN_OK)
    return fail(what, &err);
  if (rec.receipt_no != receipt_no || rec.total != total) {
    fprintf(stderr, "edge_c_fx_consumer: %s: receipt %llu total %lld, want %lu %ld\n", what,
            (unsigned long long)rec.receipt_no, (long long)rec.total, receipt_no, total);
    return 1;
  }
  return 0;
}

/* 1 unless `json` is refused as SN_INVALID_ARGUMENT with `fragment` in its message. */
static int refused(sn_till* till, const char* json, const char* fragment, const char* what) {
  sn_error err;
  sn_recorded rec;
  sn_status s = sn_till_record(till, SN_EXCHANGE, SN_FORMAT_JSON, json, strlen(json), &rec, &err);
  if (s != SN_INVALID_ARGUMENT || strstr(err.message, fragment) == NULL) {
    fprintf(stderr, "edge_c_fx_consumer: %s: got %d \"%s\", want %d containing \"%s\"\n", what,
            (int)s, err.message, (int)SN_INVALID_ARGUMENT, fragment);
    return 1;
  }
  return 0;
}

int main(int argc, char** argv) {
  sn_error err;
  sn_till* till = NULL;
  sn_sync_state st;
  sn_buffer buf = {NULL, 0};
  char day[16];
  int waited;

  if (argc != 2) {
    fprintf(stderr, "usage: edge_c_fx_consumer PROFILE\n");
    return 2;
  }
  if (sn_till_open_profile(argv[1], 1, &till, &err) != SN_OK) return fail("open", &err);

  /* 200.00 USD at 0.97 is 194.00, 1% commission 1.94: the customer pays 195.94. */
  if (record(till, SN_EXCHANGE,
             "{\"direction\":\"SELL_FOREIGN\",\"currency\":\"USD\",\"foreign_amount\":\"20000\","
             "\"cashier\":\"c1\",\"tenders\":[{\"type\":\"CASH\",\"amount\":\"19594\","
             "\"tendered\":\"20000\"}]}",
             1, 19594, "sell USD"))
    return 1;
  /* 50.00 USD at 0.89 is 44.50, 2% is 0.89, held at the minimum 1.50: paid 43.00. */
  if (record(till, SN_EXCHANGE,
             "{\"direction\":\"BUY_FOREIGN\",\"currency\":\"USD\",\"foreignAmount\":5000,"
             "\"cashier\":\"c1\",\"tenders\":[{\"type\":\"CASH\",\"amount\":4300}]}",
             2, 4300, "buy USD"))
    return 1;
  if (refused(till,
              "{\"direction\":\"SELL_FOREIGN\",\"currency\":\"USD\",\"foreign_amount\":20000,"
              "\"cashier\":\"c1\",\"tenders\":[{\"type\":\"CASH\",\"amount\":19000}]}",
              "tenders add up to 19000, the exchange total is 19594", "short tenders"))
    return 1;
  if (refused(till,
              "{\"direction\":\"BUY_FOREIGN\",\"currency\":\"EUR\",\"foreign_amount\":5000,"
              "\"cashier\":\"c1\",\"tenders\":[{\"type\":\"CASH\",\"amount\":4300}]}",
              "currency EUR is the store's own", "home currency"))
    return 1;
  /* 12.99 in cash rounds to 13.00; 20.00 USD at the buy rate 0.89 is 17.80. */
  if (record(till, SN_SALE,
             "{\"lines\":[{\"sku\":\"F-1\",\"qty\":1,\"unit_price\":1299,\"tax_code\":\"A\"}],"
             "\"tenders\":[{\"type\":\"CASH\",\"amount\":1300,"
             "\"foreign\":{\"currency\":\"USD\",\"foreign_tendered\":2000}}],\"cashier\":\"c1\"}",
             3, 1300, "sale in USD"))
    return 1;

  if (sn_till_x_report(till, NULL, SN_FORMAT_JSON, &buf, &err) != SN_OK) return fail("x", &err);
  printf("x %s\n", buf.data);
  sn_buffer_free(&buf);
  for (waited = 0;; waited += 100) {
    struct timespec nap = {0, 100000000L};
    if (sn_till_sync_state(till, &st, &err) != SN_OK) return fail("sync state", &err);
    if (st.syncing && st.backlog == 0 && st.acked_seq == st.head_seq) break;
    if (waited > 60000) {
      fprintf(stderr, "edge_c_fx_consumer: not synced: head %llu acked %llu\n",
              (unsigned long long)st.head_seq, (unsigned long long)st.acked_seq);
      return 1;
    }
    nanosleep(&nap, NULL);
  }
  if (sn_till_business_day(till, day, &err) != SN_OK) return fail("day", &err);
  if (sn_till_close(till, &err) != SN_OK) return fail("close", &err);
  printf("day=%s head=%llu acked=%llu\n", day, (unsigned long long)st.head_seq,
         (unsigned long long)st.acked_seq);
  return 0;
}
