// EventDescriptor — eventfd(2) helpers for the reactor: its nudge, the eventfd backend's doorbells
// and the pidfd poller's wake-up. Signalled with write(2) only: IORING_OP_WRITE on an eventfd is
// punted to an io_uring worker thread (FIELD-NOTES §4: ≈ 147 µs and a hang at exit).
#if canImport(Glibc)
    import Glibc
#endif
import CRingShim

enum EventDescriptor {
    /// A close-on-exec eventfd with counter 0. Blocking by default, because io_uring honours
    /// O_NONBLOCK by failing a READ with -EAGAIN instead of waiting for the counter.
    static func create(nonBlocking: Bool = false) throws(SystemError) -> Int32 {
        let flags = Int32(EFD_CLOEXEC) | (nonBlocking ? Int32(EFD_NONBLOCK) : 0)
        return try Syscall.call("eventfd") { eventfd(0, flags) }
    }

    /// Adds 1 to the counter (one write(2)), waking whoever reads or polls it.
    static func signal(_ descriptor: Int32) {
        var one: UInt64 = 1
        do {
            try Syscall.call("write(eventfd)") { write(descriptor, &one, 8) }
        } catch {
            // Only EAGAIN at a counter of 2^64 - 2 could land here; nobody signals that often.
            fatalError("\(error)")
        }
    }

    /// Resets the counter of a non-blocking eventfd (one read(2)); false when it was already 0.
    @discardableResult
    static func drain(_ descriptor: Int32) -> Bool {
        var value: UInt64 = 0
        let count = try? Syscall.callAllowingWouldBlock("read(eventfd)") { read(descriptor, &value, 8) }
        return count == 8
    }
}

/// CLOCK_MONOTONIC in nanoseconds (vDSO: no syscall), the reactor's only clock.
enum ReactorClock {
    @inline(__always)
    static func now() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
    }
}
