"""ringworker — RingTransport's worker C ABI (ringtransport/worker.h, Docs/WorkerABI.md) for Python,
through ctypes from the standard library. No compiler, no third-party package.

    import ringworker
    with ringworker.Worker(runtime="python") as worker:
        for event in worker.events():
            if event.kind == ringworker.INVOCATION:
                worker.reply(event.number, event.invocation.payload)

The library is found as $RINGWORKER_LIBRARY (a path), else by the dynamic linker's search
(ctypes.util.find_library("ringworker"): LD_LIBRARY_PATH, ldconfig's cache).
"""
import ctypes
import ctypes.util
import os

ABI_VERSION = 1

# rt_result
OK, TIMEOUT, E_ARGUMENT, E_UNKNOWN_INVOCATION, E_ENDED = 0, 1, -1, -2, -3
# rt_status
SUCCESS, FAILURE, CANCELLED = 0, 1, 2
# rt_log_level
TRACE, DEBUG, INFO, NOTICE, WARNING, ERROR, CRITICAL = range(7)
# rt_event_kind
INVOCATION, CANCEL, TERMINATE, END = 1, 2, 3, 4


class _String(ctypes.Structure):
    _fields_ = [("data", ctypes.c_void_p), ("length", ctypes.c_size_t)]

    def text(self):
        return ctypes.string_at(self.data, self.length).decode("utf-8") if self.length else ""


class _Bytes(ctypes.Structure):
    _fields_ = [("data", ctypes.c_void_p), ("length", ctypes.c_size_t)]

    def copy(self):
        return ctypes.string_at(self.data, self.length) if self.length else b""


class _Attribute(ctypes.Structure):
    _fields_ = [("key", _String), ("value", _String)]


class _Invocation(ctypes.Structure):
    _fields_ = [
        ("number", ctypes.c_uint64),
        ("function", _String),
        ("payload", _Bytes),
        ("context", _Bytes),
        ("invocation_id_high", ctypes.c_uint64),
        ("invocation_id_low", ctypes.c_uint64),
        ("forwarding_id_high", ctypes.c_uint64),
        ("forwarding_id_low", ctypes.c_uint64),
        ("retry_count", ctypes.c_uint32),
        ("max_retries", ctypes.c_uint32),
        ("has_deadline", ctypes.c_uint32),
        ("reserved", ctypes.c_uint32),
        ("deadline_ns", ctypes.c_uint64),
        ("traceparent", _String),
        ("tracestate", _String),
        ("attributes", ctypes.POINTER(_Attribute)),
        ("attribute_count", ctypes.c_size_t),
    ]


class _Event(ctypes.Structure):
    _fields_ = [
        ("kind", ctypes.c_int),
        ("reserved", ctypes.c_uint32),
        ("number", ctypes.c_uint64),
        ("invocation", ctypes.POINTER(_Invocation)),
        ("grace_period_ns", ctypes.c_uint64),
        ("detail", ctypes.c_char_p),
    ]


class _Options(ctypes.Structure):
    _fields_ = [
        ("size", ctypes.c_uint32),
        ("max_concurrency", ctypes.c_uint32),
        ("runtime", ctypes.c_char_p),
        ("wait_profile", ctypes.c_char_p),
    ]


class RingWorkerError(Exception):
    """A call of the C ABI failed; `code` is its rt_result."""

    def __init__(self, code, message):
        super().__init__(message)
        self.code = code


def _load():
    path = os.environ.get("RINGWORKER_LIBRARY") or ctypes.util.find_library("ringworker")
    if not path:
        raise RingWorkerError(E_ARGUMENT, "libringworker not found: set RINGWORKER_LIBRARY or LD_LIBRARY_PATH")
    lib = ctypes.CDLL(path)
    lib.rt_abi_version.restype = ctypes.c_uint32
    lib.rt_last_error.restype = ctypes.c_char_p
    lib.rt_worker_attach.argtypes = [ctypes.POINTER(_Options)]
    lib.rt_worker_attach.restype = ctypes.c_void_p
    lib.rt_worker_next.argtypes = [ctypes.c_void_p, ctypes.POINTER(_Event), ctypes.c_int64]
    lib.rt_worker_next.restype = ctypes.c_int
    lib.rt_worker_reply.argtypes = [ctypes.c_void_p, ctypes.c_uint64, ctypes.c_int, ctypes.c_char_p, ctypes.c_size_t, ctypes.c_char_p]
    lib.rt_worker_reply.restype = ctypes.c_int
    lib.rt_worker_log.argtypes = [ctypes.c_void_p, ctypes.c_uint64, ctypes.c_int, ctypes.c_char_p, ctypes.c_char_p]
    lib.rt_worker_log.restype = ctypes.c_int
    lib.rt_worker_close.argtypes = [ctypes.c_void_p]
    lib.rt_worker_close.restype = None
    lib.rt_audit_hash.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_uint64]
    lib.rt_audit_hash.restype = ctypes.c_uint64
    lib.rt_audit_pattern.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_uint64]
    lib.rt_audit_pattern.restype = None
    if lib.rt_abi_version() != ABI_VERSION:
        raise RingWorkerError(E_ARGUMENT, f"{path} has ABI version {lib.rt_abi_version()}, this module speaks {ABI_VERSION}")
    return lib


