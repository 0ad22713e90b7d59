/* A POS written in C99 against the C ABI only (storenode/edge_c.h and
 * libstorenode-edge.so.1), driven by tests/edge_c_test.cc against a real fog.
 *
 *   edge_c_consumer PROFILE SALES [SETTINGS SCRATCH_DIR]
 *
 * Checks the misuse answers (NULL, forged and closed handles, bad JSON and
 * bytes, tenders that do not add up), opens the till of PROFILE with sync,
 * records SALES sales (sale i, from 0: (i % 3) + 1 x "C-i" at 100 + 10 * i
 * under tax A, paid by card; the last one as protobuf bytes, the others as
 * JSON with the terminal's card details (VISA, masked PAN, offline when
 * i % 5 == 0) and a tip of 0.50 when i is odd), waits until the fog has acked them all, and prints
 *
 *   x {...the till's X-report JSON...}
 *   day=YYYY-MM-DD receipts=N net=CENTS head=SEQ acked=SEQ logs=LINES
 *
 * on stdout, nothing else. With SETTINGS (the fog's settings.pb) it first
 * opens a second till from explicit options in SCRATCH_DIR, without sync,
 * and checks a cash sale's rounding (store cash rounding 5: 2.03 is due as
 * 2.05) and the refusal of incomplete options. The library's log lines go to stderr as
 * "log LEVEL: message". Exit 0 when every check held, 1 otherwise (the
 * reason on stderr).
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "storenode/edge_c.h"

static int log_lines = 0;

static void on_log(void* user, sn_log_level level, const char* message) {
  (void)user;
  ++log_lines;
  fprintf(stderr, "log %d: %s\n", (int)level, message);
}

static int fail(const char* what, const sn_error* err) {
  fprintf(stderr, "edge_c_consumer: %s: %d %s\n", what, err ? (int)err->code : 0,
          err ? err->message : "");
  return 1;
}

/* err must hold `code` and a message containing `fragment`. */
static int expect(sn_status got, sn_status want, const sn_error* err, const char* fragment,
                  const char* what) {
  if (got != want || err->code != want || strstr(err->message, fragment) == NULL) {
    fprintf(stderr, "edge_c_consumer: %s: got %d \"%s\", want %d containing \"%s\"\n", what,
            (int)got, err->message, (int)want, fragment);
    return 1;
  }
  return 0;
}

static void nap_ms(long ms) {
  struct timespec ts;
  ts.tv_sec = ms / 1000;
  ts.tv_nsec = (ms % 1000) * 1000000L;
  nanosleep(&ts, NULL);
}

/* Sale i as its protobuf bytes, encoded by hand (schemas/journal.proto:
 * Sale.lines = 1, Sale.tenders = 2; SaleLine sku = 1, qty = 2, unit_price = 3,
 * tax_code = 5; Tender type = 1, amount = 2). Small values only. */
static size_t sale_bytes(int i, long qty, long price, unsigned char* out) {
  char sku[16];
  size_t n = 0, line_len, sku_len;
  long amount = qty * price;
  snprintf(sku, sizeof sku, "C-%d", i);
  sku_len = strlen(sku);
  line_len = 2 + sku_len + 2 + 3 + 3;
  out[n++] = 0x0a; /* lines */
  out[n++] = (unsigned char)line_len;
  out[n++] = 0x0a; /* sku */
  out[n++] = (unsigned char)sku_len;
  memcpy(out + n, sku, sku_len);
  n += sku_len;
  out[n++] = 0x10; /* qty */
  out[n++] = (unsigned char)qty;
  out[n++] = 0x18; /* unit_price, two varint bytes (128..16383) */
  out[n++] = (unsigned char)(0x80 | (price & 0x7f));
  out[n++] = (unsigned char)(price >> 7);
  out[n++] = 0x2a; /* tax_code "A" */
  out[n++] = 1;
  out[n++] = 'A';
  out[n++] = 0x12; /* tenders */
  out[n++] = 5;
  out[n++] = 0x08; /* type CARD */
  out[n++] = 2;
  out[n++] = 0x10; /* amount, two varint bytes */
  out[n++] = (unsigned char)(0x80 | (amount & 0x7f));
  out[n++] = (unsigned char)(amount >> 7);
  return n;
}

