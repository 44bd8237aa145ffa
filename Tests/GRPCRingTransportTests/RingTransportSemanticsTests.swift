// Ring-transport specifics beyond the shared suite: GRPCCore's ClientTransport lifecycle rules,
// peers, refusal of new streams while the server drains.
#if canImport(Glibc)
import Glibc
#endif
import GRPCCore
@testable import GRPCRingTransport
import RingCore
import RingLinux
import RingTestSupport
import XCTest

final class RingTransportSemanticsTests: XCTestCase {
    let raw = (serializer: RawBytesSerializer(), deserializer: RawBytesDeserializer())

    /// Runs a ring server with the conformance service around `body`.
    private func withRingServer(
        events: ServerEvents = ServerEvents(), _ body: @Sendable (String, GRPCServer<GRPCRingServerTransport>) async throws -> Void
    ) async throws {
        let path = TransportUnderTest.socketPath()
        defer { unlink(path) }
        let transport = GRPCRingServerTransport(socketPath: path)
        let server = GRPCServer(transport: transport, services: [ConformanceService(events: events)])
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await server.serve() }
            await transport.waitUntilListening()
            try await body(path, server)
            server.beginGracefulShutdown()
            try await group.waitForAll()
        }
    }

    /// A send waiting for space when the link's reactor shuts down fails with `unavailable`, an
    /// RPCError — not a foreign error that GRPCCore's request writer would report as
    /// `unknown: "Write failed."`.
    func testASendWaitingForSpaceWhenTheReactorStopsIsUnavailable() async throws {
        let segment = try SharedMemorySegment.create(
            configuration: SegmentConfiguration(hostToWorkerCapacity: 4096, workerToHostCapacity: 4096, maxMessageSize: 64 << 10))
        let reactor = try RingLink.makeReactor()
        let link = RingLink(segment: segment, reactor: reactor, peerPID: getpid(), localPID: getpid(), limits: StreamWireLimits())
        // Nobody reads: fill the ring, then one more message must wait for space.
        let chunk = [UInt8](repeating: 7, count: 512)
        var sent = 0
        while try chunk.withUnsafeBytes({ try link.sender.writer.tryWrite(kind: .streamMessage, streamId: 1, payload: $0) }) == .written {
            sent += 1
        }
        XCTAssertGreaterThan(sent, 0)
        try await withWatchdog(seconds: 60) {
            let waiting = Task { try await link.send(.streamMessage, streamId: 1, payload: chunk) }
            // The send is now waiting (spin, yield, then a sleep on the reactor); stopping the reactor
            // ends that wait however far it got.
            reactor.shutdown()
            do {
                try await waiting.value
                XCTFail("a send into a full ring nobody reads succeeded")
            } catch let error as RPCError {
                XCTAssertEqual(error.code, .unavailable, "\(error)")
            } catch {
                XCTFail("expected RPCError(.unavailable), got \(type(of: error)): \(error)")
            }
        }
    }

    /// One raw unary echo through `withStream`.
    private static func echo(_ transport: GRPCRingClientTransport, _ payload: [UInt8]) async throws -> [RPCResponsePart<[UInt8]>] {
        try await transport.withStream(descriptor: Conformance.echo, options: .defaults) { stream, _ in
            try await stream.outbound.write(.metadata([:]))
            try await stream.outbound.write(.message(payload))
            await stream.outbound.finish()
            var parts: [RPCResponsePart<[UInt8]>] = []
            for try await part in stream.inbound { parts.append(part) }
            return parts
        }
    }

    /// Client transports of one process share one reactor thread, started with the first
    /// connection and stopped with the last.
    func testClientConnectionsShareOneReactor() async throws {
        try await withWatchdog(seconds: 60) {
            try await withRingServer { path, _ in
                let before = SharedClientReactor.users  // connections of other tests, if any
                let first = GRPCRingClientTransport(socketPath: path)
                let second = GRPCRingClientTransport(socketPath: path)
                let connections = [Task { try await first.connect() }, Task { try await second.connect() }]
                _ = try await Self.echo(first, [1])
                _ = try await Self.echo(second, [2])
                let reactors = try [XCTUnwrap(first.currentConnection), XCTUnwrap(second.currentConnection)].map(\.link.reactor)
                XCTAssertTrue(reactors[0] === reactors[1])
                XCTAssertEqual(SharedClientReactor.users, before + 2)
                first.beginGracefulShutdown()
                try await connections[0].value
                XCTAssertEqual(SharedClientReactor.users, before + 1)
                second.beginGracefulShutdown()
                try await connections[1].value
                XCTAssertEqual(SharedClientReactor.users, before)
            }
        }
    }

    /// A client pointed at a socket that hands over a link of another protocol (a function host's)
    /// fails `connect()` with `unavailable`, the LinkError naming both protocols as its cause — and
    /// keeps no descriptor it was sent.
    func testASocketOfAnotherProtocolIsUnavailableWithTheLinkError() async throws {
        try await withWatchdog(seconds: 60) {
            let path = TransportUnderTest.socketPath()
            defer { unlink(path) }
            let segment = try SharedMemorySegment.create(name: "grpc-wrong-protocol-test")
            let listener = try LinkListener(
                path: path, allowedUIDs: [getuid()], onFailure: { _, _, _ in },
                onAccept: { socket, _ in
                    defer { close(socket) }
                    try? LinkHandOver.offer(LinkGreeting(linkProtocol: .ringChannel, pid: getpid(), backend: .ioUringFutex, name: "worker-0"), segment: segment, on: socket)
                })
            defer { listener.stop() }
            let before = ProcessResources.descriptors(matching: "grpc-wrong-protocol-test")
            let transport = GRPCRingClientTransport(socketPath: path)
            do {
                try await transport.connect()
                XCTFail("connected to a function host's socket")
            } catch let error as RPCError {
                XCTAssertEqual(error.code, .unavailable)
                XCTAssertEqual(error.cause as? LinkError, .protocolMismatch(offered: "ringchannel", expected: .grpc))
            }
            XCTAssertEqual(ProcessResources.descriptors(matching: "grpc-wrong-protocol-test"), before)
        }
    }

    func testStreamOpenedBeforeConnectWaitsForIt() async throws {
        try await withWatchdog(seconds: 60) {
            try await withRingServer { path, _ in
                let transport = GRPCRingClientTransport(socketPath: path)
                let call = Task { try await Self.echo(transport, [9, 8, 7]) }
                let connection = Task { try await transport.connect() }
                let parts = try await call.value
                XCTAssertEqual(parts.count, 3)
                if case .message(let bytes) = parts[1] { XCTAssertEqual(bytes, [9, 8, 7]) } else { XCTFail("\(parts)") }
                if case .status(let status, _) = parts[2] { XCTAssertEqual(status.code, .ok) } else { XCTFail("\(parts)") }
                transport.beginGracefulShutdown()
                try await connection.value
            }
        }
    }

    func testNewStreamAfterClientGracefulShutdownFailsWithFailedPrecondition() async throws {
        try await withWatchdog(seconds: 60) {
            try await withRingServer { path, _ in
                let transport = GRPCRingClientTransport(socketPath: path)
                let connection = Task { try await transport.connect() }
                _ = try await Self.echo(transport, [1])
                transport.beginGracefulShutdown()
                do {
                    _ = try await Self.echo(transport, [2])
                    XCTFail("a stream opened after shutdown")
                } catch let error as RPCError {
                    XCTAssertEqual(error.code, .failedPrecondition)
                }
                try await connection.value  // returns: no streams open
            }
        }
    }

    func testNewStreamWhileServerDrainsIsRefusedWithUnavailable() async throws {
        try await withWatchdog(seconds: 60) {
            try await withRingServer { path, server in
                let transport = GRPCRingClientTransport(socketPath: path)
                let connection = Task { try await transport.connect() }
                let (release, released) = AsyncStream<Void>.makeStream()
                let (begun, begin) = AsyncStream<Void>.makeStream()
                // An open stream keeps the connection (and the server) draining rather than closed.
                let open = Task {
                    try await transport.withStream(descriptor: Conformance.chat, options: .defaults) { stream, _ in
                        try await stream.outbound.write(.metadata([:]))
                        try await stream.outbound.write(.message([1]))
                        var iterator = stream.inbound.makeAsyncIterator()
                        _ = try await iterator.next()  // metadata
                        _ = try await iterator.next()  // echo: the stream is established
                        server.beginGracefulShutdown()
                        begin.yield()
                        for await _ in release { break }
                        await stream.outbound.finish()
                        while try await iterator.next() != nil {}
                    }
                }
                for await _ in begun { break }
                let parts = try await Self.echo(transport, [2])
                guard case .status(let status, _) = parts.last else { return XCTFail("\(parts)") }
                XCTAssertEqual(status.code, .unavailable)
                XCTAssertEqual(parts.count, 1)
                released.yield()
                try await open.value
                transport.beginGracefulShutdown()
                try await connection.value
            }
        }
    }

    func testPeersNameBothProcesses() async throws {
        let raw = raw
        try await withWatchdog(seconds: 60) {
            try await withRingServer { path, _ in
                try await withGRPCClient(transport: GRPCRingClientTransport(socketPath: path)) { client in
                    let seen = try await client.unary(
                        request: ClientRequest(message: []), descriptor: Conformance.peers,
                        serializer: raw.serializer, deserializer: raw.deserializer, options: .defaults) { try $0.message }
                    XCTAssertEqual(String(decoding: seen, as: UTF8.self), "ring:pid=\(getpid())|ring:pid=\(getpid())")
                }
            }
        }
    }

    /// Stream ids are the client's: after resetting a stream it may open a new one under the same
    /// id. Per id (raw frames, a method that parks until cancelled): open, wait until the handler
    /// parked, reset and reopen back to back, wait until the first handler saw its cancellation,
    /// then reset again. Every handler must be cancelled and the connection stay healthy, so the
    /// server's graceful shutdown completes (a handler that never learns of its reset parks
    /// forever; the watchdog ends that). The server matches a stream's end to its writer, so a
    /// first handler whose status crosses the reset cannot remove the second stream's entry — an
    /// interleaving this test cannot force.
    func testStreamIdReopenedAfterResetCancelsBothHandlers() async throws {
        try await withWatchdog(seconds: 120) {
            let events = ServerEvents()
            try await withRingServer(events: events) { path, _ in
                let transport = GRPCRingClientTransport(socketPath: path)
                let connecting = Task { try await transport.connect() }
                let first = try await Self.echo(transport, [1])
                XCTAssertEqual(first.count, 3)
                let connection = try XCTUnwrap(transport.currentConnection)
                let open = StreamWire.encodeOpen(method: "/" + Conformance.park.fullyQualifiedMethod, metadata: [:], message: nil)
                let reset = StreamWire.encodeReset(code: .cancelled, message: "raw reset")
                for _ in 0..<20 {
                    let (id, responses, _) = try connection.open()
                    try await connection.link.send(.streamOpen, streamId: id, payload: open)
                    var parts = responses.makeAsyncIterator()
                    guard case .metadata = try await parts.next(), case .message(let parked) = try await parts.next() else {
                        return XCTFail("the parking handler did not answer")
                    }
                    XCTAssertEqual(parked, Array("parked".utf8))
                    // From here the client ignores whatever the server answers on this id.
                    XCTAssertTrue(connection.close(id, error: RPCError(code: .cancelled, message: "raw stream")))
                    try await connection.link.send(.streamReset, streamId: id, payload: reset)
                    try await connection.link.send(.streamOpen, streamId: id, payload: open)
                    let event = await events.next()
                    XCTAssertEqual(event, "park cancelled")
                    _ = try await Self.echo(transport, [3])  // a round trip: the first handler's end has run
                    try await connection.link.send(.streamReset, streamId: id, payload: reset)
                }
                let last = try await Self.echo(transport, [2])
                if case .message(let bytes) = last[1] { XCTAssertEqual(bytes, [2]) } else { XCTFail("\(last)") }
                transport.beginGracefulShutdown()
                try await connecting.value
            }
        }
    }
}
