"""storenode: a till for Python, over the C ABI of libstorenode-edge.so.1.

ctypes only: no build step, no packages beyond the standard library. The
library is found through STORENODE_EDGE_LIB (a path), else as
libstorenode-edge.so.1 on the loader's path. What each call promises is
said once, in edge/include/storenode/edge_c.h; this module only maps it:
a failed call raises storenode.Error (its code and one-line message).

    import storenode
    with storenode.Till.open_profile("/etc/storenode/till.toml") as till:
        rec = till.record_sale({"lines": [{"sku": "A1", "qty": 2, "unit_price": 250,
                                           "tax_code": "A"}],
                                "tenders": [{"type": "CARD", "amount": 500}]})
        print(rec.receipt_no, rec.total)
        print(till.receipt_text(rec.receipt_no))  # what the printer prints
        print(till.x_report())    # a dict: the storenode.v1.DayTotals JSON
        print(till.sync_state())  # backlog, acked_seq, ...

Events are dicts (their proto3 JSON), str (JSON text) or bytes (protobuf).
In the dicts the library returns, 64-bit integers are strings (proto3
JSON). A Till may be used from several threads, as the C ABI allows.
"""

import atexit
import ctypes
import ctypes.util
import json
import os
from dataclasses import dataclass

ABI_VERSION = 1

# sn_status
OK = 0
INVALID_ARGUMENT = 1
NOT_FOUND = 2
ALREADY_EXISTS = 3
CORRUPTION = 4
IO_ERROR = 5
UNAVAILABLE = 6
FAILED_PRECONDITION = 7
BAD_HANDLE = 8
INTERNAL = 9

# sn_log_level
LOG_TRACE, LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR, LOG_CRITICAL = range(6)

_SALE, _REFUND, _VOID, _CASH_MOVEMENT, _NO_SALE = 1, 2, 3, 4, 5
_PROTOBUF, _JSON, _TEXT = 0, 1, 2  # sn_format
_RECEIPT_TEXT, _RECEIPT_QR_PAYLOAD, _RECEIPT_QR_SVG = 0, 1, 2  # sn_receipt_form


class Error(Exception):
    """A call that did not return SN_OK: .code (an sn_status) and .message."""

    def __init__(self, code, message):
        super().__init__(f"{message} (status {code})")
        self.code = code
        self.message = message


class _Error(ctypes.Structure):
    _fields_ = [("code", ctypes.c_int), ("message", ctypes.c_char * 512)]


class _Recorded(ctypes.Structure):
    _fields_ = [("seq", ctypes.c_uint64), ("receipt_no", ctypes.c_uint64),
                ("total", ctypes.c_int64), ("business_day", ctypes.c_char * 16),
                ("hash", ctypes.c_uint8 * 32)]


class _Buffer(ctypes.Structure):
    _fields_ = [("data", ctypes.c_void_p), ("size", ctypes.c_size_t)]


class _SyncState(ctypes.Structure):
    _fields_ = [("syncing", ctypes.c_int), ("connected", ctypes.c_int),
                ("fog_online", ctypes.c_int), ("head_seq", ctypes.c_uint64),
                ("acked_seq", ctypes.c_uint64), ("backlog", ctypes.c_uint64),
                ("oldest_unacked_age_us", ctypes.c_int64),
                ("catalog_version", ctypes.c_uint64), ("catalog_available", ctypes.c_uint64)]


_LogFn = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_int, ctypes.c_char_p)


def _load():
    path = os.environ.get("STORENODE_EDGE_LIB") or ctypes.util.find_library("storenode-edge")
    lib = ctypes.CDLL(path or "libstorenode-edge.so.1")
    p, e = ctypes.c_void_p, ctypes.POINTER(_Error)
    sigs = {
        "sn_abi_version": ([], ctypes.c_uint32),
        "sn_version": ([], ctypes.c_char_p),
        "sn_set_log_callback": ([_LogFn, p, ctypes.c_int, e], ctypes.c_int),
        "sn_till_open_profile": ([ctypes.c_char_p, ctypes.c_int, ctypes.POINTER(p), e],
                                 ctypes.c_int),
        "sn_till_close": ([p, e], ctypes.c_int),
        "sn_till_record": ([p, ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_size_t,
                            ctypes.POINTER(_Recorded), e], ctypes.c_int),
        "sn_till_price_sale": ([p, ctypes.c_int, ctypes.c_char_p, ctypes.c_size_t,
                                ctypes.POINTER(_Buffer), e], ctypes.c_int),
        "sn_till_seal_day": ([p, ctypes.c_char_p, ctypes.c_char_p, ctypes.POINTER(_Recorded), e],
                             ctypes.c_int),
        "sn_till_set_training": ([p, ctypes.c_int, e], ctypes.c_int),
        "sn_till_x_report": ([p, ctypes.c_char_p, ctypes.c_int, ctypes.POINTER(_Buffer), e],
                             ctypes.c_int),
        "sn_till_receipt": ([p, ctypes.c_uint64, ctypes.c_int, ctypes.c_int,
                             ctypes.POINTER(_Buffer), e], ctypes.c_int),
        "sn_till_business_day": ([p, ctypes.c_char_p, e], ctypes.c_int),
        "sn_till_sync_state": ([p, ctypes.POINTER(_SyncState), e], ctypes.c_int),
        "sn_buffer_free": ([ctypes.POINTER(_Buffer)], None),
    }
    for name, (args, res) in sigs.items():
        f = getattr(lib, name)
        f.argtypes, f.restype = args, res
    if lib.sn_abi_version() != ABI_VERSION:
        raise ImportError(f"{path}: ABI {lib.sn_abi_version()}, this package wants {ABI_VERSION}")
    return lib


