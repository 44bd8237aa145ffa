// GRPCAutoClientTransport — `.auto`: one client transport that talks to a server over the rings
// when it is on this machine (the host is a loopback name or this machine's own name, and the
// server's ring socket exists) and over HTTP/2 otherwise. Service code is the same either way.
public import GRPCCore
public import GRPCNIOTransportHTTP2
import GRPCRingTransport
#if canImport(Glibc)
import Glibc
#endif

public final class GRPCAutoClientTransport: ClientTransport {
    public typealias Bytes = [UInt8]

    /// Which way this transport's calls go (decided once, at construction).
    public enum Route: Sendable, Equatable {
        case ring(socketPath: String)
        case http2(host: String, port: Int)
    }

    public let route: Route
    private let ring: GRPCRingClientTransport?
    private let http2: HTTP2ClientTransport.Posix?

    /// - Parameters:
    ///   - host, port: the server's HTTP/2 address (used when the server is elsewhere).
    ///   - ringSocketPath: where a same-machine server's ring transport listens.
    ///   - transportSecurity, config: the HTTP/2 route's, exactly as `HTTP2ClientTransport.Posix`
    ///     takes them (`.tls` for remote servers); the rings never leave the machine and need none.
    public init(
        host: String, port: Int, ringSocketPath: String, transportSecurity: HTTP2ClientTransport.Posix.TransportSecurity,
        config: HTTP2ClientTransport.Posix.Config = .defaults, serviceConfig: ServiceConfig = ServiceConfig()
    ) throws {
        if Self.isLocal(host) && access(ringSocketPath, F_OK) == 0 {
            route = .ring(socketPath: ringSocketPath)
            ring = GRPCRingClientTransport(socketPath: ringSocketPath, serviceConfig: serviceConfig)
            http2 = nil
        } else {
            route = .http2(host: host, port: port)
            ring = nil
            http2 = try HTTP2ClientTransport.Posix(
                target: .dns(host: host, port: port), transportSecurity: transportSecurity, config: config, serviceConfig: serviceConfig)
        }
    }

    /// Whether `host` names this machine.
    public static func isLocal(_ host: String) -> Bool {
        if ["localhost", "127.0.0.1", "::1", "[::1]"].contains(host.lowercased()) { return true }
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return false }
        let name = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return host.lowercased() == name.lowercased()
    }

    public var retryThrottle: RetryThrottle? { ring?.retryThrottle ?? http2?.retryThrottle }

    public func connect() async throws {
        if let ring { try await ring.connect() } else { try await http2!.connect() }
    }

    public func beginGracefulShutdown() {
        ring?.beginGracefulShutdown()
        http2?.beginGracefulShutdown()
    }

    public func config(forMethod descriptor: MethodDescriptor) -> MethodConfig? {
        ring?.config(forMethod: descriptor) ?? http2?.config(forMethod: descriptor)
    }

    public func withStream<T: Sendable>(
        descriptor: MethodDescriptor, options: CallOptions,
        _ closure: (RPCStream<Inbound, Outbound>, ClientContext) async throws -> T
    ) async throws -> T {
        if let ring { return try await ring.withStream(descriptor: descriptor, options: options, closure) }
        return try await http2!.withStream(descriptor: descriptor, options: options) { stream, context in
            let bridged = RPCStream(
                descriptor: stream.descriptor,
                inbound: RPCAsyncSequence(wrapping: stream.inbound.map { BytesBridge.response($0) }),
                outbound: RPCWriter.Closable(wrapping: BridgingWriter(underlying: stream.outbound) { BytesBridge.request($0) }))
            return try await closure(bridged, context)
        }
    }
}
