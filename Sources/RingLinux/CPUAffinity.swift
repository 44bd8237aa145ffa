import CRingShim

/// Pinning the calling thread to CPUs (benchmarks only: pinned spinners on 2 vCPUs avoid the
/// collapse that happens when both land on one CPU).
package enum CPUAffinity {
    /// Restricts the calling thread to `cpu` (0-based, < 64).
    package static func pin(toCPU cpu: Int) throws(SystemError) {
        precondition(cpu >= 0 && cpu < 64)
        try Syscall.call("sched_setaffinity") { crs_set_affinity_mask(UInt64(1) << UInt64(cpu)) }
    }
}
