#if canImport(Glibc)
import Glibc
#endif
import CRingShim

/// How a side that found nothing to do waits: spin for a while, then yield a few times, then sleep
/// on its waiter word (Docs/Waiting.md). Spinning alone is fragile on 2 vCPUs (two spinners on one
/// CPU collapse throughput 20–100×); sleeping alone costs ≈ 23 µs per hand-off. The profiles choose
/// where to stand between the two.
public struct WaitProfile: Sendable, Equatable, CustomStringConvertible {
    /// Time spent spinning (with the CPU's pause hint) before yielding.
    public var spinNanoseconds: UInt64
    /// `sched_yield` calls before sleeping.
    public var yields: Int
    /// Whether to sleep at all (false: spin, then yield forever — benchmarks of the spin path).
    public var sleeps: Bool

    public init(spinNanoseconds: UInt64, yields: Int, sleeps: Bool = true) {
        self.spinNanoseconds = spinNanoseconds
        self.yields = yields
        self.sleeps = sleeps
    }

    /// Spins ≈ 20 µs before sleeping: round trips stay sub-microsecond while traffic flows.
    public static let latency = WaitProfile(spinNanoseconds: 20_000, yields: 4)
    /// Sleeps almost at once: least CPU, ≈ 23 µs per hand-off when idle.
    public static let efficiency = WaitProfile(spinNanoseconds: 1_000, yields: 1)
    /// Every wait goes through sleep (tests of the wake-up protocol).
    public static let alwaysSleep = WaitProfile(spinNanoseconds: 0, yields: 0)
    /// Never sleeps.
    public static let spinOnly = WaitProfile(spinNanoseconds: 50_000, yields: .max, sleeps: false)

    public var description: String {
        sleeps ? "spin \(spinNanoseconds / 1000) µs, \(yields) yields, then sleep" : "spin, then yield"
    }
}

/// The state of one wait: call `idle()` each time there was nothing to do, `reset()` after progress.
public struct Backoff: Sendable {
    public var profile: WaitProfile
    @usableFromInline var spinStart: UInt64 = 0
    @usableFromInline var spins = 0
    @usableFromInline var yielded = 0
    /// Sleeps of this wait state that ended by their time bound rather than a wake-up (with a live,
    /// scheduled peer: 0; tests assert it to catch lost wake-ups).
    public internal(set) var timedOutSleeps = 0

    public init(_ profile: WaitProfile = .latency) { self.profile = profile }

    /// What the next idle step should be.
    public enum Step: Sendable, Equatable {
        /// Re-check after a CPU pause hint (already executed by `step()`).
        case spin
        /// Give the CPU away once (`sched_yield`, or `Task.yield()` in async code), then re-check.
        case yield
        /// Announce and sleep on the waiter word.
        case sleep
    }

    /// Advances the wait by one step. Spins are performed here (a pause hint); yields and sleeps are
    /// the caller's, so async code can yield to other tasks instead of the kernel.
    public mutating func step() -> Step {
        if spins == 0 { spinStart = Self.now() }
        if profile.spinNanoseconds > 0 {
            spins += 1
            if spins & 63 != 0 || Self.now() &- spinStart < profile.spinNanoseconds {
                crs_cpu_relax()
                return .spin
            }
        } else {
            spins = 1
        }
        if yielded < profile.yields {
            yielded += 1
            return .yield
        }
        return profile.sleeps ? .sleep : .yield
    }

    /// Spins or yields once (`sched_yield`); returns true when the profile says it is time to sleep.
    public mutating func idle() -> Bool {
        switch step() {
        case .spin: return false
        case .yield:
            sched_yield()
            return false
        case .sleep: return true
        }
    }

    /// Called after progress (or after a sleep): the next wait starts with spinning again.
    @inlinable @inline(__always)
    public mutating func reset() {
        spins = 0
        yielded = 0
    }

    static func now() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
    }
}
