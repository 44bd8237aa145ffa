// ChannelTestSupport — starting hosts with the example worker, capturing the host's log records,
// collecting events, and making bound payloads and contexts.
#if canImport(Glibc)
import Glibc
#endif
import Logging
import RingChannel
import RingCore
import RingLinux
import RingTestSupport
import Synchronization
import Testing

/// Every test that starts worker processes runs in this suite, one at a time: they share the
/// machine's two cores, and the leak test attributes segments to the channel by their memfd name.
@Suite(.serialized) enum ChannelProcessTests {}

/// The example worker, built beside the test bundle.
func exampleWorkerPath() -> String { builtExecutablePath("RingExampleWorker") }

func exampleLaunch(environment: [String: String] = [:], name: String? = nil, restart: RestartPolicy? = nil) -> WorkerLaunch {
    WorkerLaunch(executable: exampleWorkerPath(), environment: environment, name: name, restart: restart)
}

/// Backends the process tests run on: the default and the no-io_uring fallback.
let channelBackends: [ReactorBackendKind?] = [nil, .futexThread]

/// Small segments keep 100 start/stop cycles and many workers cheap.
func smallSegment() -> SegmentConfiguration {
    SegmentConfiguration(hostToWorkerCapacity: 1 << 20, workerToHostCapacity: 1 << 20, maxMessageSize: 4 << 20)
}

func testConfiguration(_ backend: ReactorBackendKind? = nil) -> FunctionHostConfiguration {
    var configuration = FunctionHostConfiguration(segment: smallSegment(), waitBackend: backend)
    configuration.killMargin = .milliseconds(500)
    return configuration
}

/// Runs `body` with a host, shutting it down (grace 0) afterwards.
func withHost<T>(
    _ configuration: FunctionHostConfiguration = testConfiguration(), logs: LogCapture? = nil,
    _ body: (FunctionHost) async throws -> T
) async throws -> T {
    let logger = logs.map { capture in Logger(label: "host") { _ in capture.handler() } } ?? Logger(label: "host") { _ in SwiftLogNoOpLogHandler() }
    let host = try FunctionHost(configuration: configuration, logger: logger)
    do {
        let result = try await body(host)
        await host.shutdown(gracePeriod: .zero)
        return result
    } catch {
        await host.shutdown(gracePeriod: .zero)
        throw error
    }
}

/// A distinct context for invocation `n`.
func context(_ n: UInt64, traceparent: String? = nil) -> ForwardingContext {
    ForwardingContext(
        invocationId: ContextID(high: 0xC0FFEE00 | n, low: n &* 0x9E37_79B9_7F4A_7C15), forwardingId: ContextID(high: n, low: 7),
        traceparent: traceparent ?? "00-\(String(n, radix: 16))-01", retryCount: UInt32(n % 3), maxRetries: 3,
        attributes: n % 2 == 0 ? [.init(key: "n", value: String(n))] : [])
}

/// A payload bound to `n`: byte i = (n + i * 13) & 0xff.
func payload(_ n: UInt64, size: Int) -> [UInt8] {
    (0..<size).map { UInt8(truncatingIfNeeded: n &+ UInt64($0) &* 13) }
}

func u32Payload(_ value: UInt32) -> [UInt8] { withUnsafeBytes(of: value.littleEndian) { Array($0) } }

/// Collects the host logger's records and lets a test wait for one.
final class LogCapture: Sendable {
    struct Record: Sendable {
        let level: Logger.Level
        let message: String
        let metadata: [String: String]
    }

    private struct State {
        var records: [Record] = []
        var waiters: [(predicate: @Sendable (Record) -> Bool, continuation: CheckedContinuation<Record, Never>)] = []
    }

    private let state = RingMutex(State())

    func handler() -> Handler { Handler(capture: self) }

    var records: [Record] { state.withLock { $0.records } }

    func append(_ record: Record) {
        let ready = state.withLock { state -> [CheckedContinuation<Record, Never>] in
            state.records.append(record)
            var ready: [CheckedContinuation<Record, Never>] = []
            state.waiters.removeAll { waiter in
                guard waiter.predicate(record) else { return false }
                ready.append(waiter.continuation)
                return true
            }
            return ready
        }
        for continuation in ready { continuation.resume(returning: record) }
    }

    /// Waits for the first record (past or future) that matches.
    func first(where predicate: @escaping @Sendable (Record) -> Bool) async -> Record {
        await withCheckedContinuation { continuation in
            let found = state.withLock { state -> Record? in
                if let found = state.records.first(where: predicate) { return found }
                state.waiters.append((predicate, continuation))
                return nil
            }
            if let found { continuation.resume(returning: found) }
        }
    }

    struct Handler: LogHandler {
        let capture: LogCapture
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            var merged = metadata
            if let extra = event.metadata { merged.merge(extra) { _, new in new } }
            var strings: [String: String] = [:]
            for (key, value) in merged { strings[key] = "\(value)" }
            capture.append(Record(level: event.level, message: "\(event.message)", metadata: strings))
        }
    }
}

/// Waits for the first event of `stream` that matches.
func next(_ events: AsyncStream<WorkerEvent>, where predicate: (WorkerEvent) -> Bool) async -> WorkerEvent? {
    for await event in events where predicate(event) { return event }
    return nil
}

/// Counts outcomes of many invocations, safely from many tasks.
final class Tally: Sendable {
    private let counts = RingMutex<[String: Int]>([:])
    func add(_ key: String) { counts.withLock { $0[key, default: 0] += 1 } }
    var value: [String: Int] { counts.withLock { $0 } }
}

/// Waits until `ends` has yielded `count` times (each closed loop of completions yields once when
/// its chain ends).
func awaitChains(_ ends: AsyncStream<Void>, count: Int) async {
    var ended = 0
    for await _ in ends {
        ended += 1
        if ended == count { return }
    }
}
