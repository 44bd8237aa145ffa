// TransportUnderTest — what the conformance suite runs against: the ring transport and, as the
// reference, grpc-swift-nio-transport's HTTP/2 over a Unix socket. Each starts a GRPCServer with the
// conformance service and hands the test a connected client (type-erased as `Caller`).
#if canImport(Glibc)
import Glibc
#endif
import GRPCCore
import GRPCNIOTransportHTTP2
import GRPCRingTransport

/// The four call shapes of GRPCClient, without its transport type.
protocol Caller: Sendable {
    func bidirectionalStreaming<Request, Response, ReturnValue: Sendable>(
        request: StreamingClientRequest<Request>, descriptor: MethodDescriptor,
        serializer: some MessageSerializer<Request>, deserializer: some MessageDeserializer<Response>, options: CallOptions,
        onResponse handleResponse: @Sendable @escaping (StreamingClientResponse<Response>) async throws -> ReturnValue
    ) async throws -> ReturnValue
    func unary<Request, Response, ReturnValue: Sendable>(
        request: ClientRequest<Request>, descriptor: MethodDescriptor,
        serializer: some MessageSerializer<Request>, deserializer: some MessageDeserializer<Response>, options: CallOptions,
        onResponse handleResponse: @Sendable @escaping (ClientResponse<Response>) async throws -> ReturnValue
    ) async throws -> ReturnValue
    func clientStreaming<Request, Response, ReturnValue: Sendable>(
        request: StreamingClientRequest<Request>, descriptor: MethodDescriptor,
        serializer: some MessageSerializer<Request>, deserializer: some MessageDeserializer<Response>, options: CallOptions,
        onResponse handleResponse: @Sendable @escaping (ClientResponse<Response>) async throws -> ReturnValue
    ) async throws -> ReturnValue
    func serverStreaming<Request, Response, ReturnValue: Sendable>(
        request: ClientRequest<Request>, descriptor: MethodDescriptor,
        serializer: some MessageSerializer<Request>, deserializer: some MessageDeserializer<Response>, options: CallOptions,
        onResponse handleResponse: @Sendable @escaping (StreamingClientResponse<Response>) async throws -> ReturnValue
    ) async throws -> ReturnValue
}

extension GRPCClient: Caller {}

/// The server side a test may act on.
protocol ServerControl: Sendable {
    func beginGracefulShutdown()
    /// Cancels the task running `serve()` (an abrupt stop).
    func cancelServing()
}

/// A `GRPCServer` and the task that serves it.
struct ServedServer<Transport: ServerTransport>: ServerControl {
    let server: GRPCServer<Transport>
    let serving: Task<Void, any Error>

    func beginGracefulShutdown() { server.beginGracefulShutdown() }
    func cancelServing() { serving.cancel() }
}

enum TransportUnderTest: String, Sendable, CaseIterable {
    case ring
    case h2Unix = "h2-unix"

    /// Messages up to this size must pass (16 MiB tests + framing headroom).
    static let maxMessageBytes = 32 << 20

    static var callOptions: CallOptions {
        var options = CallOptions.defaults
        options.maxRequestMessageBytes = maxMessageBytes
        options.maxResponseMessageBytes = maxMessageBytes
        return options
    }

    /// Runs `body` with a client connected to a server serving `ConformanceService`; when `body`
    /// returns, shuts both down and waits for them.
    func withClient(
        events: ServerEvents, _ body: @Sendable (any Caller, any ServerControl) async throws -> Void
    ) async throws {
        let path = Self.socketPath()
        defer { unlink(path) }
        let service = ConformanceService(events: events)
        switch self {
        case .ring:
            let serverTransport = GRPCRingServerTransport(socketPath: path)
            let server = GRPCServer(transport: serverTransport, services: [service])
            let served = ServedServer(server: server, serving: Task { try await server.serve() })
            await serverTransport.waitUntilListening()
            try await withGRPCClient(transport: GRPCRingClientTransport(socketPath: path)) { client in
                try await body(client, served)
            }
            server.beginGracefulShutdown()
            try await Self.finished(served)
        case .h2Unix:
            let serverTransport = HTTP2ServerTransport.Posix(
                address: .unixDomainSocket(path: path), transportSecurity: .plaintext,
                config: .defaults { $0.rpc.maxRequestPayloadSize = Self.maxMessageBytes })
            let server = GRPCServer(transport: serverTransport, services: [service])
            let served = ServedServer(server: server, serving: Task { try await server.serve() })
            _ = try await serverTransport.listeningAddress
            // The client may compress (a call chooses); the server, as by default, enables nothing.
            let clientTransport = try HTTP2ClientTransport.Posix(
                target: .unixDomainSocket(path: path), transportSecurity: .plaintext,
                config: .defaults { $0.compression.enabledAlgorithms = [.gzip, .deflate] })
            try await withGRPCClient(transport: clientTransport) { client in
                try await body(client, served)
            }
            server.beginGracefulShutdown()
            try await Self.finished(served)
        }
    }

    /// Waits for `serve()` to return; its error counts unless the test cancelled it.
    static func finished<Transport>(_ served: ServedServer<Transport>) async throws {
        do { try await served.serving.value } catch where served.serving.isCancelled {}
    }

    static func socketPath() -> String {
        "/tmp/grpc-ring-test-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).sock"
    }
}
