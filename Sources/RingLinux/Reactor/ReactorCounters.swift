// ReactorCounters — what one reactor has asked of the kernel, so benchmarks can report "wake
// syscalls per message". Updated with relaxed atomics from any thread; read as a snapshot.
import Synchronization

/// A snapshot of one reactor's counters.
public struct ReactorCounters: Sendable, Equatable {
    /// `wake` / `wakeNow` calls.
    public var wakesRequested: UInt64 = 0
    /// Wakes delivered by a syscall on the caller's thread: futex(2) FUTEX_WAKE, or write(2) on an
    /// eventfd doorbell.
    public var directWakeCalls: UInt64 = 0
    /// FUTEX_WAKE submission entries (batched wakes; duplicates of one word within a batch merge).
    public var wakeSubmissions: UInt64 = 0
    /// io_uring_enter calls made by the reactor (via liburing's submit; with SQPOLL some of these
    /// return without entering the kernel).
    public var ringEnters: UInt64 = 0
    /// Of `ringEnters`, those that carried at least one FUTEX_WAKE.
    public var ringEntersWithWakes: UInt64 = 0
    /// Syscalls made to wake the reactor thread for cross-thread requests (eventfd write(2), or
    /// futex(2) on the futex-thread backend's nudge word).
    public var nudges: UInt64 = 0
    /// Of `nudges`, those made for a `wake` request.
    public var wakeNudges: UInt64 = 0
    /// Waits armed: FUTEX_WAIT entries, doorbell waits, or waits added to the futex thread's set.
    public var waitsArmed: UInt64 = 0
    /// Sleeps of the futex-thread backend (futex_waitv / futex(2) calls).
    public var sleeps: UInt64 = 0

    /// All zero (a baseline to subtract from later snapshots).
    public init() {}

    /// Kernel calls spent delivering wakes: direct calls, the nudges they caused, and the
    /// io_uring_enter calls that carried them. An enter the reactor was about to make anyway (to
    /// wait) carries batched wakes for free, so this is an upper bound for the batched path.
    public var wakeKernelCalls: UInt64 { directWakeCalls + wakeNudges + ringEntersWithWakes }
}

/// The live counters behind `ReactorCounters`.
final class ReactorCounterStorage: Sendable {
    let wakesRequested = Atomic<UInt64>(0)
    let directWakeCalls = Atomic<UInt64>(0)
    let wakeSubmissions = Atomic<UInt64>(0)
    let ringEnters = Atomic<UInt64>(0)
    let ringEntersWithWakes = Atomic<UInt64>(0)
    let nudges = Atomic<UInt64>(0)
    let wakeNudges = Atomic<UInt64>(0)
    let waitsArmed = Atomic<UInt64>(0)
    let sleeps = Atomic<UInt64>(0)

    enum Counter {
        case wakesRequested, directWakeCalls, wakeSubmissions, ringEnters, ringEntersWithWakes, nudges, wakeNudges, waitsArmed,
            sleeps
    }

    /// Counters only count: relaxed ordering, no other memory is published through them.
    @inline(__always)
    func bump(_ counter: Counter, by amount: UInt64 = 1) {
        switch counter {
        case .wakesRequested: wakesRequested.wrappingAdd(amount, ordering: .relaxed)
        case .directWakeCalls: directWakeCalls.wrappingAdd(amount, ordering: .relaxed)
        case .wakeSubmissions: wakeSubmissions.wrappingAdd(amount, ordering: .relaxed)
        case .ringEnters: ringEnters.wrappingAdd(amount, ordering: .relaxed)
        case .ringEntersWithWakes: ringEntersWithWakes.wrappingAdd(amount, ordering: .relaxed)
        case .nudges: nudges.wrappingAdd(amount, ordering: .relaxed)
        case .wakeNudges: wakeNudges.wrappingAdd(amount, ordering: .relaxed)
        case .waitsArmed: waitsArmed.wrappingAdd(amount, ordering: .relaxed)
        case .sleeps: sleeps.wrappingAdd(amount, ordering: .relaxed)
        }
    }

    func snapshot() -> ReactorCounters {
        var counters = ReactorCounters()
        counters.wakesRequested = wakesRequested.load(ordering: .relaxed)
        counters.directWakeCalls = directWakeCalls.load(ordering: .relaxed)
        counters.wakeSubmissions = wakeSubmissions.load(ordering: .relaxed)
        counters.ringEnters = ringEnters.load(ordering: .relaxed)
        counters.ringEntersWithWakes = ringEntersWithWakes.load(ordering: .relaxed)
        counters.nudges = nudges.load(ordering: .relaxed)
        counters.wakeNudges = wakeNudges.load(ordering: .relaxed)
        counters.waitsArmed = waitsArmed.load(ordering: .relaxed)
        counters.sleeps = sleeps.load(ordering: .relaxed)
        return counters
    }
}
