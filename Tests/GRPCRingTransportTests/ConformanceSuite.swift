// ConformanceSuite — the transport contract, written once (`ConformanceCases`). The XCTest classes
// at the end run every case against the ring transport and against HTTP/2 over a Unix socket; they
// only forward (XCTest on Linux does not discover inherited test methods). Exact bytes, counts and
// status codes are asserted; the watchdog bounds hangs.
#if canImport(Glibc)
import Glibc
#endif
import GRPCCore
import GRPCNIOTransportHTTP2
import GRPCRingTransport
import RingTestSupport
import Synchronization
import XCTest
import RingCore

struct ConformanceCases: Sendable {
    let transport: TransportUnderTest

    let raw = (serializer: RawBytesSerializer(), deserializer: RawBytesDeserializer())

    private func run(_ name: String = #function, seconds: Int = 120, _ body: @escaping @Sendable (any Caller, any ServerControl, ServerEvents) async throws -> Void) async throws {
        let transport = transport
        let events = ServerEvents()
        try await withWatchdog(seconds: seconds, "\(transport.rawValue) \(name)") {
            try await transport.withClient(events: events) { client, server in try await body(client, server, events) }
        }
    }

    private var options: CallOptions { TransportUnderTest.callOptions }

    // MARK: Call shapes

    func testUnary() async throws {
        let (raw, options) = (raw, options)
        try await run { client, _, _ in
            let payload = Conformance.message(7, size: 1000)
            let reply = try await client.unary(
                request: ClientRequest(message: payload), descriptor: Conformance.echo,
                serializer: raw.serializer, deserializer: raw.deserializer, options: options) { try $0.message }
            XCTAssertEqual(reply, payload)
        }
    }

    func testClientStreaming10kMessages() async throws {
        let (raw, options) = (raw, options)
        try await run { client, _, _ in
            let request = StreamingClientRequest<[UInt8]> { writer in
                for index in 0..<10_000 { try await writer.write(Conformance.message(index, size: 4 + index % 300)) }
            }
            let reply = try await client.clientStreaming(
                request: request, descriptor: Conformance.collect,
                serializer: raw.serializer, deserializer: raw.deserializer, options: options) { try $0.message }
            let expectedBytes = (0..<10_000).reduce(0) { $0 + 4 + $1 % 300 }
            XCTAssertEqual(reply, Conformance.u32(10_000) + Conformance.u32(expectedBytes))
        }
    }

    func testServerStreaming10kMessages() async throws {
        let (raw, options) = (raw, options)
        try await run { client, _, _ in
            let count = try await client.serverStreaming(
                request: ClientRequest(message: Conformance.u32(10_000) + Conformance.u32(100)), descriptor: Conformance.expand,
                serializer: raw.serializer, deserializer: raw.deserializer, options: options
            ) { response in try await Conformance.countInOrder(response.messages, size: 100) }
            XCTAssertEqual(count, 10_000)
        }
    }

    func testBidirectionalStreaming10kMessagesEachWay() async throws {
        let (raw, options) = (raw, options)
        try await run { client, _, _ in
            let request = StreamingClientRequest<[UInt8]> { writer in
                for index in 0..<10_000 { try await writer.write(Conformance.message(index, size: 64)) }
            }
            let count = try await client.bidirectionalStreaming(
                request: request, descriptor: Conformance.chat,
                serializer: raw.serializer, deserializer: raw.deserializer, options: options
            ) { response in try await Conformance.countInOrder(response.messages, size: 64) }
            XCTAssertEqual(count, 10_000)
        }
    }

