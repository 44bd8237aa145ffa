// The handshake cases of `ringbench conform` (Docs/Protocol.md §5): the worker answers HostHello
// with a WorkerHello the host accepts, picks the common version, lets the host reject what does not
// match, and answers function loads.
import RingChannel
import RingCore

extension ConformCase {
    static let handshake: [ConformCase] = [
        ConformCase(name: "handshake", requirement: "answer HostHello with a WorkerHello the host accepts (§5)") { session in
            try await session.withWorker { host, id in
                guard let hello = host.workers.first(where: { $0.id == id })?.hello else { throw ConformFailure("no WorkerHello recorded") }
                guard hello.protocolVersion == 1 else { throw ConformFailure("chose version \(hello.protocolVersion), expected 1") }
                return "runtime \"\(hello.runtime)\", wait backend \(hello.waitBackend), maxConcurrency \(hello.maxConcurrency)"
            }
        },
        ConformCase(name: "version-range", requirement: "choose min(host.max, worker.max) when the host speaks 1…3") { session in
            try await session.withWorker({ $0.protocolVersions = 1...3 }) { host, id in
                let hello = host.workers.first { $0.id == id }?.hello
                guard hello?.protocolVersion == 1 else { throw ConformFailure("chose version \(hello.map { "\($0.protocolVersion)" } ?? "none") from 1…3") }
                return "host 1…3, worker \(hello!.protocolVersions), chose 1"
            }
        },
        ConformCase(name: "version-mismatch", requirement: "with no common version, answer (chosenVersion 0) and be rejected") { session in
            let mismatch = try await rejection(session) { $0.protocolVersions = 2...2 }
            guard case .protocolVersion(_, _, let chosen) = mismatch else { throw ConformFailure("rejected for \(mismatch), expected a protocol version mismatch") }
            return "rejected: \(mismatch)\(chosen == 0 ? "" : " (chose \(chosen); 0 is the rule)")"
        },
        ConformCase(name: "missing-capability", requirement: "be rejected when the host requires a capability the worker lacks") { session in
            let mismatch = try await rejection(session) { $0.requiredWorkerCapabilities = ["conform.required"] }
            guard mismatch == .missingCapabilities(side: .worker, missing: ["conform.required"]) else {
                throw ConformFailure("rejected for \(mismatch), expected the missing capability conform.required")
            }
            return "rejected: \(mismatch)"
        },
        ConformCase(name: "host-capabilities", requirement: "accept a HostHello that announces capabilities it does not know") { session in
            try await session.withWorker({ $0.capabilities = ["conform.unknown": "1", "z": ""] }) { host, _ in
                try await ConformSession.echo(host, [1, 2, 3], id: 1)
                return "accepted, echo answered"
            }
        },
        ConformCase(name: "function-load", requirement: "answer workerInit and each functionLoad, then take invocations (§6)") { session in
            let host = try session.host()
            do {
                try await host.loadFunction("echo", metadata: [0xC0, 0xDE])
                try await host.loadFunction("conform.other", metadata: [])
                _ = try await within(30, "worker start") { try await host.addWorker(session.launch) }
                try await ConformSession.echo(host, conformPayload(100, seed: 3), id: 3)
                await host.shutdown(gracePeriod: .seconds(2))
            } catch {
                await host.shutdown(gracePeriod: .zero)
                throw error
            }
            return "2 loads answered with success, then echo"
        },
    ]

    /// Starts a worker that must be rejected; returns the mismatch.
    private static func rejection(_ session: ConformSession, _ configure: (inout FunctionHostConfiguration) -> Void) async throws -> HandshakeMismatch {
        let host = try session.host(configure)
        let outcome: Result<HandshakeMismatch, ConformFailure>
        do {
            _ = try await within(30, "worker start") { try await host.addWorker(session.launch) }
            outcome = .failure(ConformFailure("the host accepted the worker"))
        } catch ChannelError.handshakeRejected(_, _, let mismatch) {
            outcome = .success(mismatch)
        } catch let failure as ConformFailure {
            outcome = .failure(failure)
        } catch {
            outcome = .failure(ConformFailure("the start failed with \(error), expected a handshake rejection"))
        }
        await host.shutdown(gracePeriod: .zero)
        return try outcome.get()
    }
}
