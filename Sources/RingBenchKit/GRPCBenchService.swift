// GRPCBenchService — the service `ringbench grpc` measures (raw-byte echo, unary and bidirectional)
// and the server side of the measurement, run in its own process by `ringbench _grpc-server`.
import GRPCCore
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
        case .h2Unix, .h2TCP:
            let socketAddress: GRPCNIOTransportCore.SocketAddress =
                transport == .h2Unix ? .unixDomainSocket(path: address) : .ipv4(host: "127.0.0.1", port: Int(address) ?? 0)
            let serverTransport = HTTP2ServerTransport.Posix(
                address: socketAddress, transportSecurity: .plaintext,
                config: .defaults { $0.rpc.maxRequestPayloadSize = GRPCBenchMethods.maxMessageBytes })
            let server = GRPCServer(transport: serverTransport, services: services)
            try await withThrowingDiscardingTaskGroup { group in
                group.addTask { try await server.serve() }
                let bound = try await serverTransport.listeningAddress
                if transport == .h2TCP, let ipv4 = bound.ipv4 { announce("ready \(ipv4.port)") } else { announce("ready \(address)") }
            }
        }
    }

    /// Writes `line` to stdout unbuffered (the parent reads it through a pipe).
    private static func announce(_ line: String) {
        let bytes = Array((line + "\n").utf8)
        _ = bytes.withUnsafeBytes { write(1, $0.baseAddress, $0.count) }
    }
}