_lib = _load()
_log_fn = None  # keeps the ctypes callback alive while the library holds it


def _call(fn, *args):
    err = _Error()
    status = fn(*args, ctypes.byref(err))
    if status != OK:
        raise Error(status, err.message.decode("utf-8", "replace"))


def abi_version():
    return _lib.sn_abi_version()


def version():
    return _lib.sn_version().decode()


def set_log_callback(fn, min_level=LOG_INFO):
    """fn(level, message) gets the library's log lines; None: nowhere (the default)."""
    global _log_fn
    cb = _LogFn(0) if fn is None else _LogFn(lambda _user, lvl, msg: fn(lvl, msg.decode()))
    _call(_lib.sn_set_log_callback, cb, None, min_level)
    _log_fn = cb


# The library's threads must not call into an interpreter that is going away.
atexit.register(lambda: _log_fn is not None and set_log_callback(None))


@dataclass
class Recorded:
    seq: int
    receipt_no: int
    total: int
    business_day: str
    hash: bytes


@dataclass
class SyncState:
    syncing: bool
    connected: bool
    fog_online: bool
    head_seq: int
    acked_seq: int
    backlog: int
    oldest_unacked_age_us: int
    catalog_version: int
    catalog_available: int


def _encode(message):
    if isinstance(message, (bytes, bytearray)):
        return _PROTOBUF, bytes(message)
    if isinstance(message, dict):
        message = json.dumps(message)
    return _JSON, message.encode()


class Till:
    """An open till (sn_till): journal, catalog replica and maybe sync."""

    def __init__(self, handle):
        self._handle = handle

    @classmethod
    def open_profile(cls, path, sync=True):
        handle = ctypes.c_void_p()
        _call(_lib.sn_till_open_profile, os.fsencode(path), 1 if sync else 0,
              ctypes.byref(handle))
        return cls(handle)

    def close(self):
        """Stops sync and closes; closing twice raises Error(BAD_HANDLE)."""
        _call(_lib.sn_till_close, self._handle)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        try:
            self.close()
        except Error as e:
            if e.code != BAD_HANDLE:  # closed already inside the block
                raise

    def _record(self, kind, message):
        fmt, data = _encode(message)
        out = _Recorded()
        _call(_lib.sn_till_record, self._handle, kind, fmt, data, len(data), ctypes.byref(out))
        return Recorded(out.seq, out.receipt_no, out.total, out.business_day.decode(),
                        bytes(out.hash))

    def record_sale(self, sale):
        return self._record(_SALE, sale)

    def record_refund(self, refund):
        return self._record(_REFUND, refund)

    def record_void(self, void):
        return self._record(_VOID, void)

    def record_cash_movement(self, movement):
        return self._record(_CASH_MOVEMENT, movement)

    def record_no_sale(self, no_sale):
        return self._record(_NO_SALE, no_sale)

    def _text(self, fn, *args):
        buf = _Buffer()
        _call(fn, self._handle, *args, ctypes.byref(buf))
        try:
            return ctypes.string_at(buf.data, buf.size).decode()
        finally:
            _lib.sn_buffer_free(ctypes.byref(buf))

    def _buffer(self, fn, *args):
        return json.loads(self._text(fn, *args))

    def price_sale(self, sale):
        """The sale with its figures and total filled in, as recording would."""
        fmt, data = _encode(sale)
        if fmt != _JSON:
            raise TypeError("price_sale takes the sale as a dict or JSON text")
        return self._buffer(_lib.sn_till_price_sale, _JSON, data, len(data))

    def set_training(self, on):
        """Training mode on or off: events are flagged and counted apart, never in a total."""
        _call(_lib.sn_till_set_training, self._handle, 1 if on else 0)

    def seal_day(self, day, requested_by=""):
        out = _Recorded()
        _call(_lib.sn_till_seal_day, self._handle, day.encode(), requested_by.encode(),
              ctypes.byref(out))
        return Recorded(out.seq, out.receipt_no, out.total, out.business_day.decode(),
                        bytes(out.hash))

    def x_report(self, day=None):
        """The till's X-report of `day` (default: today) as a dict (DayTotals JSON)."""
        return self._buffer(_lib.sn_till_x_report, day.encode() if day else None, _JSON)

    def x_report_text(self, day=None):
        """The X-report of `day` as the till's printer prints it."""
        return self._text(_lib.sn_till_x_report, day.encode() if day else None, _TEXT)

    def receipt_text(self, receipt_no, width=42):
        """Receipt `receipt_no` as printed: lines, tax per rate, tenders, signature."""
        return self._text(_lib.sn_till_receipt, receipt_no, _RECEIPT_TEXT, width)

    def receipt_qr(self, receipt_no, svg=False):
        """The receipt's QR code payload ("SN1;..."), or the QR code as SVG."""
        return self._text(_lib.sn_till_receipt, receipt_no,
                          _RECEIPT_QR_SVG if svg else _RECEIPT_QR_PAYLOAD, 0)

    def business_day(self):
        day = ctypes.create_string_buffer(16)
        _call(_lib.sn_till_business_day, self._handle, day)
        return day.value.decode()

    def sync_state(self):
        s = _SyncState()
        _call(_lib.sn_till_sync_state, self._handle, ctypes.byref(s))
        return SyncState(bool(s.syncing), bool(s.connected), bool(s.fog_online), s.head_seq,
                         s.acked_seq, s.backlog, s.oldest_unacked_age_us, s.catalog_version,
                         s.catalog_available)
