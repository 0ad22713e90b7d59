/* storenode edge, C ABI: the till runtime for any language (libstorenode-edge.so.1).
 *
 * A till (sn_till) is a journal, its catalog replica and, optionally, the
 * sync engine that replicates the journal to the store's fog, opened from a
 * till profile (firmware-configs/till.toml) or from explicit paths and ids.
 * It is the C face of storenode/edge.h: the same promises hold (a record call
 * that returns SN_OK is on disk; one that fails wrote nothing).
 *
 * Thread safety: every function may be called from any thread, and calls on
 * one till from several threads at once are safe (the journal serializes
 * them). sn_till_close may race with other calls on the same till: those
 * either finish normally or get SN_BAD_HANDLE; the till closes when the last
 * running call returns. sn_set_log_callback may be called at any time; the
 * callback is called from the library's threads (the sync engine's too) and
 * must be thread-safe itself.
 *
 * Errors: every function returns an sn_status and, when `err` is not NULL,
 * fills it: its code is the return value and its message one line of text
 * saying why (empty on SN_OK), NUL-terminated and cut to fit. The caller owns
 * the sn_error, so it lives as long as the caller wants. No C++ exception
 * crosses this interface, and a NULL, closed or forged handle is SN_BAD_HANDLE,
 * never a crash (handles are ids, checked against the open tills; they are
 * never reused).
 *
 * Events go in as the schemas/ messages (schemas/journal.proto: Sale,
 * Refund, Void, CashMovement, NoSale, Exchange), either as their protobuf bytes or as
 * their proto3 JSON ({"lines":[{"sku":"A1","qty":"2","unitPrice":"250",
 * "taxCode":"A"}], ...}; field names in JSON or proto spelling, 64-bit
 * integers as strings or numbers). Money is int64 minor units (cents), prices
 * tax inclusive.
 *
 * Cash rounding depends on the tender: a sale with a cash tender is rounded
 * to the store's cash rounding (its rounding field says by how much), a
 * sale paid otherwise is not. To show the amount due, pass the sale with the
 * tender type the customer chose (amounts may be 0) to sn_till_price_sale:
 * it fills in the line figures, tax, rounding and total exactly as the
 * record call will; then set the tender amounts to that total.
 *
 * A currency exchange (SN_EXCHANGE, docs/FORMATS.md 15.4) is a receipt of
 * its own, not a sale. The POS gives direction, currency, foreign_amount,
 * cashier and the home side's tenders; the journal fills the rates of the
 * store's rate sheet, home_amount, commission and total, and refuses
 * tenders that do not add up to that total ("tenders add up to N, the
 * exchange total is M"). The customer buys 200.00 USD at 0.97 plus 1%:
 *
 *   const char* ex = "{\"direction\":\"SELL_FOREIGN\",\"currency\":\"USD\","
 *                    "\"foreign_amount\":20000,\"cashier\":\"c1\","
 *                    "\"tenders\":[{\"type\":\"CASH\",\"amount\":19594}]}";
 *   sn_till_record(till, SN_EXCHANGE, SN_FORMAT_JSON, ex, strlen(ex), &rec, &err);
 *   // rec.receipt_no is the next receipt number, rec.total 19594
 *
 * A line sold by weight gives thousandths of its unit and no qty; the price
 * is per unit ({"sku":"2800001","qty_milli":1234,"unit":"UNIT_KG",
 * "unit_price":1299,"tax_code":"B"}: 1.234 kg at 12.99/kg is 16.03).
 *
 * A card tender carries what the terminal reported, never the full PAN, and
 * a tip on top of its amount (not revenue; the X and Z show tips apart):
 *
 *   {"type":"CARD","amount":1250,"tip":100,"card":{"scheme":"VISA",
 *    "terminal_id":"T1","auth_code":"A1B2","masked_pan":"411111******1111",
 *    "offline_auth":false}}
 *
 * A cashier's shift is SN_SIGN_ON with {"cashier":"c1","drawer":"DRAWER_TILL"}
 * and SN_SIGN_OFF with {}; the events between are stamped with the cashier.
 *
 * A sale paid in foreign notes is a CASH tender with "foreign":
 * {"currency":"USD","foreign_tendered":2000}; the journal fills the buy
 * rate and the notes' home value (tendered), change is in home money.
 *
 * Output that is more than a few numbers (X-report, priced sale) comes back
 * in an sn_buffer the library allocates; free it with sn_buffer_free. JSON
 * output uses the .proto field names (snake_case), prints fields that are
 * zero, and writes 64-bit integers as strings (proto3 JSON).
 *
 * Logging: the library writes nothing to stdout or stderr. Its log lines go
 * to the callback given to sn_set_log_callback, or nowhere. (It logs through
 * spdlog's default logger, which lives in the shared libspdlog: a host
 * program that uses spdlog itself finds its default logger replaced by the
 * library's at the first sn_* call.)
 */
