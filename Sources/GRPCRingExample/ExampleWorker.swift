import GRPCCore
import GRPCRingAutoTransport
import GRPCRingTransport
#if canImport(Glibc)
import Glibc
#endif

/// The worker: a gRPC client of the host's `EventStream`. Same code over either route.
enum ExampleWorker {
    static func run(host: String, port: Int, ringSocket: String) async throws {
        let transport = try GRPCAutoClientTransport(host: host, port: port, ringSocketPath: ringSocket, transportSecurity: .plaintext)
        print("worker \(getpid()): route \(transport.route)")
        try await withGRPCClient(transport: transport) { client in
            let (outbox, send) = AsyncStream<StreamingMessage>.makeStream()
            let request = StreamingClientRequest<StreamingMessage> { writer in
                try await writer.write(.startStream(workerID: "worker-\(getpid())"))
                for await message in outbox { try await writer.write(message) }
            }
            try await client.bidirectionalStreaming(
                request: request, descriptor: FunctionRpc.eventStream,
                serializer: StreamingMessageSerializer(), deserializer: StreamingMessageDeserializer(), options: .defaults
            ) { response in
                for try await message in response.messages {
                    switch message {
                    case .workerInitRequest:
                        send.yield(.workerInitResponse(workerVersion: "example-1.0", ok: true))
                    case .invocationRequest(let id, _, let payload):
                        let upper = String(decoding: payload, as: UTF8.self).uppercased()
                        send.yield(.invocationResponse(invocationID: id, ok: true, payload: Array(upper.utf8)))
                    default:
                        throw RPCError(code: .invalidArgument, message: "unexpected \(message)")
                    }
                }
                send.finish()
            }
        }
        print("worker \(getpid()): stream ended")
    }
}
