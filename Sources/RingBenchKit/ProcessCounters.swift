#if canImport(Glibc)
import Glibc
#endif
import RingLinux

/// What the kernel charged to this process and its peer processes between two snapshots: CPU
/// time, context switches and data-path syscalls.
///
/// Syscalls are counted, not traced (this VM has neither a PMU nor tracefs): the read/write-class
/// syscalls from `/proc/PID/io` (`syscr` + `syscw`: read, write, recv, send… of every thread) plus the
/// futex wake and wait syscalls RingLinux counts in this process (`futexCalls`, also included in
/// `syscalls`). Futex calls of a peer are added by the caller where the peer reports them. vDSO calls
/// (clock_gettime) cost no syscall.
struct CounterSnapshot {
    var cpuSeconds: Double
    var contextSwitches: UInt64
    var syscalls: UInt64
    var futexCalls: UInt64

    static func take(peers: [Int32]) -> CounterSnapshot {
        let futex = WaitCounters.wakeSyscallCount + WaitCounters.sleepCount
        var snapshot = CounterSnapshot(
            cpuSeconds: ProcessCPU.selfSeconds(), contextSwitches: ProcessCounters.selfContextSwitches(),
            syscalls: ProcessCounters.readWriteSyscalls(of: "self") + futex, futexCalls: futex)
        for pid in peers {
            snapshot.cpuSeconds += ProcessCPU.seconds(of: pid)
            snapshot.contextSwitches += ProcessCounters.contextSwitches(of: pid)
            snapshot.syscalls += ProcessCounters.readWriteSyscalls(of: String(pid))
        }
        return snapshot
    }

    static func - (after: CounterSnapshot, before: CounterSnapshot) -> CounterSnapshot {
        CounterSnapshot(
            cpuSeconds: after.cpuSeconds - before.cpuSeconds, contextSwitches: after.contextSwitches &- before.contextSwitches,
            syscalls: after.syscalls &- before.syscalls, futexCalls: after.futexCalls &- before.futexCalls)
    }

    static func + (a: CounterSnapshot, b: CounterSnapshot) -> CounterSnapshot {
        CounterSnapshot(
            cpuSeconds: a.cpuSeconds + b.cpuSeconds, contextSwitches: a.contextSwitches + b.contextSwitches,
            syscalls: a.syscalls + b.syscalls, futexCalls: a.futexCalls + b.futexCalls)
    }

    static let zero = CounterSnapshot(cpuSeconds: 0, contextSwitches: 0, syscalls: 0, futexCalls: 0)
}

/// Snapshots for one measurement. Reading /proc costs read syscalls of its own, which land in the
/// very counters being read; the meter measures that cost once (two back-to-back snapshots, the
/// least of three tries) and subtracts it from every interval.
struct CounterMeter {
    let peers: [Int32]
    let overhead: UInt64

    init(peers: [Int32]) {
        self.peers = peers
        overhead = (0..<3).map { _ in
            let first = CounterSnapshot.take(peers: peers)
            return (CounterSnapshot.take(peers: peers) - first).syscalls
        }.min() ?? 0
    }

    func snapshot() -> CounterSnapshot { CounterSnapshot.take(peers: peers) }

    /// What happened since `before`, without the snapshots' own syscalls.
    func delta(since before: CounterSnapshot) -> CounterSnapshot {
        var delta = snapshot() - before
        delta.syscalls -= Swift.min(overhead, delta.syscalls)
        return delta
    }
}

enum ProcessCounters {
    /// Voluntary + involuntary context switches of every thread of this process.
    static func selfContextSwitches() -> UInt64 {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return UInt64(usage.ru_nvcsw) + UInt64(usage.ru_nivcsw)
    }

    /// Context switches of every thread of a running process, summed over /proc/PID/task/*/status.
    static func contextSwitches(of pid: Int32) -> UInt64 {
        guard let directory = opendir("/proc/\(pid)/task") else { return 0 }
        defer { closedir(directory) }
        var total: UInt64 = 0
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            guard let tid = Int(name) else { continue }
            for line in lines(of: "/proc/\(pid)/task/\(tid)/status")
            where line.hasPrefix("voluntary_ctxt_switches") || line.hasPrefix("nonvoluntary_ctxt_switches") {
                total += UInt64(line.split(whereSeparator: { $0 == "\t" || $0 == " " }).last ?? "") ?? 0
            }
        }
        return total
    }

    /// `syscr` + `syscw` of /proc/<process>/io (0 if unreadable).
    static func readWriteSyscalls(of process: String) -> UInt64 {
        var total: UInt64 = 0
        for line in lines(of: "/proc/\(process)/io") where line.hasPrefix("syscr:") || line.hasPrefix("syscw:") {
            total += UInt64(line.split(separator: " ").last ?? "") ?? 0
        }
        return total
    }

    static func lines(of path: String) -> [String] {
        guard let file = fopen(path, "r") else { return [] }
        defer { fclose(file) }
        var result: [String] = []
        var buffer = [CChar](repeating: 0, count: 512)
        while fgets(&buffer, Int32(buffer.count), file) != nil {
            result.append(String(decoding: buffer.prefix { $0 != 0 && $0 != 10 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        return result
    }
}