    /// Messages larger than one frame both ways on one stream, while credit flows back on the same
    /// stream: each side's reader grants credit for what it consumed while its writer is in the
    /// middle of a fragmented message. A stream id names one message at a time, so the credit must
    /// not land between two fragments of that message (the peer would take it as a protocol
    /// violation and poison the ring).
    func testBidirectionalStreamingLargeMessagesEachWay() async throws {
        let (raw, options) = (raw, options)
        let (count, size) = (24, 3 << 20)
        try await run { client, _, _ in
            let request = StreamingClientRequest<[UInt8]> { writer in
                for index in 0..<count { try await writer.write(Conformance.message(index, size: size)) }
            }
            let echoed = try await client.bidirectionalStreaming(
                request: request, descriptor: Conformance.chat,
                serializer: raw.serializer, deserializer: raw.deserializer, options: options
            ) { response in try await Conformance.countInOrder(response.messages, size: size) }
            XCTAssertEqual(echoed, count)
        }
    }

    func test16MiBMessagesBothWays() async throws {
        let (raw, options) = (raw, options)
        try await run { client, _, _ in
            let payload = Conformance.message(16, size: 16 << 20)
            let reply = try await client.unary(
                request: ClientRequest(message: payload), descriptor: Conformance.echo,
                serializer: raw.serializer, deserializer: raw.deserializer, options: options) { try $0.message }
            XCTAssertEqual(reply.count, 16 << 20)
            XCTAssertTrue(reply == payload, "16 MiB echo differs")
        }
    }

    // MARK: Metadata and status

    func testMetadataRoundTripsIncludingBinaryValues() async throws {
        let (raw, options) = (raw, options)
        try await run { client, _, _ in
            var metadata = Metadata()
            metadata.addString("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", forKey: "x-traceparent")
            metadata.addString("one", forKey: "x-multi")
            metadata.addString("two", forKey: "x-multi")
            metadata.addString("ünïcödé ✓", forKey: "x-text")
            metadata.addBinary((0...255).map { UInt8($0) }, forKey: "x-all-bytes-bin")
            metadata.addBinary([], forKey: "x-empty-bin")
            let (initial, trailers) = try await client.unary(
                request: ClientRequest(message: [1, 2, 3], metadata: metadata), descriptor: Conformance.echo,
                serializer: raw.serializer, deserializer: raw.deserializer, options: options
            ) { response in (Conformance.echoed(response.metadata), response.trailingMetadata) }
            XCTAssertEqual(initial, metadata)
            XCTAssertEqual(Conformance.echoed(trailers), metadata)
        }
    }

    /// gRPC metadata keys are case-insensitive ASCII; HTTP/2 carries them lowercased, so a handler
    /// and a client see lowercase keys whatever case the other side wrote.
    func testMetadataKeysArriveLowercased() async throws {
        let (raw, options) = (raw, options)
        try await run { client, _, _ in
            var metadata = Metadata()
            metadata.addString("acme", forKey: "X-Tenant-ID")
            metadata.addBinary([1, 2, 3], forKey: "X-Trace-bin")
            var expected = Metadata()
            expected.addString("acme", forKey: "x-tenant-id")
            expected.addBinary([1, 2, 3], forKey: "x-trace-bin")
            let (initial, trailers) = try await client.unary(
                request: ClientRequest(message: [1], metadata: metadata), descriptor: Conformance.echo,
                serializer: raw.serializer, deserializer: raw.deserializer, options: options
            ) { response in (Conformance.echoed(response.metadata), response.trailingMetadata) }
            XCTAssertEqual(Array(initial.map(\.key)), Array(expected.map(\.key)))
            XCTAssertEqual(initial, expected)
            XCTAssertEqual(Conformance.echoed(trailers), expected)
        }
    }

    /// A call compressed with an algorithm the server has not enabled fails `unimplemented` naming
    /// the algorithm — never silently sent as identity. (The rings enable none: Docs/GRPC.md.)
    func testCompressionTheServerHasNotEnabledIsRefused() async throws {
        let raw = raw
        for algorithm in [CompressionAlgorithm.gzip, .deflate] {
            var options = options
            options.compression = algorithm
            try await run { [options] client, _, _ in
                do {
                    _ = try await client.unary(
                        request: ClientRequest(message: Conformance.message(1, size: 4096)), descriptor: Conformance.echo,
                        serializer: raw.serializer, deserializer: raw.deserializer, options: options) { try $0.message }
                    XCTFail("a \(algorithm) call succeeded")
                } catch let error as RPCError {
                    XCTAssertEqual(error.code, .unimplemented)
                    XCTAssertTrue(error.message.hasPrefix(algorithm == .gzip ? "gzip compression is not supported" : "deflate compression is not supported"), error.message)
                }
                // The connection stays usable for calls without compression.
                let payload = Conformance.message(2, size: 100)
                let reply = try await client.unary(
                    request: ClientRequest(message: payload), descriptor: Conformance.echo,
                    serializer: raw.serializer, deserializer: raw.deserializer, options: TransportUnderTest.callOptions) { try $0.message }
                XCTAssertEqual(reply, payload)
            }
        }
    }

