package import ArgumentParser
import Foundation
import Logging
import RingChannel
import RingCore
import RingLinux

/// `ringbench invoke`: invocations through the host/worker channel (FunctionHost → RingExampleWorker
/// "echo"), closed loop with C invocations in flight over W workers.
package struct InvokeCommand: AsyncParsableCommand {
    package static let configuration = CommandConfiguration(
        commandName: "invoke",
        abstract: "Invocations/s and latency percentiles through the host/worker channel, W workers × C in flight.")

    @Option(name: .long, help: "Worker counts, comma-separated.")
    var workers: String = "1,2"

    @Option(name: .long, help: "Invocations in flight (closed loop), comma-separated.")
    var concurrency: String = "1,64"

    @Option(name: .long, help: "Payload sizes (request and echoed response), comma-separated; K and M allowed.")
    var sizes: String = "64,64K,1M"

    @Option(name: .long, help: "Seconds of measurement per row (after a short warm-up).")
    var seconds: Double = 1.0

    @Option(name: .long, help: "Where the calling tasks run: host-executor (the host reactor's thread, FunctionHost.executor), global (the global concurrent pool), completion (no tasks: FunctionHost.submit, each completion starting the next invocation), or completion-in-place (the same, each answer read where it lies: submit(…, readingReplyInPlace:)).")
    var callers: Callers = .hostExecutor

    @Option(name: .long, help: "Invocations per FunctionHost.invoke(batch:) call (1: plain invoke). Each in-flight level is split into level/batch callers.")
    var batch: Int = 1

    @Option(name: .long, help: "Mixed scenario: this fraction of invocations (e.g. 0.01) carries --huge-size instead; each row is then measured without and with them, and the latencies are the small invocations' only.")
    var hugeFraction: Double = 0

    @Option(name: .long, help: "Payload of the huge invocations of --huge-fraction (K and M allowed).")
    var hugeSize: String = "4M"

    @Option(name: .long, help: "Worker executable (any language; it must answer `echo` with the payload). Default: RingExampleWorker beside ringbench.")
    var workerPath: String?

    @Option(name: .long, help: "Write results as JSON to this path.")
    var json: String?

    package init() {}

    /// Every `every`-th invocation of each caller carries `size` bytes instead of the row's size.
    struct HugeMix: Sendable {
        var every: Int
        var size: Int
    }

    var hugeMix: HugeMix? {
        guard hugeFraction > 0, let size = try? ByteSize.parse(hugeSize, option: "--huge-size") else { return nil }
        return HugeMix(every: max(Int((1 / hugeFraction).rounded()), 1), size: size)
    }

    /// Where the closed loop's calling tasks run.
    enum Callers: String, ExpressibleByArgument, Sendable {
        /// On the host reactor's thread: a reply resumes its caller in the same turn.
        case hostExecutor = "host-executor"
        /// On the global concurrent pool: every reply hops to a pool thread.
        case global
        /// No calling tasks: `FunctionHost.submit`, each completion starting the next invocation
        /// (on the host reactor's thread, where the answer is read).
        case completion
        /// `completion`, each answer read where it lies (`submit(…, readingReplyInPlace:)`).
        case completionInPlace = "completion-in-place"
    }

    static func list(_ text: String, option: String) throws -> [Int] {
        let values = try text.split(separator: ",").map { try ByteSize.parse(String($0), option: option) }
        guard !values.isEmpty, values.allSatisfy({ $0 >= 1 }) else { throw ValidationError("\(option) needs positive values") }
        return values
    }

    package func validate() throws {
        let w = try Self.list(workers, option: "--workers")
        let c = try Self.list(concurrency, option: "--concurrency")
        let s = try Self.list(sizes, option: "--sizes")
        guard w.allSatisfy({ $0 <= 16 }) else { throw ValidationError("--workers: at most 16") }
        guard c.allSatisfy({ $0 <= 10_000 }) else { throw ValidationError("--concurrency: at most 10000") }
        guard s.allSatisfy({ $0 <= 16 << 20 }) else { throw ValidationError("--sizes: at most 16 MiB") }
        guard seconds > 0, seconds <= 60 else { throw ValidationError("--seconds must be in (0, 60]") }
        guard batch >= 1, c.allSatisfy({ $0 % batch == 0 }) else {
            throw ValidationError("--batch must be ≥ 1 and divide every --concurrency level (level/batch callers each keep one batch in flight)")
        }
        if let workerPath, access(workerPath, X_OK) != 0 { throw ValidationError("--worker-path \(workerPath) is not an executable file") }
        guard hugeFraction >= 0, hugeFraction < 1 else { throw ValidationError("--huge-fraction must be in [0, 1)") }
        let huge = try ByteSize.parse(hugeSize, option: "--huge-size")
        guard huge >= 1, huge <= 64 << 20 else { throw ValidationError("--huge-size must be in 1 B…64 MiB") }
        guard hugeFraction == 0 || batch == 1 else { throw ValidationError("--huge-fraction works with plain invoke (--batch 1)") }
        guard callers != .completion || (batch == 1 && hugeFraction == 0) else {
            throw ValidationError("--callers completion works with plain invocations (no --batch, no --huge-fraction)")
        }
    }

    package func run() async throws {
        let workerCounts = try Self.list(workers, option: "--workers")
        let levels = try Self.list(concurrency, option: "--concurrency")
        let payloadSizes = try Self.list(sizes, option: "--sizes")
        let mix = hugeMix
        print("ringbench invoke — FunctionHost → \((workerPath ?? Self.defaultWorkerPath).split(separator: "/").last ?? "worker") echo, closed loop, \(seconds) s per row, callers on \(callers.rawValue)"
              + (batch > 1 ? ", batches of \(batch)" : "")
              + (mix.map { ", mixed rows: 1 in \($0.every) invocations carries \(Format.bytes($0.size)) (latencies: the others only)" } ?? ""))
        print(Format.pad("workers", 9) + Format.pad("in flight", 11) + Format.pad("size", 9) + Format.pad("invocations/s", 15)
              + ["p50", "p90", "p99", "p99.9", "max"].map { Format.pad($0, 10) }.joined())
        var results: [BenchResult] = []
        for workerCount in workerCounts {
            let host = try await Self.startHost(
                workers: workerCount, largestPayload: max(payloadSizes.max()!, mix?.size ?? 0), workerPath: workerPath ?? Self.defaultWorkerPath)
            for level in levels {
                for size in payloadSizes {
                    var pair: [BenchResult] = []
                    for huge in mix == nil ? [nil] : [nil, mix] {
                        let result = try await Self.measure(
                            host: host, workers: workerCount, concurrency: level, size: size, seconds: seconds, callers: callers, batch: batch,
                            huge: huge)
                        results.append(result)
                        pair.append(result)
                        let l = result.latencyNanoseconds!
                        let label = Format.bytes(size) + (huge.map { " + 1/\($0.every) × \(Format.bytes($0.size))" } ?? "")
                        print(Format.pad("\(workerCount)", 9) + Format.pad("\(level)", 11) + Format.pad(label, huge == nil ? 9 : 24)
                              + Format.pad(Format.rate(result.messagesPerSecond), 15)
                              + [l.p50, l.p90, l.p99, l.p999, l.max].map { Format.pad(Format.nanoseconds($0), 10) }.joined())
                    }
                    if pair.count == 2, let plain = pair[0].latencyNanoseconds?.p99, let mixed = pair[1].latencyNanoseconds?.p99, plain > 0 {
                        print("  p99 of the \(Format.bytes(size)) invocations with huge ones mixed in: \(Format.fixed(Double(mixed) / Double(plain), 2))× the plain row's")
                    }
                }
            }
            let idle = try await Self.idleCPU(host: host)
            print("idle: host + \(workerCount) worker(s) attached, nothing to do: \(Format.fixed(idle.cpuPercent, 3)) % of one CPU, "
                  + "\(Format.fixed(idle.contextSwitchesPerSecond, 1)) context switches/s (over \(Format.fixed(Self.idleSeconds, 1)) s)")
            for index in results.indices where results[index].workers == workerCount {
                results[index].parameters["idleCPUPercent"] = Format.fixed(idle.cpuPercent, 4)
            }
            await host.shutdown(gracePeriod: .seconds(5))
        }
        if let json {
            try BenchReport(results: results, machine: .current()).write(to: json)
            print("wrote \(json)")
        }
    }

    /// How long the idle measurement watches, after `idleSettleSeconds` for the loops' spin budgets.
    static let idleSeconds = 2.0
    static let idleSettleSeconds = 0.5

    /// CPU (percent of one CPU) and context switches per second of the host and its workers while
    /// nothing is invoked: what an idle host with workers attached costs.
    static func idleCPU(host: FunctionHost) async throws -> (cpuPercent: Double, contextSwitchesPerSecond: Double) {
        try await Task.sleep(for: .seconds(idleSettleSeconds))
        let meter = CounterMeter(peers: host.workers.map(\.pid))
        let before = meter.snapshot()
        let start = MonotonicClock.now()
        try await Task.sleep(for: .seconds(idleSeconds))
        let delta = meter.delta(since: before)
        let elapsed = Double(MonotonicClock.now() - start) / 1e9
        return (100 * delta.cpuSeconds / elapsed, Double(delta.contextSwitches) / elapsed)
    }

    /// RingExampleWorker, built beside ringbench.
    static var defaultWorkerPath: String {
        let binary = ProcessEnvironment.executablePath()
        return String(binary[..<binary.lastIndex(of: "/")!]) + "/RingExampleWorker"
    }

    /// A FunctionHost with `workers` RingExampleWorker processes, ready to invoke `echo`.
    static func startHost(
        workers: Int, largestPayload: Int, waitProfile: WaitProfile? = nil, workerPath: String = InvokeCommand.defaultWorkerPath
    ) async throws -> FunctionHost {
        var logger = Logger(label: "ringbench.invoke")
        logger.logLevel = .warning
        var configuration = FunctionHostConfiguration()
        configuration.segment = SegmentConfiguration(maxMessageSize: max(largestPayload + 4096, 1 << 20))
        if let waitProfile { configuration.waitProfile = waitProfile }
        let host = try FunctionHost(configuration: configuration, logger: logger)
        for index in 0..<workers {
            _ = try await host.addWorker(WorkerLaunch(executable: workerPath, name: "bench\(index)"))
        }
        return host
    }

    /// Closed loop: `concurrency / batch` tasks each keep one call in flight back to back for
    /// `seconds` after 0.1 s of warm-up — `invoke`, or `invoke(batch:)` of `batch` invocations;
    /// every response must carry its own context and payload size. An invocation's latency is its
    /// call's (for a batch: until the caller has every answer).
    static func measure(
        host: FunctionHost, workers: Int, concurrency: Int, size: Int, seconds: Double, callers: Callers = .hostExecutor,
        batch: Int = 1, huge: HugeMix? = nil
    ) async throws -> BenchResult {
        let payload = [UInt8](repeating: 0x5A, count: size)
        let hugePayload = huge.map { [UInt8](repeating: 0xA5, count: $0.size) } ?? []
        let warmUp = MonotonicClock.now() + 100_000_000
        let start = warmUp
        let end = start + UInt64(seconds * 1e9)
        let samples = callers == .completion || callers == .completionInPlace
            ? try await CompletionLoop.run(
                host: host, chains: concurrency, payload: payload, until: end, countingFrom: start, inPlace: callers == .completionInPlace)
            : try await withThrowingTaskGroup(of: [UInt64].self) { group in
            let executor: (any TaskExecutor)? = callers == .hostExecutor ? host.executor : nil
            for task in 0..<max(concurrency / batch, 1) {
                group.addTask(executorPreference: executor) {
                    var latencies: [UInt64] = []
                    var n: UInt64 = 0
                    func nextContext() -> ForwardingContext {
                        n += 1
                        let id = UInt64(task) << 40 | n
                        return ForwardingContext(invocationId: ContextID(high: id, low: ~id))
                    }
                    func check(_ result: InvocationResult, _ context: ForwardingContext, size expected: Int? = nil) throws {
                        // A worker that answers `echo` with a failure (say, it does not implement
                        // it) must not pass as a fast echo of the right length.
                        guard result.status == .success else {
                            throw ValidationError("echo answered \(result.status), not success")
                        }
                        guard result.context.invocationId == context.invocationId, result.payload.count == expected ?? size else {
                            throw ValidationError("echo returned a different context or payload")
                        }
                    }
                    while true {
                        let before = MonotonicClock.now()
                        if before >= end { break }
                        if let huge, (n &+ UInt64(task)) % UInt64(huge.every) == 0 {
                            // A huge invocation: sent and checked, not part of the latency histogram.
                            let context = nextContext()
                            try check(try await host.invoke(function: "echo", payload: hugePayload, context: context), context, size: huge.size)
                            continue
                        } else if batch == 1 {
                            let context = nextContext()
                            try check(try await host.invoke(function: "echo", payload: payload, context: context), context)
                        } else {
                            let requests = (0..<batch).map { _ in InvocationRequest(function: "echo", payload: payload, context: nextContext()) }
                            let outcomes = try await host.invoke(batch: requests)
                            for (request, outcome) in zip(requests, outcomes) { try check(try outcome.get(), request.context) }
                        }
                        let after = MonotonicClock.now()
                        if before >= start {
                            // (One sample by itself: appending a repeated collection of one was ≈ 1.5 %
                            // of the host thread, the bench's own cost inside the measured rate.)
                            if batch == 1 {
                                latencies.append(after - before)
                            } else {
                                latencies.append(contentsOf: repeatElement(after - before, count: batch))
                            }
                        }
                    }
                    return latencies
                }
            }
            var all: [UInt64] = []
            for try await part in group { all += part }
            return all
        }
        var result = BenchResult(
            scenario: "invoke", transport: "ring", messageSize: size,
            rates: Summary([Double(samples.count) / (Double(end - start) / 1e9)]), repetitions: 1,
            parameters: ["workers": String(workers), "concurrency": String(concurrency), "callers": callers.rawValue, "batch": String(batch)],
            concurrency: concurrency, workers: workers)
        if let huge {
            result.scenario = "invoke-mixed"
            result.parameters["hugeEvery"] = String(huge.every)
            result.parameters["hugeSize"] = String(huge.size)
        }
        result.latencyNanoseconds = LatencyPercentiles(samples: samples)
        return result
    }
}
