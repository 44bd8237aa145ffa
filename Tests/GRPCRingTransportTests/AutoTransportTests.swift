// `.auto`: the route is chosen once — the rings for a server on this machine whose ring socket
// exists, HTTP/2 (with the caller's transport security) otherwise — and a call goes through either.
#if canImport(Glibc)
import Glibc
#endif
import GRPCCore
import GRPCNIOTransportHTTP2
import GRPCRingAutoTransport
import GRPCRingTransport
import RingTestSupport
import XCTest

final class AutoTransportTests: XCTestCase {
    func testTheRouteFollowsWhereTheServerIs() throws {
        let missing = TransportUnderTest.socketPath()
        let local = try GRPCAutoClientTransport(host: "localhost", port: 1, ringSocketPath: missing, transportSecurity: .plaintext)
        XCTAssertEqual(local.route, .http2(host: "localhost", port: 1), "no ring socket: HTTP/2")
        let remote = try GRPCAutoClientTransport(host: "192.0.2.1", port: 443, ringSocketPath: "/", transportSecurity: .plaintext)
        XCTAssertEqual(remote.route, .http2(host: "192.0.2.1", port: 443))
        XCTAssertTrue(GRPCAutoClientTransport.isLocal("LOCALHOST"))
        XCTAssertFalse(GRPCAutoClientTransport.isLocal("example.invalid"))
    }

    /// One `GRPCAutoServerTransport` serves both routes; a local client takes the rings, a client
    /// forced onto HTTP/2 (no ring socket given) reaches the same service.
    func testOneServerServesBothRoutes() async throws {
        try await withWatchdog(seconds: 120) {
            let ringPath = TransportUnderTest.socketPath()
            defer { unlink(ringPath) }
            let server = GRPCAutoServerTransport(
                ringSocketPath: ringPath, http2Address: .ipv4(host: "127.0.0.1", port: 0), transportSecurity: .plaintext)
            let grpcServer = GRPCServer(transport: server, services: [ConformanceService(events: ServerEvents())])
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await grpcServer.serve() }
                await server.ring.waitUntilListening()
                let port = try await server.http2.listeningAddress.ipv4!.port
                for (ringSocket, expected) in [(ringPath, true), (ringPath + ".none", false)] {
                    let client = try GRPCAutoClientTransport(host: "127.0.0.1", port: port, ringSocketPath: ringSocket, transportSecurity: .plaintext)
                    if case .ring = client.route { XCTAssertTrue(expected) } else { XCTAssertFalse(expected) }
                    let reply = try await withGRPCClient(transport: client) { grpc in
                        try await grpc.unary(
                            request: ClientRequest(message: [7, 7]), descriptor: Conformance.echo,
                            serializer: RawBytesSerializer(), deserializer: RawBytesDeserializer(), options: .defaults) { try $0.message }
                    }
                    XCTAssertEqual(reply, [7, 7])
                }
                grpcServer.beginGracefulShutdown()
                try await group.waitForAll()
            }
        }
    }
}