    func testHandlerThrowingRPCErrorGivesStatusAndTrailers() async throws {
        let (raw, options) = (raw, options)
        try await run { client, _, _ in
            do {
                _ = try await client.unary(
                    request: ClientRequest(message: []), descriptor: Conformance.fail,
                    serializer: raw.serializer, deserializer: raw.deserializer, options: options) { try $0.message }
                XCTFail("the call succeeded")
            } catch let error as RPCError {
                XCTAssertEqual(error.code, Conformance.failureCode)
                XCTAssertEqual(error.message, Conformance.failureMessage)
                XCTAssertEqual(Conformance.echoed(error.metadata), Conformance.failureTrailers)
            }
        }
    }

    func testDeadlineExceeded() async throws {
        let raw = raw
        var options = options
        options.timeout = .milliseconds(200)
        try await run { [options] client, _, events in
            do {
                _ = try await client.unary(
                    request: ClientRequest(message: []), descriptor: Conformance.park,
                    serializer: raw.serializer, deserializer: raw.deserializer, options: options) { try $0.message }
                XCTFail("the call succeeded")
            } catch let error as RPCError {
                XCTAssertEqual(error.code, .deadlineExceeded)
            }
            // The server's handler was cancelled too (its own deadline, from grpc-timeout).
            let event = await events.next()
            XCTAssertEqual(event, "park cancelled")
        }
    }

    // MARK: Cancellation

    func testCancellationFromClientCancelsServerHandler() async throws {
        let (raw, options) = (raw, options)
        try await run { client, _, events in
            let parked = AsyncStream<Void>.makeStream()
            let call = Task {
                try await client.bidirectionalStreaming(
                    request: StreamingClientRequest<[UInt8]> { writer in try await writer.write([1]) }, descriptor: Conformance.park,
                    serializer: raw.serializer, deserializer: raw.deserializer, options: options
                ) { response in
                    for try await message in response.messages {
                        XCTAssertEqual(message, Array("parked".utf8))
                        parked.continuation.yield()
                    }
                }
            }
            for await _ in parked.stream { break }
            call.cancel()
            let event = await events.next()
            XCTAssertEqual(event, "park cancelled")
            let result = await call.result
            switch result {
            case .success: XCTFail("the cancelled call succeeded")
            case .failure(let error):
                // As GRPCCore's own executors do: the caller's cancellation is a CancellationError,
                // not an RPC status (code written against HTTP/2 catches exactly that).
                XCTAssertTrue(error is CancellationError, "unexpected \(error)")
            }
        }
    }

    func testCancellationFromServerEndsClientCall() async throws {
        let (raw, options) = (raw, options)
        try await run { client, _, _ in
            do {
                try await client.bidirectionalStreaming(
                    request: StreamingClientRequest<[UInt8]> { writer in try await writer.write([1]) }, descriptor: Conformance.abort,
                    serializer: raw.serializer, deserializer: raw.deserializer, options: options
                ) { response in
                    var received: [[UInt8]] = []
                    for try await message in response.messages { received.append(message) }
                    XCTAssertEqual(received, [Array("aborting".utf8)])
                }
                XCTFail("the call succeeded")
            } catch let error as RPCError {
                XCTAssertEqual(error.code, .cancelled)
                XCTAssertEqual(error.message, "the server cancelled the RPC")
            }
        }
    }