_lib = _load()


class Invocation:
    """One invocation, copied out of the library's memory (valid after it is answered)."""

    __slots__ = ("number", "function", "payload", "context", "invocation_id", "forwarding_id",
                 "retry_count", "max_retries", "deadline_ns", "traceparent", "tracestate", "attributes")

    def __init__(self, raw):
        self.number = raw.number
        self.function = raw.function.text()
        self.payload = raw.payload.copy()
        self.context = raw.context.copy()  # the encoded forwarding context (Docs/WireFormat.md §3)
        self.invocation_id = (raw.invocation_id_high << 64) | raw.invocation_id_low
        self.forwarding_id = (raw.forwarding_id_high << 64) | raw.forwarding_id_low
        self.retry_count = raw.retry_count
        self.max_retries = raw.max_retries
        self.deadline_ns = raw.deadline_ns if raw.has_deadline else None  # CLOCK_MONOTONIC
        self.traceparent = raw.traceparent.text()
        self.tracestate = raw.tracestate.text()
        self.attributes = {raw.attributes[i].key.text(): raw.attributes[i].value.text() for i in range(raw.attribute_count)}


class Event:
    __slots__ = ("kind", "number", "invocation", "grace_period_ns", "detail")

    def __init__(self, raw):
        self.kind = raw.kind
        self.number = raw.number
        self.invocation = Invocation(raw.invocation.contents) if raw.kind == INVOCATION else None
        self.grace_period_ns = raw.grace_period_ns
        self.detail = raw.detail.decode("utf-8", "replace") if raw.detail else None


class Worker:
    """This process's end of the channel to its host (rt_worker)."""

    def __init__(self, runtime="python", max_concurrency=0, wait_profile=None):
        options = _Options(ctypes.sizeof(_Options), max_concurrency, runtime.encode(),
                           wait_profile.encode() if wait_profile else None)
        self._handle = _lib.rt_worker_attach(ctypes.byref(options))
        if not self._handle:
            raise RingWorkerError(E_ARGUMENT, _lib.rt_last_error().decode())
        self._event = _Event()

    def next(self, timeout_ns=-1):
        """The next Event, or None when `timeout_ns` passed (negative: wait without limit)."""
        result = _lib.rt_worker_next(self._handle, ctypes.byref(self._event), int(timeout_ns))
        if result == TIMEOUT:
            return None
        if result != OK:
            raise RingWorkerError(result, _lib.rt_last_error().decode())
        return Event(self._event)

    def events(self):
        """Every event up to and including END."""
        while True:
            event = self.next()
            yield event
            if event.kind == END:
                return

    def reply(self, number, payload=b"", status=SUCCESS, message=None):
        """Answers invocation `number` (exactly once). Raises RingWorkerError (code E_UNKNOWN_INVOCATION,
        E_ENDED) when it cannot."""
        payload = bytes(payload)
        result = _lib.rt_worker_reply(self._handle, number, status, payload, len(payload),
                                      message.encode() if message is not None else None)
        if result != OK:
            raise RingWorkerError(result, _lib.rt_last_error().decode())

    def log(self, message, level=INFO, number=0, category="worker"):
        """A log record for the host's logger (tagged with invocation `number` when non-zero)."""
        _lib.rt_worker_log(self._handle, number, level, category.encode(), message.encode())

    def close(self):
        if self._handle:
            _lib.rt_worker_close(self._handle)
            self._handle = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


def audit_hash(data, seed):
    """ringbench stress's hash H (Docs/Protocol.md §11)."""
    return _lib.rt_audit_hash(bytes(data), len(data), seed)


def audit_pattern(length, seed):
    """ringbench stress's pattern of `length` bytes (Docs/Protocol.md §11)."""
    buffer = ctypes.create_string_buffer(length)
    _lib.rt_audit_pattern(buffer, length, seed)
    return buffer.raw
