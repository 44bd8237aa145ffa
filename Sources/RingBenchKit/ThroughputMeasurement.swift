#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import RingCore
import RingLinux

/// One one-way throughput measurement between this process and a `ringbench _peer` child: one
/// warm-up repetition, then `repetitions` timed ones. Shared by `throughput` and `compare`.
struct ThroughputMeasurement {
    var kind: ThroughputTransportKind
    var size: Int
    var repetitions: Int
    var seconds: Double
    var consume: ConsumeMode
    var pinned: Bool
    /// Ring only.
    var ringCapacity: Int = 4 << 20
    var batch: Int = 32
    var writer: RingWriterMode = .batch
    var profileName: String = "latency"

    struct Measured {
        var rates: Summary
        var cpuSecondsPerMillion: Double
        var contextSwitchesPerMillion: Double
        var syscallsPerMillion: Double
        var wakesPerMessage: Double
    }

    func run() throws -> Measured {
        let sender: any ThroughputSender
        let waitProfile = LatencyCommand.profileNames[profileName] ?? .latency
        if let stream = kind.stream {
            sender = try StreamThroughputSender(kind: stream, maxSize: size)
        } else if kind == .floor {
            sender = try FloorThroughputSender(capacity: ringCapacity, maxSize: size, batch: batch)
        } else {
            sender = try RingThroughputSender(capacity: ringCapacity, maxSize: size, batch: batch, writer: writer, profile: waitProfile)
        }
        var arguments = ["_peer", "--transport", kind.rawValue, "--fd", "3", "--write-fd", "4", "--consume", consume.rawValue,
                         "--max-size", String(size), "--profile", profileName]
        if pinned { arguments += ["--cpu", "1"] }
        let child = try ChildProcess(
            executable: ProcessEnvironment.executablePath(), arguments: arguments, inherit: sender.inherit)
        let nanoseconds = UInt64(seconds * 1e9)
        var rates: [Double] = []
        var counters = CounterSnapshot.zero
        var wakes: UInt64 = 0
        var total: UInt64 = 0
        let meter = CounterMeter(peers: [child.pid])
        do {
            for repetition in 0...repetitions {
                let before = meter.snapshot()
                let wakesBefore = WaitCounters.wakeSyscallCount
                let start = MonotonicClock.now()
                let outcome = try sender.run(size: size, nanoseconds: nanoseconds)
                let elapsed = MonotonicClock.now() - start
                let delta = meter.delta(since: before)
                guard repetition > 0 else { continue }  // repetition 0 warms up
                rates.append(Double(outcome.messages) / (Double(elapsed) / 1e9))
                counters = counters + delta
                counters.syscalls += outcome.peerWakes
                wakes += WaitCounters.wakeSyscallCount - wakesBefore + outcome.peerWakes
                total += outcome.messages
            }
        } catch {
            child.kill(SIGKILL)
            _ = try? child.wait()
            throw error
        }
        try sender.finish()
        let status = try child.wait()
        guard status == .exited(0) else { throw ValidationError("\(kind.rawValue) peer \(status)") }
        let millions = Double(max(total, 1)) / 1e6
        return Measured(
            rates: Summary(rates), cpuSecondsPerMillion: counters.cpuSeconds / millions,
            contextSwitchesPerMillion: Double(counters.contextSwitches) / millions,
            syscallsPerMillion: Double(counters.syscalls) / millions,
            wakesPerMessage: Double(wakes) / Double(max(total, 1)))
    }
}
