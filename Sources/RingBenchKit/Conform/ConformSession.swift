// ConformSession — what a case works with: the worker executable under test, fresh hosts that
// spawn it, and the invocations and checks the cases share.
import Logging
import RingChannel
import RingCore
import RingLinux
import Synchronization

struct ConformSession: Sendable {
    let workerPath: String
    /// `ringbench` itself (the host-death case runs a host in a process of its own).
    let ringbenchPath: String
    /// Added to the worker's environment (the tests use the example worker's knobs to break it).
    var environment: [String: String] = [:]

    var launch: WorkerLaunch { WorkerLaunch(executable: workerPath, environment: environment, name: "conform") }

    /// A host with the kit's defaults (short kill margin, no restarts) and `configure` applied.
    func host(logs: ConformLogs? = nil, _ configure: (inout FunctionHostConfiguration) -> Void = { _ in }) throws -> FunctionHost {
        // A bound on a failure, not a wait: a fresh-clone `make test` saw the example worker (a debug
        // build) take over 20 s to start while the suite's heavy tests ran beside it on 2 vCPUs.
        var configuration = FunctionHostConfiguration(startTimeout: .seconds(60), killMargin: .seconds(2), shutdownGracePeriod: .seconds(2))
        configuration.segmentName = "ringconform"
        configure(&configuration)
        var logger = Logger(label: "conform") { label in
            if let logs { return logs.handler() }
            return StreamLogHandler.standardError(label: label)
        }
        // The worker's records are what the logs case checks; otherwise only what is critical.
        logger.logLevel = logs == nil ? .critical : .trace
        return try FunctionHost(configuration: configuration, logger: logger)
    }

    /// A host with one ready worker; `body` runs with both, then the host shuts down.
    func withWorker<T: Sendable>(
        logs: ConformLogs? = nil, _ configure: (inout FunctionHostConfiguration) -> Void = { _ in },
        _ body: @escaping @Sendable (FunctionHost, WorkerID) async throws -> T
    ) async throws -> T {
        let host = try host(logs: logs, configure)
        do {
            let id = try await within(30, "worker start") { try await host.addWorker(launch) }
            let value = try await body(host, id)
            await host.shutdown(gracePeriod: .seconds(2))
            return value
        } catch {
            await host.shutdown(gracePeriod: .zero)
            throw error
        }
    }

    /// Invokes `function` and checks the answer: success, the payload byte for byte, the context
    /// byte for byte.
    static func echo(_ host: FunctionHost, _ payload: [UInt8], id: UInt64, function: String = "echo") async throws {
        let context = conformContext(id)
        let result = try await host.invoke(function: function, payload: payload, context: context)
        guard result.status == .success else { throw ConformFailure("\(function) of \(payload.count) B answered \(result.status)") }
        guard result.payload == payload else {
            let at = zip(result.payload, payload).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(result.payload.count, payload.count)
            throw ConformFailure("\(function) of \(payload.count) B came back as \(result.payload.count) B, first difference at byte \(at)")
        }
        guard result.context == context else { throw ConformFailure("\(function) of \(payload.count) B: the response context differs from the request's") }
    }

    /// Waits until the worker owes the host nothing (every invocation it was sent is answered).
    static func settled(_ host: FunctionHost, _ what: String) async throws {
        _ = try await eventually(5, "\(what): the worker still owes an answer") { () -> Bool? in
            host.workers.allSatisfy { $0.inFlight == 0 } ? true : nil
        }
    }

    /// Waits until the worker reports at least `count` invocations running (it holds them).
    static func running(_ host: FunctionHost, _ id: WorkerID, _ count: UInt32) async throws -> WorkerStatus {
        try await eventually(5, "the worker never reported \(count) running") {
            let status = try await host.status(of: id, timeout: .seconds(5))
            return status.running + status.queued >= count ? status : nil
        }
    }
}

/// The host's log records (the worker's records arrive there).
final class ConformLogs: Sendable {
    struct Record: Sendable {
        let message: String
        let metadata: [String: String]
    }

    private let records = RingMutex<[Record]>([])

    var all: [Record] { records.withLock { $0 } }

    func handler() -> some LogHandler { Handler(logs: self) }

    fileprivate func append(_ record: Record) { records.withLock { $0.append(record) } }

    private struct Handler: LogHandler {
        let logs: ConformLogs
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(event: LogEvent) {
            var strings: [String: String] = [:]
            for (key, value) in metadata.merging(event.metadata ?? [:], uniquingKeysWith: { $1 }) { strings[key] = "\(value)" }
            logs.append(Record(message: "\(event.message)", metadata: strings))
        }
    }
}
