#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import Histogram
import RingCore
import RingLinux

/// The measurements behind `ringbench compare`'s transport entries. The synchronous ones run on a
/// thread of their own, pinned to CPU 0 when asked (the peer pins itself to CPU 1): a blocking,
/// spinning measurement never occupies — or pins — a thread of the concurrency runtime.
enum CompareMeasure {
    static func throughput(_ kind: ThroughputTransportKind, profile: String?, settings: CompareSettings, size: Int) async throws -> BenchResult {
        try await CPUPinning.onOwnThread(pinned: settings.pinned) {
            // The ring rows alternate their repetitions with the floor ring's: "% floor" is then
            // the median of ratios taken in the same placement of the vCPUs.
            let measured = try ThroughputMeasurement(
                kind: kind, size: size, repetitions: settings.repetitions, seconds: settings.seconds, consume: settings.consume,
                pinned: settings.pinned, profileName: profile ?? "latency", pairedWith: kind == .ring ? .floor : nil
            ).run()
            var parameters = ["consume": settings.consume.rawValue, "pinned": String(settings.pinned)]
            if let profile { parameters["profile"] = profile }
            var result = BenchResult(
                scenario: CompareScenario.throughput.rawValue, transport: profile.map { "ring-\($0)" } ?? kind.rawValue,
                messageSize: size, rates: measured.rates, repetitions: settings.repetitions, parameters: parameters)
            result.cpuSecondsPerMillion = measured.cpuSecondsPerMillion
            result.contextSwitchesPerMillion = measured.contextSwitchesPerMillion
            result.syscallsPerMillion = measured.syscallsPerMillion
            result.wakeSyscallsPerMessage = kind == .ring ? measured.wakesPerMessage : nil
            if !measured.pairedRatios.isEmpty, let floor = measured.referenceRates {
                result.percentOfFloor = 100 * Summary(measured.pairedRatios).median
                result.pairedFloorRate = floor.median
            }
            return result
        }
    }

    /// Ping-pong against a `_peer` echo process: `repetitions` × `seconds`, one histogram over all of them.
    static func pingPong(
        name: String, settings: CompareSettings, size: Int, client makeClient: @escaping @Sendable () throws -> any PingPongClient
    ) async throws -> BenchResult {
        try await CPUPinning.onOwnThread(pinned: settings.pinned) {
            let client = try makeClient()
            let child = try ChildProcess(
                executable: ProcessEnvironment.executablePath(),
                arguments: ["_peer"] + client.peerArguments + (settings.pinned ? ["--cpu", "1"] : []), inherit: client.inherit)
            var histogram = PingPongSampler.emptyHistogram()
            var rates: [Double] = []
            var counters = CounterSnapshot.zero
            var total: UInt64 = 0
            do {
                // Warm-up (not counted), then the timed repetitions into one histogram.
                _ = try client.sample(PingPongSampler(warmUpNanoseconds: UInt64(settings.warmUpSeconds * 1e9), nanoseconds: 0, rate: nil),
                                      size: size, into: &histogram)
                histogram.reset()
                let sampler = PingPongSampler(warmUpNanoseconds: 0, nanoseconds: UInt64(settings.seconds * 1e9), rate: settings.rate)
                let meter = CounterMeter(peers: [child.pid])
                for _ in 0..<settings.repetitions {
                    let before = meter.snapshot()
                    let (count, elapsed) = try client.sample(sampler, size: size, into: &histogram)
                    var delta = meter.delta(since: before)
                    // A ring echo peer mirrors the host's futex calls (it wakes and sleeps as often);
                    // it cannot report them, so they are counted twice. Stream peers' reads and
                    // writes are in /proc/PID/io already.
                    if client.peerMirrorsFutexCalls { delta.syscalls += delta.futexCalls }
                    counters = counters + delta
                    rates.append(Double(count) / (Double(elapsed) / 1e9))
                    total += count
                }
            } catch {
                child.kill(SIGKILL)
                _ = try? child.wait()
                throw error
            }
            client.finish()
            let status = try child.wait()
            guard status == .exited(0) else { throw ValidationError("\(name) echo peer \(status)") }
            var parameters = ["pinned": String(settings.pinned)]
            if let rate = settings.rate { parameters["rate"] = String(rate) }
            var result = BenchResult(
                scenario: CompareScenario.pingpong.rawValue, transport: name, messageSize: size, rates: Summary(rates),
                repetitions: settings.repetitions, parameters: parameters)
            result.latencyNanoseconds = LatencyPercentiles(histogram)
            result.load = settings.rate == nil ? "closed" : "open"
            result.targetRate = settings.rate
            // Two messages (request and echo) per round trip.
            let millions = Double(max(total, 1) * 2) / 1e6
            result.cpuSecondsPerMillion = counters.cpuSeconds / millions
            result.contextSwitchesPerMillion = Double(counters.contextSwitches) / millions
            result.syscallsPerMillion = Double(counters.syscalls) / millions
            return result
        }
    }

