// GRPCAutoServerTransport — the server half of `.auto`: serves the same services over the rings
// (for clients on this machine) and over HTTP/2 (for the rest) at once, through one stream handler.
public import GRPCCore
public import GRPCNIOTransportHTTP2
public import GRPCRingTransport

public final class GRPCAutoServerTransport: ServerTransport {
    public typealias Bytes = [UInt8]

    public let ring: GRPCRingServerTransport
    public let http2: HTTP2ServerTransport.Posix

    /// - Parameters:
    ///   - transportSecurity, http2Config: the HTTP/2 listener's, exactly as `HTTP2ServerTransport.Posix`
    ///     takes them (`.tls` for remote clients); the rings never leave the machine and need none.
    public init(
        ringSocketPath: String, http2Address: GRPCNIOTransportCore.SocketAddress, transportSecurity: HTTP2ServerTransport.Posix.TransportSecurity,
        http2Config: HTTP2ServerTransport.Posix.Config = .defaults
    ) {
        ring = GRPCRingServerTransport(socketPath: ringSocketPath)
        http2 = HTTP2ServerTransport.Posix(address: http2Address, transportSecurity: transportSecurity, config: http2Config)
    }

    public func configure(context: GRPCServerContext) {
        ring.configure(context: context)
        http2.configure(context: context)
    }

    public func listen(
        streamHandler: @escaping @Sendable (RPCStream<Inbound, Outbound>, ServerContext) async -> Void
    ) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await self.ring.listen(streamHandler: streamHandler) }
            group.addTask {
                try await self.http2.listen { stream, context in
                    let bridged = RPCStream(
                        descriptor: stream.descriptor,
                        inbound: RPCAsyncSequence(wrapping: stream.inbound.map { BytesBridge.request($0) }),
                        outbound: RPCWriter.Closable(wrapping: BridgingWriter(underlying: stream.outbound) { BytesBridge.response($0) }))
                    await streamHandler(bridged, context)
                }
            }
            try await group.waitForAll()
        }
    }

    public func beginGracefulShutdown() {
        ring.beginGracefulShutdown()
        http2.beginGracefulShutdown()
    }
}
