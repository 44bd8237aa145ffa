#if canImport(Glibc)
import Glibc
#endif
import GRPCCore
import GRPCNIOTransportHTTP2
import GRPCRingTransport
import RingLinux

/// A gRPC server in another process (GRPCRingFixture, built beside the test bundle), for tests that
/// kill the server. `start` returns once the fixture printed "ready" (it is listening).
struct FixtureServer {
    let process: ChildProcess
    let socketPath: String

    /// - Parameter path: the socket path (a new one when nil; a killed fixture's to restart it).
    static func start(_ transport: TransportUnderTest, path: String? = nil) throws -> FixtureServer {
        let testBinary = ProcessEnvironment.executablePath()
        let directory = testBinary[..<testBinary.lastIndex(of: "/")!]
        let path = path ?? TransportUnderTest.socketPath()
        // Blocks until the fixture is listening (the test's watchdog bounds it).
        let (process, _) = try ChildProcess.spawnAnnouncing(
            executable: "\(directory)/GRPCRingFixture", arguments: [transport.rawValue, path], expectedPrefix: "ready")
        return FixtureServer(process: process, socketPath: path)
    }

    func kill() throws {
        process.kill(SIGKILL)
        _ = try process.wait()
        unlink(socketPath)
    }
}

extension TransportUnderTest {
    /// Runs `body` with a client of this transport connected to a fixture server at `socketPath`.
    func withFixtureClient(socketPath: String, _ body: @Sendable (any Caller) async throws -> Void) async throws {
        switch self {
        case .ring:
            try await withGRPCClient(transport: GRPCRingClientTransport(socketPath: socketPath)) { try await body($0) }
        case .h2Unix:
            let clientTransport = try HTTP2ClientTransport.Posix(target: .unixDomainSocket(path: socketPath), transportSecurity: .plaintext)
            try await withGRPCClient(transport: clientTransport) { try await body($0) }
        }
    }
}