    /// A request producer that throws — before its first message or after some — ends the RPC
    /// with an error instead of leaving the response waiting, and the connection stays usable.
    /// The rings end it with the producer's own error; HTTP/2 reports the stream reset it sent as
    /// `unavailable` ("Stream unexpectedly closed with error.").
    func testRequestProducerThrowingEndsTheRPC() async throws {
        let (raw, options) = (raw, options)
        let isRing = transport == .ring
        let expected: RPCError.Code = isRing ? .aborted : .unavailable
        try await run { client, _, _ in
            for messagesFirst in [0, 3] {
                do {
                    try await client.bidirectionalStreaming(
                        request: StreamingClientRequest<[UInt8]> { writer in
                            for index in 0..<messagesFirst { try await writer.write(Conformance.message(index, size: 16)) }
                            throw RPCError(code: .aborted, message: "the producer gave up")
                        },
                        descriptor: Conformance.chat, serializer: raw.serializer, deserializer: raw.deserializer, options: options
                    ) { response in
                        for try await _ in response.messages {}
                    }
                    XCTFail("the call succeeded (\(messagesFirst) messages first)")
                } catch let error as RPCError {
                    XCTAssertEqual(error.code, expected, "\(messagesFirst) messages first: \(error)")
                    if isRing { XCTAssertEqual(error.message, "the producer gave up") }
                }
            }
            let reply = try await client.unary(
                request: ClientRequest(message: [4, 2]), descriptor: Conformance.echo,
                serializer: raw.serializer, deserializer: raw.deserializer, options: options) { try $0.message }
            XCTAssertEqual(reply, [4, 2])
        }
    }

    /// 200 bidirectional RPCs whose producer never writes, cancelled at once — most before their
    /// request metadata left the client. None may leave the server a reset for a stream it never
    /// saw (the ring server would end the whole connection), so a unary RPC afterwards succeeds.
    func testRPCsCancelledBeforeTheirFirstMessageLeaveTheConnectionUsable() async throws {
        let (raw, options) = (raw, options)
        try await run { client, _, _ in
            for _ in 0..<200 {
                let call = Task {
                    try await client.bidirectionalStreaming(
                        request: StreamingClientRequest<[UInt8]> { _ in
                            let never = AsyncStream<Void>.makeStream()
                            for await _ in never.stream {}
                        },
                        descriptor: Conformance.chat, serializer: raw.serializer, deserializer: raw.deserializer, options: options
                    ) { response in
                        for try await _ in response.messages {}
                    }
                }
                call.cancel()
                _ = await call.result
            }
            let reply = try await client.unary(
                request: ClientRequest(message: [7]), descriptor: Conformance.echo,
                serializer: raw.serializer, deserializer: raw.deserializer, options: options) { try $0.message }
            XCTAssertEqual(reply, [7])
        }
    }

    // MARK: Lifecycle

    func testGracefulShutdownLetsOpenStreamsFinish() async throws {
        let (raw, options) = (raw, options)
        try await run { client, server, _ in
            let (gate, open) = AsyncStream<Void>.makeStream()
            let request = StreamingClientRequest<[UInt8]> { writer in
                try await writer.write(Conformance.message(0, size: 32))
                for await _ in gate { break }  // the server starts shutting down meanwhile
                for index in 1..<100 { try await writer.write(Conformance.message(index, size: 32)) }
            }
            let count = try await client.bidirectionalStreaming(
                request: request, descriptor: Conformance.chat,
                serializer: raw.serializer, deserializer: raw.deserializer, options: options
            ) { response in
                var index = 0
                for try await message in response.messages {
                    XCTAssertEqual(message, Conformance.message(index, size: 32))
                    if index == 0 {
                        server.beginGracefulShutdown()
                        open.yield()
                    }
                    index += 1
                }
                return index
            }
            XCTAssertEqual(count, 100)
        }
    }