/* A till from explicit options, no sync: 1 if a check failed. */
static int explicit_till(const char* settings, const char* dir) {
  sn_error err;
  sn_till* till = NULL;
  sn_till_options o;
  sn_recorded rec;
  sn_sync_state st;
  sn_buffer buf = {NULL, 0};
  char path[512];
  const char* sale =
      "{\"lines\":[{\"sku\":\"E\",\"qty\":1,\"unit_price\":203,\"tax_code\":\"A\"}],"
      "\"tenders\":[{\"type\":\"CASH\"}]}";
  const char* paid =
      "{\"lines\":[{\"sku\":\"E\",\"qty\":1,\"unit_price\":203,\"tax_code\":\"A\"}],"
      "\"tenders\":[{\"type\":\"CASH\",\"amount\":205,\"tendered\":500}]}";

  memset(&o, 0, sizeof o);
  snprintf(path, sizeof path, "%s/explicit.db", dir);
  o.journal_path = path;
  o.store_id = "store-1";
  o.device_id = "till-9";
  o.settings_file = settings;
  if (expect(sn_till_open(&o, &till, &err), SN_INVALID_ARGUMENT, &err, "struct_size",
             "options without struct_size"))
    return 1;
  o.struct_size = sizeof o;
  o.device_id = NULL;
  if (expect(sn_till_open(&o, &till, &err), SN_INVALID_ARGUMENT, &err,
             "options.device_id is required", "options without device"))
    return 1;
  o.device_id = "till-9";
  if (sn_till_open(&o, &till, &err) != SN_OK) return fail("open explicit", &err);
  if (sn_till_price_sale(till, SN_FORMAT_JSON, sale, strlen(sale), &buf, &err) != SN_OK)
    return fail("price cash", &err);
  if (strstr(buf.data, "\"total\":\"205\"") == NULL ||
      strstr(buf.data, "\"rounding\":\"2\"") == NULL) {
    fprintf(stderr, "edge_c_consumer: cash sale priced %s, want total 205 rounding 2\n", buf.data);
    return 1;
  }
  sn_buffer_free(&buf);
  sn_buffer_free(&buf); /* twice is harmless */
  if (sn_till_record(till, SN_SALE, SN_FORMAT_JSON, paid, strlen(paid), &rec, &err) != SN_OK)
    return fail("record cash", &err);
  if (rec.seq != 2 || rec.receipt_no != 1 || rec.total != 205) {
    fprintf(stderr, "edge_c_consumer: cash sale seq %llu receipt %llu total %lld\n",
            (unsigned long long)rec.seq, (unsigned long long)rec.receipt_no, (long long)rec.total);
    return 1;
  }
  if (sn_till_sync_state(till, &st, &err) != SN_OK) return fail("explicit state", &err);
  if (st.syncing != 0 || st.head_seq != 2 || st.acked_seq != 0) {
    fprintf(stderr, "edge_c_consumer: sync-less till: syncing %d head %llu acked %llu\n",
            st.syncing, (unsigned long long)st.head_seq, (unsigned long long)st.acked_seq);
    return 1;
  }
  if (sn_till_close(till, &err) != SN_OK) return fail("close explicit", &err);
  return 0;
}

