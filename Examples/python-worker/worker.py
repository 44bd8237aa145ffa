#!/usr/bin/env python3
"""A RingTransport worker in Python (ringworker.py: the C ABI through ctypes). One thread, one event
loop: `slow` and `hang` are held and answered later (by time or by a cancel), everything else at
once. It answers the functions the tools call (Docs/Protocol.md §11): echo, digest, slow, hang,
fail, log, huge, pid, exit, crash. Exit status: 0 after an orderly terminate, 4 otherwise."""
import os
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ringworker  # noqa: E402


def u32(payload):
    return struct.unpack_from("<I", payload)[0] if len(payload) >= 4 else 0


def digest(invocation):
    n = u32(invocation.payload)
    context = ringworker.audit_hash(invocation.context, 0xC0DEC0DE)
    payload = ringworker.audit_hash(invocation.payload, 0xDA7ADA7A)
    return struct.pack("<QQQ", context, payload, len(invocation.payload)) + ringworker.audit_pattern(n, context)


def main():
    held = {}  # number -> (invocation, due ns or None)
    with ringworker.Worker(runtime="python %d.%d" % sys.version_info[:2]) as worker:
        while True:
            now = time.monotonic_ns()
            for number, (invocation, due) in list(held.items()):
                if due is not None and due <= now:
                    del held[number]
                    worker.reply(number, invocation.payload)
            dues = [due for _, due in held.values() if due is not None]
            event = worker.next(max(0, min(dues) - now) if dues else -1)
            if event is None:
                continue
            if event.kind == ringworker.END:
                if event.detail:
                    print("python-worker:", event.detail, file=sys.stderr)
                return 4 if event.detail else 0
            if event.kind == ringworker.CANCEL:
                entry = held.pop(event.number, None)
                if entry is not None:  # else it was answered already: the cancel crossed the answer
                    if entry[0].function == "hang":
                        worker.log("handler saw cancellation", number=event.number, category="hang")
                    worker.reply(event.number, status=ringworker.CANCELLED)
                continue
            if event.kind != ringworker.INVOCATION:
                continue  # TERMINATE: held invocations finish or get cancelled
            invocation = event.invocation
            function, number, payload = invocation.function, invocation.number, invocation.payload
            if function == "echo":
                worker.reply(number, payload)
            elif function == "digest":
                worker.reply(number, digest(invocation))
            elif function == "slow":
                held[number] = (invocation, time.monotonic_ns() + u32(payload) * 1_000_000)
            elif function == "hang":
                held[number] = (invocation, None)
            elif function == "fail":
                worker.reply(number, payload, ringworker.FAILURE, "requested failure")
            elif function == "log":
                for index in range(u32(payload)):
                    worker.log("record %d" % index, number=number, category="log")
                worker.reply(number, payload)
            elif function == "huge":
                worker.reply(number, bytes((i * 31 + 7) & 0xFF for i in range(u32(payload))))
            elif function == "pid":
                worker.reply(number, struct.pack("<I", os.getpid()))
            elif function == "exit":
                os._exit(payload[0] if payload else 0)
            elif function == "crash":
                os.abort()
            else:
                worker.reply(number, b"", ringworker.FAILURE, "unknown function " + function)


if __name__ == "__main__":
    sys.exit(main())
