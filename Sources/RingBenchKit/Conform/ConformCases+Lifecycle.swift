// The lifecycle cases of `ringbench conform` (Docs/Protocol.md §2): terminate lets what runs finish
// within the grace period, cancels the rest, ends in order (exit 0); a worker whose host dies exits
// by itself.
#if canImport(Glibc)
import Glibc
#endif
import RingChannel
import RingLinux

extension ConformCase {
    static let lifecycle: [ConformCase] = [
        ConformCase(name: "terminate-grace", requirement: "terminate(grace): finish what runs, answer it, close ring 1, exit 0") { session in
            let payload = millisecondsPayload(300, tag: 1)
            let result = try await terminated(session, holding: "slow", payload: payload, id: 600, grace: .seconds(10))
            guard result.status == .success, result.payload == payload else {
                throw ConformFailure("the held invocation answered \(result.status), \(result.payload.count) B")
            }
            return "the held invocation finished with success; orderly end"
        },
        ConformCase(name: "terminate-cancel", requirement: "when the grace period ends, cancel what still runs, answer it cancelled, exit 0") { session in
            let result = try await terminated(session, holding: "hang", payload: [], id: 700, grace: .milliseconds(200))
            guard result.status == .cancelled else { throw ConformFailure("the hanging invocation answered \(result.status), expected cancelled") }
            return "answered cancelled after the grace period; orderly end"
        },
        ConformCase(name: "host-death", requirement: "exit when the host process dies (watch HostHello.hostPID, §2)") { session in
            // A host in a process of its own starts the worker, writes its pid, and SIGKILLs itself.
            let pidFile = "/tmp/ringconform-\(getpid())-\(UInt64.random(in: 0...UInt64.max)).pid"
            defer { unlink(pidFile) }
            let reactor = try Reactor()
            defer { reactor.shutdown() }
            let child = try ChildProcess(
                executable: session.ringbenchPath, arguments: ["conform-host", "--worker-path", session.workerPath, "--pid-file", pidFile])
            _ = try await within(60, "the dying host") { try await ConformHostDeath.exit(of: child.pid, reactor: reactor) }
            let hostEnd = try child.wait()
            guard hostEnd == .signaled(SIGKILL) else { throw ConformFailure("the host process \(hostEnd), expected SIGKILL") }
            guard let pid = ConformHostDeath.readPID(pidFile) else { throw ConformFailure("the host wrote no worker pid (its worker did not start)") }
            let exited = try await within(5, "the worker's exit after its host died") {
                try await ConformHostDeath.exit(of: pid, reactor: reactor)
            }
            return "worker pid \(pid) \(exited)"
        },
    ]

    /// Starts a worker, makes it hold one invocation of `function`, terminates it with `grace`, and
    /// returns that invocation's answer once the worker has ended in order (else fails).
    private static func terminated(
        _ session: ConformSession, holding function: String, payload: [UInt8], id: UInt64, grace: Duration
    ) async throws -> InvocationResult {
        let host = try session.host()
        do {
            let events = host.events()
            let worker = try await within(30, "worker start") { try await host.addWorker(session.launch) }
            let call = Task { try await host.invoke(function: function, payload: payload, context: conformContext(id)) }
            _ = try await ConformSession.running(host, worker, 1)
            await host.removeWorker(worker, gracePeriod: grace)
            let result = try await within(10, "the held \(function) invocation") { try await call.value }
            let ending = try await ended(events, worker)
            await host.shutdown(gracePeriod: .zero)
            if let ending { throw ConformFailure("the worker did not end in order: \(ending)") }
            return result
        } catch {
            await host.shutdown(gracePeriod: .zero)
            throw error
        }
    }

    private struct WorkerEnd: Sendable {
        /// What the worker's end reported (nil: orderly).
        let error: ChannelError?
    }

    /// How the worker ended, from the host's events.
    private static func ended(_ events: AsyncStream<WorkerEvent>, _ id: WorkerID) async throws -> ChannelError? {
        try await within(10, "the worker's end") {
            for await event in events {
                if case .ended(id, _, let error) = event { return WorkerEnd(error: error) }
            }
            throw ConformFailure("the host's events ended without the worker's end")
        }.error
    }
}