    /// GRPCCore: an RPC's cancellation handle fires when "the server began shutting down". A handler
    /// that waits for it (a long-lived stream such as a host's event stream) must not hold a
    /// graceful shutdown forever.
    func testGracefulShutdownCancelsHandlersThatWaitForCancellation() async throws {
        let (raw, options) = (raw, options)
        try await run(seconds: 60) { client, server, events in
            do {
                try await client.bidirectionalStreaming(
                    request: StreamingClientRequest<[UInt8]> { writer in try await writer.write([1]) }, descriptor: Conformance.park,
                    serializer: raw.serializer, deserializer: raw.deserializer, options: options
                ) { response in
                    for try await message in response.messages {
                        XCTAssertEqual(message, Array("parked".utf8))
                        server.beginGracefulShutdown()
                    }
                }
                XCTFail("the parked call ended without the handler's status")
            } catch let error as RPCError {
                XCTAssertEqual(error.code, .cancelled, "\(error)")
                XCTAssertEqual(error.message, "parked RPC cancelled")
            }
            let event = await events.next()
            XCTAssertEqual(event, "park cancelled")
        }
    }

    /// Cancelling `serve()` while handlers run ends their calls with `unavailable` (the connection
    /// went away), never with the status of a handler the cancellation interrupted. Ten servers in a
    /// row: the race this guards against showed about one run in three.
    func testCancellingServeGivesUnavailable() async throws {
        let (raw, options) = (raw, options)
        let transport = transport
        try await withWatchdog(seconds: 120, "\(transport.rawValue) cancel serve") {
            for round in 0..<10 {
                try await transport.withClient(events: ServerEvents()) { client, server in
                    do {
                        try await client.bidirectionalStreaming(
                            request: Conformance.oneMessageThenOpen([UInt8(round)]),
                            descriptor: Conformance.chat, serializer: raw.serializer, deserializer: raw.deserializer, options: options
                        ) { response in
                            var iterator = response.messages.makeAsyncIterator()
                            let first = try await iterator.next()
                            XCTAssertEqual(first, [UInt8(round)])
                            server.cancelServing()
                            while try await iterator.next() != nil { XCTFail("message after serve() was cancelled") }
                        }
                        XCTFail("round \(round): the call succeeded after serve() was cancelled")
                    } catch let error as RPCError {
                        XCTAssertEqual(error.code, .unavailable, "round \(round): \(error)")
                    }
                }
            }
        }
    }

    func testServerProcessKilledMidStreamGivesUnavailable() async throws {
        let transport = transport
        let raw = raw
        try await withWatchdog(seconds: 120, "\(transport.rawValue) kill") {
            let fixture = try FixtureServer.start(transport)
            let body: @Sendable (any Caller) async throws -> Void = { client in
                do {
                    try await client.bidirectionalStreaming(
                        request: Conformance.oneMessageThenOpen([42]),
                        descriptor: Conformance.chat, serializer: raw.serializer, deserializer: raw.deserializer, options: .defaults
                    ) { response in
                        var iterator = response.messages.makeAsyncIterator()
                        let first = try await iterator.next()
                        XCTAssertEqual(first, [42])
                        try fixture.kill()
                        while try await iterator.next() != nil { XCTFail("message after the kill") }
                    }
                    XCTFail("the call succeeded after the server was killed")
                } catch let error as RPCError {
                    XCTAssertEqual(error.code, .unavailable, "\(error)")
                }
            }
            try await transport.withFixtureClient(socketPath: fixture.socketPath, body)
        }
    }

