#if canImport(Glibc)
import Glibc
#endif
import Atomics
import CRingShim
public import RingCore

/// futex(2) on 32-bit words in memory shared between processes (never FUTEX_PRIVATE: a private
/// futex is keyed by the address space and would miss the peer's wake-ups).
///
/// Errno policy (the one exception to the `Syscall` funnel, deliberately): every outcome of
/// FUTEX_WAIT — woken, EAGAIN (value differed), ETIMEDOUT, EINTR — means "re-check the condition",
/// which every caller does, so none is an error; FUTEX_WAKE cannot fail on a valid mapped word.
package enum Futex {
    /// Sleeps while `word` holds `expected`, at most `timeoutNanoseconds`. Returns when woken, when
    /// the value differs (EAGAIN), on timeout or on a signal — callers always re-check their
    /// condition.
    /// Returns true when the sleep ended by its time bound.
    @discardableResult
    package static func wait(_ word: UnsafeMutableRawPointer, expected: UInt32, timeoutNanoseconds: UInt64) -> Bool {
        var timeout = timespec(tv_sec: Int(timeoutNanoseconds / 1_000_000_000), tv_nsec: Int(timeoutNanoseconds % 1_000_000_000))
        let result = crs_futex_wait(word.assumingMemoryBound(to: UInt32.self), expected, &timeout)
        WaitCounters.sleeps.wrappingIncrement(ordering: .relaxed)
        let timedOut = result == -1 && errno == ETIMEDOUT
        if timedOut { WaitCounters.timeouts.wrappingIncrement(ordering: .relaxed) }
        return timedOut
    }

    /// Wakes every sleeper on `word`.
    package static func wake(_ word: UnsafeMutableRawPointer) {
        _ = crs_futex_wake(word.assumingMemoryBound(to: UInt32.self), Int32.max)
        WaitCounters.wakeSyscalls.wrappingIncrement(ordering: .relaxed)
    }
}

/// Delivers claimed wake-ups with one FUTEX_WAKE syscall each.
public struct FutexWaker: RingWaker {
    public init() {}
    public func wake(_ word: UnsafeMutableRawPointer) { Futex.wake(word) }
}

/// Process-wide counters of the waiting layer (benchmarks report wake syscalls per message).
public enum WaitCounters {
    static let wakeSyscalls = ManagedAtomic<UInt64>(0)
    static let sleeps = ManagedAtomic<UInt64>(0)
    static let timeouts = ManagedAtomic<UInt64>(0)

    /// Sleeps that ended by their time bound rather than a wake-up or a changed word. With a live
    /// peer this stays 0; a lost wake-up would show here (tests assert it).
    public static var timeoutCount: UInt64 { timeouts.load(ordering: .relaxed) }

    /// FUTEX_WAKE syscalls made by this process so far.
    public static var wakeSyscallCount: UInt64 { wakeSyscalls.load(ordering: .relaxed) }
    /// Sleeps (futex waits) entered by this process so far.
    public static var sleepCount: UInt64 { sleeps.load(ordering: .relaxed) }
}
