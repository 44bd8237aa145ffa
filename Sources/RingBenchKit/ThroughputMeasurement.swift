#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import RingCore
import RingLinux

/// One one-way throughput measurement between this process and a `ringbench _peer` child: one
/// warm-up repetition, then `repetitions` timed ones. Shared by `throughput` and `compare`.
///
/// With `pairedWith` (the floor ring, for the ring rows of `compare`), a second sender and peer run
/// the reference transport, and its repetitions alternate with this one's: reference, measured,
/// reference, measured… Each measured repetition is then read against the reference repetition
/// just before it (`pairedRatios`), so both sides of every ratio ran in the same placement of the
/// VM's vCPUs — which moves both rates 3–4× from one minute to the next (Docs/Benchmarks.md,
/// stop 33) — instead of against a calibration measured minutes earlier.
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
    /// A reference transport whose repetitions alternate with this one's (see above).
    var pairedWith: ThroughputTransportKind?

    struct Measured {
        var rates: Summary
        var cpuSecondsPerMillion: Double
        var contextSwitchesPerMillion: Double
        var syscallsPerMillion: Double
        var wakesPerMessage: Double
        /// With `pairedWith`: the reference's rates, and each repetition's rate over the
        /// reference's in the repetition before it.
        var referenceRates: Summary?
        var pairedRatios: [Double] = []
    }

    /// A sender in this process and its `_peer` child.
    struct Endpoint {
        let kind: ThroughputTransportKind
        let sender: any ThroughputSender
        let child: ChildProcess
        let meter: CounterMeter

        /// One repetition: messages/s, the messages, and the counters' delta.
        func repetition(size: Int, nanoseconds: UInt64) throws -> (rate: Double, outcome: RepetitionOutcome, counters: CounterSnapshot) {
            let before = meter.snapshot()
            let start = MonotonicClock.now()
            let outcome = try sender.run(size: size, nanoseconds: nanoseconds)
            let elapsed = MonotonicClock.now() - start
            return (Double(outcome.messages) / (Double(elapsed) / 1e9), outcome, meter.delta(since: before))
        }

        func kill() {
            child.kill(SIGKILL)
            _ = try? child.wait()
        }

        func finish() throws {
            try sender.finish()
            let status = try child.wait()
            guard status == .exited(0) else { throw ValidationError("\(kind.rawValue) peer \(status)") }
        }
    }

    func start(_ kind: ThroughputTransportKind) throws -> Endpoint {
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
        return Endpoint(kind: kind, sender: sender, child: child, meter: CounterMeter(peers: [child.pid]))
    }

    func run() throws -> Measured {
        let own = try start(kind)
        let reference: Endpoint?
        do { reference = try pairedWith.map(start) } catch {
            own.kill()
            throw error
        }
        let nanoseconds = UInt64(seconds * 1e9)
        var rates: [Double] = []
        var referenceRates: [Double] = []
        var ratios: [Double] = []
        var counters = CounterSnapshot.zero
        var wakes: UInt64 = 0
        var total: UInt64 = 0
        do {
            for repetition in 0...repetitions {
                let referenceRate = try reference?.repetition(size: size, nanoseconds: nanoseconds).rate
                let wakesBefore = WaitCounters.wakeSyscallCount
                let (rate, outcome, delta) = try own.repetition(size: size, nanoseconds: nanoseconds)
                guard repetition > 0 else { continue }  // repetition 0 warms up
                rates.append(rate)
                if let referenceRate, referenceRate > 0 {
                    referenceRates.append(referenceRate)
                    ratios.append(rate / referenceRate)
                }
                counters = counters + delta
                counters.syscalls += outcome.peerWakes
                wakes += WaitCounters.wakeSyscallCount - wakesBefore + outcome.peerWakes
                total += outcome.messages
            }
        } catch {
            own.kill()
            reference?.kill()
            throw error
        }
        try own.finish()
        try reference?.finish()
        let millions = Double(max(total, 1)) / 1e6
        return Measured(
            rates: Summary(rates), cpuSecondsPerMillion: counters.cpuSeconds / millions,
            contextSwitchesPerMillion: Double(counters.contextSwitches) / millions,
            syscallsPerMillion: Double(counters.syscalls) / millions,
            wakesPerMessage: Double(wakes) / Double(max(total, 1)),
            referenceRates: referenceRates.isEmpty ? nil : Summary(referenceRates), pairedRatios: ratios)
    }
}
