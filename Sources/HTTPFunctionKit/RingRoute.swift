// RingRoute — the HTTP function over the rings: FunctionHost and RingHTTPWorker processes. The
// forwarding key (the HTTP request's id) travels in the request frame's context and comes back in
// the response frame's; the front writes a reply only when the two name the same request. There is
// no table to fill after the send, so no ordering can lose the key.
#if canImport(Glibc)
import Glibc
#endif
package import Logging
package import RingChannel
package import RingCore

package final class RingRoute: InvocationRoute {
    package let host: FunctionHost
    let workerExecutable: String
    let workerCount: Int
    let timeout: Duration
    let workerEnvironment: [String: String]

    package var name: String { "ring" }

    /// Every invocation task runs on the host's reactor thread: the reply resumes it in the same
    /// reactor turn, with no hop to the global pool (FunctionHost.executor). Measured against
    /// running it on the connection's event loop (as the other routes do): 56–70 against 83–93 µs
    /// of host+worker CPU per request under wrk (Docs/Benchmarks.md).
    package var taskExecutor: (any TaskExecutor)? { host.executor }

    package init(workerExecutable: String, workers: Int, timeout: Duration, configuration: FunctionHostConfiguration = FunctionHostConfiguration(),
        workerEnvironment: [String: String] = [:], logger: Logger
    ) throws {
        host = try FunctionHost(configuration: configuration, logger: logger)
        self.workerExecutable = workerExecutable
        workerCount = workers
        self.timeout = timeout
        self.workerEnvironment = workerEnvironment
    }

    package func start() async throws {
        // Restarts without limit and quickly: `--kill-every` kills a worker every few seconds.
        let restart = RestartPolicy(maxRestarts: .max, initialBackoff: .milliseconds(10), maxBackoff: .seconds(1))
        try await host.loadFunction(HTTPFunctions.functionName)
        for index in 0..<workerCount {
            try await host.addWorker(WorkerLaunch(executable: workerExecutable, environment: workerEnvironment, name: "http-\(index)", restart: restart))
        }
    }

    package func invoke(_ request: HTTPFunctionRequest, requestID: ContextID, traceparent: String) async -> RouteOutcome {
        let payload: [UInt8]
        do { payload = try HTTPPayload.encode(request) } catch { return .failed("request not encodable: \(error)") }
        let context = ForwardingContext(
            invocationId: ContextID(high: requestID.high ^ 0x5249_4e47, low: requestID.low), forwardingId: requestID, traceparent: traceparent)
        do {
            let result = try await host.invoke(function: HTTPFunctions.functionName, payload: payload, context: context, deadline: .after(timeout))
            return Self.outcome(of: result, requestID: requestID)
        } catch let error as ChannelError {
            switch error {
            case .workerExited, .protocolViolation: return .workerLost("\(error)")
            case .deadlineExceeded: return .timedOut
            case .noWorkerAvailable, .workerNotReady, .shuttingDown: return .unavailable("\(error)")
            default: return .failed("\(error)")
            }
        } catch {
            return .unavailable("cancelled")
        }
    }

    /// What a worker's answer means for the HTTP request `requestID`. The key the reply path needs
    /// is the one decoded from the response frame.
    static func outcome(of result: InvocationResult, requestID: ContextID) -> RouteOutcome {
        guard result.context.forwardingId != .zero else { return .missingKey }
        guard result.context.forwardingId == requestID else { return .mismatchedKey(expected: requestID, received: result.context.forwardingId) }
        switch result.status {
        case .success:
            do { return .reply(try HTTPPayload.decodeReply(result.payload)) } catch { return .failed("worker \(result.workerID): \(error)") }
        case .failure(let message): return .failed("worker \(result.workerID): \(message)")
        case .cancelled: return .failed("worker \(result.workerID) cancelled the invocation")
        }
    }

    package var inFlight: Int { host.workers.reduce(0) { $0 + $1.inFlight } }

    package func killOneWorker() async -> Bool {
        let ready = host.workers.filter(\.ready)
        guard let victim = ready.randomElement() else { return false }
        // A plain SIGKILL, not `killWorker`: the slot's restart policy brings the worker back.
        return kill(victim.pid, SIGKILL) == 0
    }

    package func shutdown() async { await host.shutdown(gracePeriod: .seconds(2)) }
}