int main(int argc, char** argv) {
  sn_error err;
  sn_till* till = NULL;
  sn_recorded rec;
  sn_sync_state st;
  sn_buffer buf = {NULL, 0};
  char json[512];
  int sales, i, waited;
  long net = 0;
  const char* bad = "{\"lines\": [";
  const unsigned char junk[] = {0xff, 0xff, 0xff};

  if (argc != 3 && argc != 5) {
    fprintf(stderr, "usage: edge_c_consumer PROFILE SALES [SETTINGS SCRATCH_DIR]\n");
    return 2;
  }
  sales = atoi(argv[2]);
  if (sn_abi_version() != SN_ABI_VERSION) {
    fprintf(stderr, "edge_c_consumer: library ABI %u, header %d\n", sn_abi_version(),
            SN_ABI_VERSION);
    return 1;
  }
  if (expect(sn_set_log_callback(on_log, NULL, (sn_log_level)9, &err), SN_INVALID_ARGUMENT, &err,
             "unknown log level 9", "bad log level"))
    return 1;
  if (getenv("EDGE_C_CONSUMER_NO_LOG") == NULL &&
      sn_set_log_callback(on_log, NULL, SN_LOG_INFO, &err) != SN_OK)
    return fail("log", &err);

  /* Handles that are not open tills. */
  if (expect(sn_till_record(NULL, SN_SALE, SN_FORMAT_JSON, "{}", 2, &rec, &err), SN_BAD_HANDLE,
             &err, "not an open till", "NULL handle"))
    return 1;
  if (expect(sn_till_x_report((sn_till*)&err, NULL, SN_FORMAT_JSON, &buf, &err), SN_BAD_HANDLE,
             &err, "not an open till", "forged handle"))
    return 1;
  if (sn_till_open_profile("/nonexistent/till.toml", 1, &till, &err) == SN_OK || till != NULL ||
      strstr(err.message, "/nonexistent/till.toml") == NULL)
    return fail("missing profile", &err);

  if (argc == 5 && explicit_till(argv[3], argv[4])) return 1;
  if (sn_till_open_profile(argv[1], 1, &till, &err) != SN_OK) return fail("open", &err);

  /* Refused input writes nothing. */
  if (expect(sn_till_record(till, SN_SALE, SN_FORMAT_JSON, bad, strlen(bad), &rec, &err),
             SN_INVALID_ARGUMENT, &err, "not the JSON of a storenode.v1.Sale", "bad JSON"))
    return 1;
  if (expect(sn_till_record(till, SN_SALE, SN_FORMAT_PROTOBUF, junk, sizeof junk, &rec, &err),
             SN_INVALID_ARGUMENT, &err, "not the protobuf bytes of a storenode.v1.Sale",
             "bad bytes"))
    return 1;
  snprintf(json, sizeof json,
           "{\"lines\":[{\"sku\":\"X\",\"qty\":1,\"unitPrice\":500,\"taxCode\":\"A\"}],"
           "\"tenders\":[{\"type\":\"CARD\",\"amount\":400}]}");
  if (expect(sn_till_record(till, SN_SALE, SN_FORMAT_JSON, json, strlen(json), &rec, &err),
             SN_INVALID_ARGUMENT, &err, "tenders add up to", "short tender"))
    return 1;
  if (expect(sn_till_record(till, (sn_event_kind)42, SN_FORMAT_JSON, "{}", 2, &rec, &err),
             SN_INVALID_ARGUMENT, &err, "unknown event kind 42", "bad kind"))
    return 1;

  /* The amount due, before payment. */
  if (sn_till_price_sale(till, SN_FORMAT_JSON, json, strlen(json), &buf, &err) != SN_OK)
    return fail("price", &err);
  if (strstr(buf.data, "\"total\":\"500\"") == NULL) {
    fprintf(stderr, "edge_c_consumer: priced sale %s has no total 500\n", buf.data);
    return 1;
  }
  sn_buffer_free(&buf);

  /* The sales are cashier c1's shift: SN_SIGN_ON takes a CashierShift. */
  snprintf(json, sizeof json, "{\"cashier\":\"c1\",\"drawer\":\"DRAWER_TILL\"}");
  if (sn_till_record(till, SN_SIGN_ON, SN_FORMAT_JSON, json, strlen(json), &rec, &err) != SN_OK)
    return fail("sign on", &err);
  if (expect(sn_till_record(till, SN_SIGN_ON, SN_FORMAT_JSON, json, strlen(json), &rec, &err),
             SN_FAILED_PRECONDITION, &err, "sign off first", "second sign-on"))
    return 1;

  for (i = 0; i < sales; ++i) {
    const long qty = (i % 3) + 1, price = 100 + 10 * i;
    sn_status s;
    if (i == sales - 1) {
      unsigned char bytes[64];
      size_t n = sale_bytes(i, qty, price, bytes);
      s = sn_till_record(till, SN_SALE, SN_FORMAT_PROTOBUF, bytes, n, &rec, &err);
    } else {
      snprintf(json, sizeof json,
               "{\"lines\":[{\"sku\":\"C-%d\",\"qty\":%ld,\"unit_price\":\"%ld\","
               "\"tax_code\":\"A\"}],\"tenders\":[{\"type\":\"CARD\",\"amount\":%ld,"
               "\"tip\":%d,\"card\":{\"scheme\":\"VISA\",\"terminal_id\":\"T1\","
               "\"auth_code\":\"A%d\",\"masked_pan\":\"411111******1111\","
               "\"offline_auth\":%s}}],\"cashier\":\"c1\"}",
               i, qty, price, qty * price, (i % 2) * 50, i, i % 5 == 0 ? "true" : "false");
      s = sn_till_record(till, SN_SALE, SN_FORMAT_JSON, json, strlen(json), &rec, &err);
    }
    if (s != SN_OK) return fail("record", &err);
    if (rec.receipt_no != (uint64_t)(i + 1) || rec.total != qty * price) {
      fprintf(stderr, "edge_c_consumer: sale %d: receipt %llu total %lld\n", i,
              (unsigned long long)rec.receipt_no, (long long)rec.total);
      return 1;
    }
    net += rec.total;
  }

  if (sn_till_x_report(till, NULL, SN_FORMAT_JSON, &buf, &err) != SN_OK) return fail("x", &err);
  printf("x %s\n", buf.data);
  sn_buffer_free(&buf);
  if (sn_till_record(till, SN_SIGN_OFF, SN_FORMAT_JSON, "{}", 2, &rec, &err) != SN_OK)
    return fail("sign off", &err);
  if (expect(sn_till_record(till, SN_SIGN_OFF, SN_FORMAT_JSON, "{}", 2, &rec, &err),
             SN_FAILED_PRECONDITION, &err, "no cashier is signed on", "second sign-off"))
    return 1;

  for (waited = 0;; waited += 100) {
    if (sn_till_sync_state(till, &st, &err) != SN_OK) return fail("sync state", &err);
    if (st.syncing && st.backlog == 0 && st.acked_seq == st.head_seq) break;
    if (waited > 60000) {
      fprintf(stderr, "edge_c_consumer: not synced: head %llu acked %llu connected %d\n",
              (unsigned long long)st.head_seq, (unsigned long long)st.acked_seq, st.connected);
      return 1;
    }
    nap_ms(100);
  }
  if (sn_till_business_day(till, json, &err) != SN_OK) return fail("day", &err);

  if (sn_till_close(till, &err) != SN_OK) return fail("close", &err);
  if (expect(sn_till_close(till, &err), SN_BAD_HANDLE, &err, "not an open till", "closed twice"))
    return 1;
  if (expect(sn_till_sync_state(till, &st, &err), SN_BAD_HANDLE, &err, "not an open till",
             "closed handle"))
    return 1;
  printf("day=%s receipts=%d net=%ld head=%llu acked=%llu logs=%d\n", json, sales, net,
         (unsigned long long)st.head_seq, (unsigned long long)st.acked_seq, log_lines);
  return 0;
}