#ifndef STORENODE_EDGE_C_H_
#define STORENODE_EDGE_C_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define SN_EXPORT __attribute__((visibility("default")))
#else
#define SN_EXPORT
#endif

/* The ABI this header describes. sn_abi_version() returns the library's; a
 * program should refuse to run when the two differ. */
#define SN_ABI_VERSION 1

typedef enum sn_status {
  SN_OK = 0,
  SN_INVALID_ARGUMENT = 1, /* the caller's input is wrong (bad JSON/bytes, missing field) */
  SN_NOT_FOUND = 2,
  SN_ALREADY_EXISTS = 3,
  SN_CORRUPTION = 4, /* stored or received data fails verification */
  SN_IO_ERROR = 5,   /* the disk, the database or the network failed */
  SN_UNAVAILABLE = 6,
  SN_FAILED_PRECONDITION = 7, /* e.g. no store settings yet, no sync engine */
  SN_BAD_HANDLE = 8,          /* NULL, closed or not a till */
  SN_INTERNAL = 9             /* a bug or out of memory inside the library */
} sn_status;

typedef struct sn_error {
  sn_status code;
  char message[512];
} sn_error;

/* An open till; opaque. */
typedef struct sn_till sn_till;

typedef enum sn_format {
  SN_FORMAT_PROTOBUF = 0, /* the message's protobuf bytes */
  SN_FORMAT_JSON = 1,     /* its proto3 JSON, UTF-8, not NUL-terminated necessarily */
  SN_FORMAT_TEXT = 2      /* printable text (sn_till_x_report only) */
} sn_format;

typedef enum sn_event_kind {
  SN_SALE = 1,          /* storenode.v1.Sale */
  SN_REFUND = 2,        /* storenode.v1.Refund */
  SN_VOID = 3,          /* storenode.v1.Void */
  SN_CASH_MOVEMENT = 4, /* storenode.v1.CashMovement */
  SN_NO_SALE = 5,       /* storenode.v1.NoSale */
  SN_EXCHANGE = 8,      /* storenode.v1.Exchange: a currency exchange, its own receipt */
  /* A cashier shift (edge.h Journal::SignOn/SignOff): SIGN_ON takes a
   * storenode.v1.CashierShift (cashier, drawer, drawer_id); SIGN_OFF signs
   * the open shift off and ignores its bytes. */
  SN_SIGN_ON = 9,
  SN_SIGN_OFF = 10
} sn_event_kind;

/* What a successful record call returns. */
typedef struct sn_recorded {
  uint64_t seq;
  uint64_t receipt_no;   /* 0 for events that are not receipts */
  int64_t total;         /* receipt total in minor units, 0 if not a receipt */
  char business_day[16]; /* "YYYY-MM-DD", NUL-terminated */
  uint8_t hash[32];      /* the event's chain hash */
} sn_recorded;

/* Library-allocated bytes; data is NUL-terminated (size excludes the NUL). */
typedef struct sn_buffer {
  char* data;
  size_t size;
} sn_buffer;

/* Explicit till options. Unset (NULL) strings take the defaults of
 * storenode/edge.h's edge::Options and edge::SyncOptions. struct_size must be
 * sizeof(sn_till_options), so later versions can grow the struct. */
typedef struct sn_till_options {
  size_t struct_size;
  const char* journal_path; /* required */
  const char* key_path;     /* default journal_path + ".key" */
  const char* catalog_path; /* default journal_path + ".catalog" */
  const char* store_id;     /* required */
  const char* device_id;    /* required */
  const char*
      settings_file; /* SignedSettings bytes (storectl provision till); NULL: the journal's */
  const char* settings_issuer_hex; /* the fog's key, 64 hex digits; NULL: pin the first */
  /* Sync: NULL broker_uri opens the till without a sync engine. */
  const char* broker_uri; /* "ssl://host:8883", or "tcp://..." with broker_insecure */
  int broker_insecure;
  const char* ca_file;
  const char* cert_file;
  const char* key_file;
  const char* client_id;
} sn_till_options;

/* The sync engine's view; all zero but head_seq and acked_seq without one. */
typedef struct sn_sync_state {
  int syncing; /* 1 when the till has a sync engine */
  int connected;
  int fog_online;
  uint64_t head_seq;
  uint64_t acked_seq;
  uint64_t backlog; /* events the fog has not acked */
  int64_t oldest_unacked_age_us;
  uint64_t catalog_version;
  uint64_t catalog_available;
} sn_sync_state;