    /// FunctionHost → RingExampleWorker `echo`, closed loop at `settings.concurrency`, one host (and
    /// its workers) per measurement; latency percentiles are the medians of the repetitions'.
    static func invokeRing(
        profile: String, name: String? = nil, callers: InvokeCommand.Callers = .hostExecutor, settings: CompareSettings, size: Int
    ) async throws -> BenchResult {
        let worker = settings.workerPath ?? InvokeCommand.defaultWorkerPath
        guard access(worker, X_OK) == 0 else {
            throw ValidationError(
                settings.workerPath == nil
                    ? "\(worker) not found: build it beside ringbench (swift build -c release --static-swift-stdlib --product RingExampleWorker, as `make bench` does)"
                    : "--worker-path \(worker) is not an executable file")
        }
        let host = try await InvokeCommand.startHost(
            workers: settings.workers, largestPayload: size, waitProfile: LatencyCommand.profileNames[profile], workerPath: worker)
        var reps: [BenchResult] = []
        var counters = CounterSnapshot.zero
        var invocations = 0.0
        let meter = CounterMeter(peers: host.workers.map(\.pid))
        do {
            for _ in 0..<settings.repetitions {
                // Includes the measurement's 0.1 s warm-up: counters per invocation count it too.
                let before = meter.snapshot()
                let start = MonotonicClock.now()
                let rep = try await InvokeCommand.measure(
                    host: host, workers: settings.workers, concurrency: settings.concurrency, size: size, seconds: settings.seconds,
                    callers: callers)
                counters = counters + meter.delta(since: before)
                invocations += rep.messagesPerSecond * Double(MonotonicClock.now() - start) / 1e9
                reps.append(rep)
            }
        } catch {
            await host.shutdown(gracePeriod: .seconds(2))
            throw error
        }
        await host.shutdown(gracePeriod: .seconds(2))
        var result = BenchResult(
            scenario: CompareScenario.invoke.rawValue, transport: name ?? "ring-\(profile)", messageSize: size,
            rates: Summary(reps.map(\.messagesPerSecond)), repetitions: settings.repetitions,
            parameters: ["profile": profile, "path": "FunctionHost → RingExampleWorker echo", "callers": callers.rawValue],
            concurrency: settings.concurrency, workers: settings.workers)
        result.latencyNanoseconds = LatencyPercentiles.median(of: reps.compactMap(\.latencyNanoseconds))
        result.load = "closed"
        // Two messages (request and response) per invocation; host and worker processes.
        let millions = max(invocations * 2, 1) / 1e6
        result.cpuSecondsPerMillion = counters.cpuSeconds / millions
        result.contextSwitchesPerMillion = Double(counters.contextSwitches) / millions
        result.syscallsPerMillion = Double(counters.syscalls) / millions
        return result
    }

    /// The cross-process spin floor (round trip p50 and friends) between two pinned processes.
    static func spinFloor(settings: CompareSettings) async throws -> BenchResult {
        try await CPUPinning.onOwnThread(pinned: settings.pinned) {
            let scratch = try SharedMapping.scratch(size: SpinPingPong.scratchSize)
            let child = try ChildProcess(
                executable: ProcessEnvironment.executablePath(),
                arguments: ["_peer", "--transport", "spin", "--fd", "3"] + (settings.pinned ? ["--cpu", "1"] : []),
                inherit: [3: scratch.unsafeFileDescriptor])
            let words = SpinPingPong.words(scratch)
            var histogram = PingPongSampler.emptyHistogram()
            let sampler = PingPongSampler(
                warmUpNanoseconds: UInt64(settings.warmUpSeconds * 1e9), nanoseconds: UInt64(settings.seconds * 1e9), rate: nil)
            var sequence: UInt32 = 0
            let (count, elapsed) = sampler.run(into: &histogram) {
                sequence = sequence &+ 1 == SpinPingPong.stop ? 1 : sequence &+ 1
                SpinPingPong.roundTrip(words, sequence: sequence)
            }
            SpinPingPong.stopPeer(words)
            let status = try child.wait()
            guard status == .exited(0) else { throw ValidationError("spin peer \(status)") }
            var result = BenchResult(
                scenario: "calibration", transport: "spin-floor", messageSize: 4,
                rates: Summary([Double(count) / (Double(elapsed) / 1e9)]), repetitions: 1,
                parameters: ["what": "cross-process busy-spin round trip through two atomic words", "pinned": String(settings.pinned)])
            result.latencyNanoseconds = LatencyPercentiles(histogram)
            return result
        }
    }

    /// The floor ring at `size` (`FloorThroughput.swift`), as a calibration row.
    static func floor(size: Int, settings: CompareSettings) async throws -> BenchResult {
        var result = try await throughput(.floor, profile: nil, settings: settings, size: size)
        result.scenario = "calibration"
        result.parameters["what"] = "simplest SPSC ring over the same shared memory: fixed records, no validation, busy-spin"
        return result
    }

    static func memcpy(size: Int, settings: CompareSettings) -> BenchResult {
        let seconds = max(settings.seconds / 4, 0.01)
        let samples = (0..<max(settings.repetitions, 1)).map { _ in
            Calibration.memcpyBandwidth(size: size, nanoseconds: UInt64(seconds * 1e9)) / Double(size)
        }
        return BenchResult(
            scenario: "calibration", transport: "memcpy", messageSize: size, rates: Summary(samples),
            repetitions: samples.count, parameters: ["what": "single-thread memcpy between two private buffers"])
    }
}

extension LatencyPercentiles {
    /// The percentiles of round-trip samples (nanoseconds), through one HdrHistogram.
    init(samples: [UInt64]) {
        var histogram = PingPongSampler.emptyHistogram()
        for sample in samples { histogram.record(sample) }
        self.init(histogram)
    }

    init(_ histogram: Histogram<UInt64>) {
        self.init(
            p50: histogram.valueAtPercentile(50), p90: histogram.valueAtPercentile(90), p99: histogram.valueAtPercentile(99),
            p999: histogram.valueAtPercentile(99.9), max: histogram.max)
    }

    /// Element-wise medians.
    static func median(of all: [LatencyPercentiles]) -> LatencyPercentiles? {
        guard !all.isEmpty else { return nil }
        func m(_ key: KeyPath<LatencyPercentiles, UInt64>) -> UInt64 { UInt64(Summary(all.map { Double($0[keyPath: key]) }).median) }
        return LatencyPercentiles(p50: m(\.p50), p90: m(\.p90), p99: m(\.p99), p999: m(\.p999), max: m(\.max))
    }
}