    /// The server process is killed and started again on the same socket under a live client: calls
    /// made meanwhile fail with `unavailable` (or wait, as the transport chooses), and once the
    /// client has reconnected they succeed, byte-exact — with the same client, never rebuilt.
    func testClientReconnectsAfterTheServerRestarts() async throws {
        let transport = transport
        let raw = raw
        try await withWatchdog(seconds: 120, "\(transport.rawValue) restart") {
            let fixture = try FixtureServer.start(transport)
            let restarted = RingMutex<FixtureServer?>(nil)
            defer { try? restarted.withLock { $0 }?.kill() }
            let body: @Sendable (any Caller) async throws -> Void = { client in
                // The fixture serves `Chat`: one message out, its echo back.
                func echo(_ bytes: [UInt8]) async throws -> [UInt8] {
                    try await client.bidirectionalStreaming(
                        request: StreamingClientRequest<[UInt8]> { try await $0.write(bytes) }, descriptor: Conformance.chat,
                        serializer: raw.serializer, deserializer: raw.deserializer, options: .defaults
                    ) { response in
                        var echoes: [[UInt8]] = []
                        for try await message in response.messages { echoes.append(message) }
                        return echoes.count == 1 ? echoes[0] : echoes.flatMap { $0 } + [0xEE]
                    }
                }
                let before = try await echo([1])
                XCTAssertEqual(before, [1])
                try fixture.kill()
                let again = try FixtureServer.start(transport, path: fixture.socketPath)
                restarted.withLock { $0 = again }
                var attempts = 0
                while true {
                    attempts += 1
                    do {
                        let payload: [UInt8] = [2, UInt8(truncatingIfNeeded: attempts)]
                        let reply = try await echo(payload)
                        XCTAssertEqual(reply, payload)
                        break
                    } catch let error as RPCError {
                        XCTAssertEqual(error.code, .unavailable, "\(error)")
                        await Task.yield()
                    }
                }
                let after = try await echo([3])
                XCTAssertEqual(after, [3])
            }
            try await transport.withFixtureClient(socketPath: fixture.socketPath, body)
        }
    }

    func test1000ConcurrentStreams() async throws {
        let (raw, options) = (raw, options)
        try await run { client, _, _ in
            let total = try await withThrowingTaskGroup(of: Int.self) { group in
                for stream in 0..<1000 {
                    group.addTask {
                        let request = StreamingClientRequest<[UInt8]> { writer in
                            for index in 0..<4 { try await writer.write(Conformance.message(stream * 4 + index, size: 48)) }
                        }
                        return try await client.bidirectionalStreaming(
                            request: request, descriptor: Conformance.chat,
                            serializer: raw.serializer, deserializer: raw.deserializer, options: options
                        ) { response in
                            var index = 0
                            for try await message in response.messages {
                                XCTAssertEqual(message, Conformance.message(stream * 4 + index, size: 48))
                                index += 1
                            }
                            return index
                        }
                    }
                }
                return try await group.reduce(0, +)
            }
            XCTAssertEqual(total, 4000)
        }
    }
}

final class RingConformanceTests: XCTestCase {
    let cases = ConformanceCases(transport: .ring)
    func testUnary() async throws { try await cases.testUnary() }
    func testClientStreaming10kMessages() async throws { try await cases.testClientStreaming10kMessages() }
    func testServerStreaming10kMessages() async throws { try await cases.testServerStreaming10kMessages() }
    func testBidirectionalStreaming10kMessagesEachWay() async throws { try await cases.testBidirectionalStreaming10kMessagesEachWay() }
    func test16MiBMessagesBothWays() async throws { try await cases.test16MiBMessagesBothWays() }
    func testBidirectionalStreamingLargeMessagesEachWay() async throws { try await cases.testBidirectionalStreamingLargeMessagesEachWay() }
    func testMetadataRoundTripsIncludingBinaryValues() async throws { try await cases.testMetadataRoundTripsIncludingBinaryValues() }
    func testMetadataKeysArriveLowercased() async throws { try await cases.testMetadataKeysArriveLowercased() }
    func testHandlerThrowingRPCErrorGivesStatusAndTrailers() async throws { try await cases.testHandlerThrowingRPCErrorGivesStatusAndTrailers() }
    func testCompressionTheServerHasNotEnabledIsRefused() async throws { try await cases.testCompressionTheServerHasNotEnabledIsRefused() }
    func testDeadlineExceeded() async throws { try await cases.testDeadlineExceeded() }
    func testCancellationFromClientCancelsServerHandler() async throws { try await cases.testCancellationFromClientCancelsServerHandler() }
    func testCancellationFromServerEndsClientCall() async throws { try await cases.testCancellationFromServerEndsClientCall() }
    func testGracefulShutdownLetsOpenStreamsFinish() async throws { try await cases.testGracefulShutdownLetsOpenStreamsFinish() }
    func testServerProcessKilledMidStreamGivesUnavailable() async throws { try await cases.testServerProcessKilledMidStreamGivesUnavailable() }
    func testClientReconnectsAfterTheServerRestarts() async throws { try await cases.testClientReconnectsAfterTheServerRestarts() }
    func testCancellingServeGivesUnavailable() async throws { try await cases.testCancellingServeGivesUnavailable() }
    func testGracefulShutdownCancelsHandlersThatWaitForCancellation() async throws {
        try await cases.testGracefulShutdownCancelsHandlersThatWaitForCancellation()
    }
    func test1000ConcurrentStreams() async throws { try await cases.test1000ConcurrentStreams() }
    func testRequestProducerThrowingEndsTheRPC() async throws { try await cases.testRequestProducerThrowingEndsTheRPC() }
    func testRPCsCancelledBeforeTheirFirstMessageLeaveTheConnectionUsable() async throws {
        try await cases.testRPCsCancelledBeforeTheirFirstMessageLeaveTheConnectionUsable()
    }
}