typedef enum sn_log_level {
  SN_LOG_TRACE = 0,
  SN_LOG_DEBUG = 1,
  SN_LOG_INFO = 2,
  SN_LOG_WARN = 3,
  SN_LOG_ERROR = 4,
  SN_LOG_CRITICAL = 5
} sn_log_level;

/* `message` is valid during the call only. */
typedef void (*sn_log_fn)(void* user, sn_log_level level, const char* message);

/* SN_ABI_VERSION of the library. */
SN_EXPORT uint32_t sn_abi_version(void);
/* The storenode release, e.g. "0.1.0"; a static string. */
SN_EXPORT const char* sn_version(void);

/* Routes the library's log lines at `min_level` and above to `fn` (NULL: to
 * nowhere, the default). */
SN_EXPORT sn_status sn_set_log_callback(sn_log_fn fn, void* user, sn_log_level min_level,
                                        sn_error* err);

/* Opens a till from a profile file (edge::LoadProfile); with `sync` nonzero
 * also starts its sync engine, which connects in the background. */
SN_EXPORT sn_status sn_till_open_profile(const char* profile_path, int sync, sn_till** out,
                                         sn_error* err);
/* Opens a till from explicit options. */
SN_EXPORT sn_status sn_till_open(const sn_till_options* options, sn_till** out, sn_error* err);
/* Stops the sync engine (publishing the till's offline status) and closes the
 * till. The handle is invalid afterwards; closing it again is SN_BAD_HANDLE. */
SN_EXPORT sn_status sn_till_close(sn_till* till, sn_error* err);

/* Records an event of `kind` given as `format` (size bytes at data). `out`
 * may be NULL. */
SN_EXPORT sn_status sn_till_record(sn_till* till, sn_event_kind kind, sn_format format,
                                   const void* data, size_t size, sn_recorded* out, sn_error* err);
/* A sale priced as sn_till_record would (line figures, tax, total, cash
 * rounding), returned in `format`; records nothing. */
SN_EXPORT sn_status sn_till_price_sale(sn_till* till, sn_format format, const void* data,
                                       size_t size, sn_buffer* out, sn_error* err);
/* Training mode on (nonzero) or off: while on, every event but a day seal
 * is flagged training and counted apart, never in a total (edge.h
 * Journal::SetTraining). Measured lines, voided lines, price overrides and
 * returns without a receipt need no call of their own: they are fields of
 * the SN_SALE and SN_REFUND messages (schemas/journal.proto). */
SN_EXPORT sn_status sn_till_set_training(sn_till* till, int on, sn_error* err);
/* Closes business day `day` ("YYYY-MM-DD") on this till. */
SN_EXPORT sn_status sn_till_seal_day(sn_till* till, const char* day, const char* requested_by,
                                     sn_recorded* out, sn_error* err);
/* The till's X-report (storenode.v1.DayTotals) of `day`, NULL or "" for the
 * current business day, in `format`: SN_FORMAT_TEXT is the page its printer
 * prints (80 columns, the store's currency and zone). */
SN_EXPORT sn_status sn_till_x_report(sn_till* till, const char* day, sn_format format,
                                     sn_buffer* out, sn_error* err);
/* What sn_till_receipt gives of a receipt. */
typedef enum sn_receipt_form {
  SN_RECEIPT_TEXT = 0,       /* the printed receipt (FORMATS.md "Receipt text") */
  SN_RECEIPT_QR_PAYLOAD = 1, /* the QR code's payload: "SN1;s=...;g=SIGNATURE", ASCII */
  SN_RECEIPT_QR_SVG = 2      /* that QR code as an SVG image */
} sn_receipt_form;
/* Receipt `receipt_no` of this till (a sale, refund or void) as `form`:
 * text `width` columns wide (32..80; 0 for 42, an 80 mm printer), with its
 * lines, tax per rate, tenders and change, and the event's hash and
 * signature, under the store settings it was recorded with. SN_NOT_FOUND for
 * a number not issued yet or pruned (after the retention days). */
SN_EXPORT sn_status sn_till_receipt(sn_till* till, uint64_t receipt_no, sn_receipt_form form,
                                    int width, sn_buffer* out, sn_error* err);
/* The current business day, "YYYY-MM-DD", into `day` (at least 16 bytes). */
SN_EXPORT sn_status sn_till_business_day(sn_till* till, char day[16], sn_error* err);
SN_EXPORT sn_status sn_till_sync_state(sn_till* till, sn_sync_state* out, sn_error* err);

/* Frees what a call put in `buffer` and zeroes it; NULL or empty is fine. */
SN_EXPORT void sn_buffer_free(sn_buffer* buffer);

#ifdef __cplusplus
}
#endif

#endif /* STORENODE_EDGE_C_H_ */
