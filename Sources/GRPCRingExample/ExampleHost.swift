import GRPCCore
import GRPCNIOTransportHTTP2
import GRPCRingAutoTransport
import GRPCRingTransport
import RingLinux
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The host: serves `EventStream` on the rings and on HTTP/2; for each worker stream, initialises
/// the worker and sends it `invocations` invocations, printing each response.
struct ExampleHost: RegistrableRPCService {
    let invocations: Int
    let done: @Sendable () -> Void

    func registerMethods<Transport: ServerTransport>(with router: inout RPCRouter<Transport>) {
        let invocations = invocations
        let done = done
        router.registerHandler(
            forMethod: FunctionRpc.eventStream, deserializer: StreamingMessageDeserializer(), serializer: StreamingMessageSerializer()
        ) { request, context in
            StreamingServerResponse { writer in
                var messages = request.messages.makeAsyncIterator()
                guard case .startStream(let workerID) = try await messages.next() else {
                    throw RPCError(code: .failedPrecondition, message: "expected StartStream")
                }
                print("host: worker \(workerID) connected from \(context.remotePeer)")
                try await writer.write(.workerInitRequest(hostVersion: "4.0-ring"))
                guard case .workerInitResponse(let version, true) = try await messages.next() else {
                    throw RPCError(code: .failedPrecondition, message: "worker init failed")
                }
                print("host: worker \(workerID) initialised (\(version))")
                for index in 0..<invocations {
                    let id = "inv-\(index)"
                    try await writer.write(.invocationRequest(invocationID: id, functionID: "uppercase", payload: Array("hello \(index)".utf8)))
                    guard case .invocationResponse(id, true, let payload) = try await messages.next() else {
                        throw RPCError(code: .dataLoss, message: "no response to \(id)")
                    }
                    print("host: \(id) → \(String(decoding: payload, as: UTF8.self))")
                }
                done()
                return [:]
            }
        }
    }

    /// Serves until `invocations` ran (when `worker` is given, spawns it as a child process first).
    static func serve(ringSocket: String, port: Int, invocations: Int, worker: String?) async throws {
        let finished = AsyncStream<Void>.makeStream()
        let service = ExampleHost(invocations: invocations, done: { finished.continuation.yield() })
        let transport = GRPCAutoServerTransport(ringSocketPath: ringSocket, http2Address: .ipv4(host: "127.0.0.1", port: port), transportSecurity: .plaintext)
        let server = GRPCServer(transport: transport, services: [service])
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await server.serve() }
            await transport.ring.waitUntilListening()
            let address = try await transport.http2.listeningAddress
            let boundPort = address.ipv4?.port ?? port
            print("host: serving EventStream on ring \(ringSocket) and HTTP/2 127.0.0.1:\(boundPort)")
            var child: ChildProcess?
            if let worker {
                child = try ChildProcess(
                    executable: ProcessEnvironment.executablePath(), arguments: ["worker", "127.0.0.1", "\(boundPort)", worker],
                    inherit: [1: 1, 2: 2])
            }
            for await _ in finished.stream { break }
            if let child { _ = try child.wait() }
            server.beginGracefulShutdown()
            try await group.waitForAll()
        }
    }
}