final class HTTP2UnixConformanceTests: XCTestCase {
    let cases = ConformanceCases(transport: .h2Unix)
    func testUnary() async throws { try await cases.testUnary() }
    func testClientStreaming10kMessages() async throws { try await cases.testClientStreaming10kMessages() }
    func testServerStreaming10kMessages() async throws { try await cases.testServerStreaming10kMessages() }
    func testBidirectionalStreaming10kMessagesEachWay() async throws { try await cases.testBidirectionalStreaming10kMessagesEachWay() }
    func test16MiBMessagesBothWays() async throws { try await cases.test16MiBMessagesBothWays() }
    func testBidirectionalStreamingLargeMessagesEachWay() async throws { try await cases.testBidirectionalStreamingLargeMessagesEachWay() }
    func testMetadataRoundTripsIncludingBinaryValues() async throws { try await cases.testMetadataRoundTripsIncludingBinaryValues() }
    func testMetadataKeysArriveLowercased() async throws { try await cases.testMetadataKeysArriveLowercased() }
    func testHandlerThrowingRPCErrorGivesStatusAndTrailers() async throws { try await cases.testHandlerThrowingRPCErrorGivesStatusAndTrailers() }
    func testCompressionTheServerHasNotEnabledIsRefused() async throws { try await cases.testCompressionTheServerHasNotEnabledIsRefused() }
    func testDeadlineExceeded() async throws { try await cases.testDeadlineExceeded() }
    func testCancellationFromClientCancelsServerHandler() async throws { try await cases.testCancellationFromClientCancelsServerHandler() }
    func testCancellationFromServerEndsClientCall() async throws { try await cases.testCancellationFromServerEndsClientCall() }
    func testGracefulShutdownLetsOpenStreamsFinish() async throws { try await cases.testGracefulShutdownLetsOpenStreamsFinish() }
    func testServerProcessKilledMidStreamGivesUnavailable() async throws { try await cases.testServerProcessKilledMidStreamGivesUnavailable() }
    func testClientReconnectsAfterTheServerRestarts() async throws { try await cases.testClientReconnectsAfterTheServerRestarts() }
    func testCancellingServeGivesUnavailable() async throws { try await cases.testCancellingServeGivesUnavailable() }
    func testGracefulShutdownCancelsHandlersThatWaitForCancellation() async throws {
        try await cases.testGracefulShutdownCancelsHandlersThatWaitForCancellation()
    }
    func test1000ConcurrentStreams() async throws { try await cases.test1000ConcurrentStreams() }
    func testRequestProducerThrowingEndsTheRPC() async throws { try await cases.testRequestProducerThrowingEndsTheRPC() }
    func testRPCsCancelledBeforeTheirFirstMessageLeaveTheConnectionUsable() async throws {
        try await cases.testRPCsCancelledBeforeTheirFirstMessageLeaveTheConnectionUsable()
    }
}
