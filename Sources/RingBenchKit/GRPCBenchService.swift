// GRPCBenchService — the service `ringbench grpc` measures (raw-byte echo, unary and bidirectional)
// and the server side of the measurement, run in its own process by `ringbench _grpc-server`.
import GRPCCore
import GRPCInProcessTransport
import GRPCNIOTransportHTTP2
import GRPCRingTransport
#if canImport(Glibc)
import Glibc
#endif

enum GRPCBenchMethods {
    static let unary = MethodDescriptor(fullyQualifiedService: "ringbench.Bench", method: "Unary")
    static let stream = MethodDescriptor(fullyQualifiedService: "ringbench.Bench", method: "Stream")
    /// Largest message the benchmark allows through either transport.
    static let maxMessageBytes = 32 << 20
    /// HTTP/2 flow-control window (per stream and per connection) of both HTTP/2 ends. NIOHTTP2
    /// sends a stream's WINDOW_UPDATE once the stream has consumed half its window. With the
    /// server's default window (65,535 bytes, while the client's default is 8 MiB) every 64 KiB
    /// request (65,541 bytes with the gRPC prefix) exhausted its stream's window: one flow-control
    /// round trip per RPC, and — with many streams in flight — a WINDOW_UPDATE emitted after the
    /// client's END_STREAM, which NIOHTTP2 rejects (BadStreamStateTransition from
    /// halfClosedRemoteLocalIdle) and grpc-swift-nio-transport's server treats as fatal to the
    /// connection: every RPC on it failed with `unavailable: "Stream unexpectedly closed."`.
    /// Twice the largest message keeps every stream above half its window: no stream WINDOW_UPDATE.
    static let http2WindowBytes = 2 * maxMessageBytes
}

struct GRPCBenchService: RegistrableRPCService {
    func registerMethods<Transport: ServerTransport>(with router: inout RPCRouter<Transport>) {
        router.registerHandler(
            forMethod: GRPCBenchMethods.unary, deserializer: RawBytesDeserializer(), serializer: RawBytesSerializer()
        ) { request, _ in
            var reply: [UInt8] = []
            for try await message in request.messages { reply = message }
            return StreamingServerResponse(single: ServerResponse(message: reply))
        }
        router.registerHandler(
            forMethod: GRPCBenchMethods.stream, deserializer: RawBytesDeserializer(), serializer: RawBytesSerializer()
        ) { request, _ in
            StreamingServerResponse { writer in
                for try await message in request.messages { try await writer.write(message) }
                return [:]
            }
        }
    }
}

enum GRPCBenchServer {
    /// Serves the benchmark service on `transport` at `address` (a socket path, or a TCP port on
    /// 127.0.0.1 — 0 picks one); prints "ready <address>" once listening; runs until killed.
    static func run(transport: GRPCBenchTransport, address: String) async throws {
        let services: [any RegistrableRPCService] = [GRPCBenchService()]
        switch transport {
        case .ring:
            let serverTransport = GRPCRingServerTransport(socketPath: address)
            let server = GRPCServer(transport: serverTransport, services: services)
            try await withThrowingDiscardingTaskGroup { group in
                group.addTask { try await server.serve() }
                await serverTransport.waitUntilListening()
                announce("ready \(address)")
            }
        case .inProcess:
            throw RPCError(code: .invalidArgument, message: "the in-process transport has no server process")
        case .h2Unix, .h2TCP:
            let socketAddress: GRPCNIOTransportCore.SocketAddress =
                transport == .h2Unix ? .unixDomainSocket(path: address) : .ipv4(host: "127.0.0.1", port: Int(address) ?? 0)
            let serverTransport = HTTP2ServerTransport.Posix(
                address: socketAddress, transportSecurity: .plaintext,
                config: .defaults {
                    $0.rpc.maxRequestPayloadSize = GRPCBenchMethods.maxMessageBytes
                    $0.http2.targetWindowSize = GRPCBenchMethods.http2WindowBytes
                })
            let server = GRPCServer(transport: serverTransport, services: services)
            try await withThrowingDiscardingTaskGroup { group in
                group.addTask { try await server.serve() }
                let bound = try await serverTransport.listeningAddress
                if transport == .h2TCP, let ipv4 = bound.ipv4 { announce("ready \(ipv4.port)") } else { announce("ready \(address)") }
            }
        }
    }

    /// Serves the benchmark service over GRPCCore's in-process transport while `body` runs with a
    /// client of it; the server stops when `body` returns.
    static func withInProcess<Result: Sendable>(
        _ body: @Sendable @escaping (GRPCClient<InProcessTransport.Client>) async throws -> Result
    ) async throws -> Result {
        let inProcess = InProcessTransport()
        let server = GRPCServer(transport: inProcess.server, services: [GRPCBenchService()])
        return try await withThrowingTaskGroup(of: Result?.self) { group in
            group.addTask {
                try await server.serve()
                return nil
            }
            defer { server.beginGracefulShutdown() }
            return try await withGRPCClient(transport: inProcess.client) { try await body($0) }
        }
    }

    /// Writes `line` to stdout unbuffered (the parent reads it through a pipe).
    private static func announce(_ line: String) {
        let bytes = Array((line + "\n").utf8)
        _ = bytes.withUnsafeBytes { write(1, $0.baseAddress, $0.count) }
    }
}
