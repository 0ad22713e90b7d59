"""A POS in Python on the storenode package (sdk/python), driven by
tests/edge_c_test.cc against a real fog, as tests/edge_c_consumer.c is:

    python3 edge_c_python_consumer.py PROFILE SALES

Records SALES sales (sale i: (i % 3) + 1 x "P-i" at 200 + 5 * i under tax A,
paid by card) from four threads at once, waits until the fog has acked
them, closes the till while another thread is reading it, and prints

    x {...the till's X-report JSON...}
    day=YYYY-MM-DD receipts=N net=CENTS head=SEQ acked=SEQ

Exit 0 when every check held, 1 otherwise (the reason on stderr).
"""
import json
import sys
import threading
import time

import storenode


def expect_error(code, fragment, fn, *args):
    try:
        fn(*args)
    except storenode.Error as e:
        if e.code != code or fragment not in e.message:
            sys.exit(f"got {e.code} {e.message!r}, want {code} with {fragment!r}")
        return
    sys.exit(f"no error, want {code} with {fragment!r}")


def main(profile, sales):
    if storenode.abi_version() != storenode.ABI_VERSION:
        sys.exit("ABI version")
    logs = []
    storenode.set_log_callback(lambda level, msg: logs.append((level, msg)))
    till = storenode.Till.open_profile(profile)
    expect_error(storenode.INVALID_ARGUMENT, "not the JSON of a storenode.v1.Sale",
                 till.record_sale, '{"lines": [')
    expect_error(storenode.INVALID_ARGUMENT, "not the protobuf bytes of a storenode.v1.Sale",
                 till.record_sale, b"\xff\xff\xff")
    priced = till.price_sale({"lines": [{"sku": "X", "qty": 3, "unit_price": 199,
                                         "tax_code": "A"}]})
    if priced["total"] != "597" or priced["lines"][0]["gross"] != "597":
        sys.exit(f"priced {priced}")
    recorded = {}
    failures = []

    def sell(first):
        try:
            for i in range(first, sales, 4):
                qty, price = i % 3 + 1, 200 + 5 * i
                rec = till.record_sale({"lines": [{"sku": f"P-{i}", "qty": qty,
                                                   "unit_price": price, "tax_code": "A"}],
                                        "tenders": [{"type": "CARD", "amount": qty * price}],
                                        "cashier": "py"})
                if rec.total != qty * price or len(rec.hash) != 32:
                    failures.append(f"sale {i}: {rec}")
                recorded[rec.receipt_no] = rec.total
        except storenode.Error as e:
            failures.append(str(e))

    threads = [threading.Thread(target=sell, args=(t,)) for t in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if failures or sorted(recorded) != list(range(1, sales + 1)):
        sys.exit(f"concurrent sales: {failures} receipts {sorted(recorded)}")
    net = sum(recorded.values())
    # The printed forms: a receipt with its total and signature, its QR code, the X.
    first = till.receipt_text(1)
    amount = f"{recorded[1] // 100}.{recorded[1] % 100:02d}"
    if "RECEIPT 1" not in first or amount not in first or "Signature" not in first:
        sys.exit(f"receipt 1 ({amount}) printed as:\n{first}")
    if not till.receipt_qr(1).startswith("SN1;s=store-1;d=till-1;r=1;"):
        sys.exit(f"receipt 1's QR payload: {till.receipt_qr(1)}")
    if not till.receipt_qr(1, svg=True).startswith("<svg"):
        sys.exit("receipt 1's QR code is not an SVG")
    expect_error(storenode.NOT_FOUND, "has not been issued", till.receipt_text, sales + 1)
    if "X-REPORT" not in till.x_report_text():
        sys.exit("the X-report text has no title")
    print("x " + json.dumps(till.x_report()))
    deadline = time.monotonic() + 60
    while True:
        st = till.sync_state()
        if st.syncing and st.backlog == 0 and st.acked_seq == st.head_seq:
            break
        if time.monotonic() > deadline:
            sys.exit(f"not synced: {st}")
        time.sleep(0.1)
    day = till.business_day()
    # A reader racing the close ends with BAD_HANDLE, never a crash.
    reader_saw = []

    def read_until_closed():
        while True:
            try:
                till.x_report()
            except storenode.Error as e:
                reader_saw.append(e.code)
                return

    reader = threading.Thread(target=read_until_closed)
    reader.start()
    time.sleep(0.05)
    till.close()
    reader.join()
    if reader_saw != [storenode.BAD_HANDLE]:
        sys.exit(f"reader racing close saw {reader_saw}")
    if not any(lvl == storenode.LOG_WARN and "plain TCP" in msg for lvl, msg in logs):
        sys.exit(f"no plain-TCP warning in the log callback: {logs}")
    expect_error(storenode.BAD_HANDLE, "not an open till", till.sync_state)
    expect_error(storenode.BAD_HANDLE, "not an open till", till.close)
    print(f"day={day} receipts={sales} net={net} head={st.head_seq} acked={st.acked_seq}")


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
