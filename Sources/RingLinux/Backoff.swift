#if canImport(Glibc)
import Glibc
#endif
import CRingShim

/// Bounded spin, then `sched_yield`: the idle strategy of the blocking ring calls below. Spinning
/// alone is fragile on 2 vCPUs (two spinners on one CPU collapse throughput 20–100×), so the spin
/// budget is short and the fallback gives the CPU away. The io_uring waiting layer replaces the
/// yield with a futex sleep (Docs/Waiting.md).
public struct Backoff: Sendable {
    public var spinLimit: Int
    @usableFromInline var spins = 0

    public init(spinLimit: Int = 512) { self.spinLimit = spinLimit }

    /// Called once per attempt that found nothing to do.
    public mutating func idle() {
        if spins < spinLimit {
            spins += 1
            crs_cpu_relax()
        } else {
            sched_yield()
        }
    }

    /// Called after progress.
    @inlinable @inline(__always)
    public mutating func reset() { spins = 0 }
}
