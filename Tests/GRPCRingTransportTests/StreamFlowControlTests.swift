// Per-stream flow control over the rings: the windows without I/O (exact byte counts, waiting,
// credit, end, cancellation, hostile peers), and a connection where one stream's reader never
// reads — its writers are held back at exactly one window each, the other streams go on, and
// everything flows once it reads.
#if canImport(Glibc)
import Glibc
#endif
import GRPCCore
@testable import GRPCRingTransport
import RingTestSupport
import Synchronization
import XCTest

final class StreamFlowControlTests: XCTestCase {
    let window = StreamFlow.initialWindowBytes

    func testASenderMaySendWhileItsWindowIsPositiveAndWaitsForCredit() async throws {
        try await withWatchdog(seconds: 60) {
            let send = SendWindow()
            try await send.acquire(window - 1)
            XCTAssertEqual(send.available, 1)
            try await send.acquire(10 * window)  // one message larger than the window passes, alone
            XCTAssertEqual(send.available, 1 - 10 * window)
            let waiting = Task { try await send.acquire(5) }
            while SendWindow.waiting.load(ordering: .relaxed) == 0 { await Task.yield() }
            XCTAssertTrue(send.grant(10 * window - 1))  // back to 0: still not positive
            XCTAssertEqual(send.available, 0)
            XCTAssertTrue(send.grant(1))
            try await waiting.value
            XCTAssertEqual(send.available, -4)
        }
    }

    func testTheEndOfTheStreamAndCancellationReleaseWaitingWriters() async throws {
        try await withWatchdog(seconds: 60) {
            let send = SendWindow()
            try await send.acquire(window)
            let ended = Task { try await send.acquire(1) }
            while SendWindow.waiting.load(ordering: .relaxed) == 0 { await Task.yield() }
            send.end(RPCError(code: .cancelled, message: "gone"))
            do {
                try await ended.value
                XCTFail("a writer waited past the stream's end")
            } catch let error as RPCError { XCTAssertEqual(error.code, .cancelled) }
            // After the end, a write that would wait fails at once.
            do {
                try await send.acquire(1)
                XCTFail("acquired on an ended, exhausted window")
            } catch let error as RPCError { XCTAssertEqual(error.message, "gone") }

            let other = SendWindow()
            try await other.acquire(window)
            let cancelled = Task { try await other.acquire(1) }
            while SendWindow.waiting.load(ordering: .relaxed) == 0 { await Task.yield() }
            cancelled.cancel()
            do {
                try await cancelled.value
                XCTFail("a cancelled writer kept waiting")
            } catch is CancellationError {}
            XCTAssertEqual(SendWindow.waiting.load(ordering: .relaxed), 0)
        }
    }

    func testTheReceiverGrantsHalfWindowsAndCatchesAPeerBeyondItsWindow() {
        var receive = ReceiveWindow()
        let chunk = window / 16
        for _ in 0..<16 { XCTAssertTrue(receive.received(chunk)) }
        XCTAssertFalse(receive.received(1), "a message after a whole window without credit")
        for _ in 0..<7 { XCTAssertNil(receive.consume(chunk)) }
        XCTAssertEqual(receive.consume(chunk), window / 2)
        XCTAssertEqual(receive.outstanding, window / 2)
        XCTAssertTrue(receive.received(chunk))
        // A grant the sender could not hold is a violation.
        let send = SendWindow()
        XCTAssertFalse(send.grant(StreamFlow.maxWindowBytes))
    }

    func testCreditFramesAreExactlyAPositiveU32() throws {
        XCTAssertEqual(StreamFlow.encodeCredit(0x0102_0304), [4, 3, 2, 1])
        XCTAssertEqual(try ([4, 3, 2, 1] as [UInt8]).withUnsafeBytes { try StreamFlow.decodeCredit($0) }, 0x0102_0304)
        for bad: [UInt8] in [[], [1, 0, 0], [1, 0, 0, 0, 0], [0, 0, 0, 0]] {
            XCTAssertThrowsError(try bad.withUnsafeBytes { try StreamFlow.decodeCredit($0) })
        }
    }

    /// The client writes 64 KiB messages to the echo (`Chat`) and reads nothing. The server's
    /// handler echoes 16 (one window), reads a 17th and waits for credit; the client's writer goes
    /// on until its own window is spent: 16 messages, plus 16 for which the handler's reading
    /// granted credit. Then both wait — for good, with 2 MiB buffered, however many messages the
    /// client means to send. Another stream on the same connection still works; once the client
    /// reads, every message arrives, byte-exact and in order.
    func testAReaderThatNeverReadsHoldsBackOnlyItsOwnStream() async throws {
        try await withWatchdog(seconds: 120) {
            let path = TransportUnderTest.socketPath()
            defer { unlink(path) }
            let serverTransport = GRPCRingServerTransport(socketPath: path)
            let server = GRPCServer(transport: serverTransport, services: [ConformanceService(events: ServerEvents())])
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await server.serve() }
                await serverTransport.waitUntilListening()
                let client = GRPCRingClientTransport(socketPath: path)
                group.addTask { try await client.connect() }
                let size = 64 << 10, total = 100
                let written = Count()
                try await client.withStream(descriptor: Conformance.chat, options: .defaults) { stream, _ in
                    try await stream.outbound.write(.metadata([:]))
                    let outbound = stream.outbound
                    let writer = Task {
                        for index in 0..<total {
                            try await outbound.write(.message(Conformance.message(index, size: size)))
                            written.value.add(1, ordering: .relaxed)
                        }
                        await outbound.finish()
                    }
                    while !(SendWindow.waiting.load(ordering: .relaxed) == 2 && written.value.load(ordering: .relaxed) == 32) { await Task.yield() }
                    XCTAssertEqual(written.value.load(ordering: .relaxed), 32)
                    // The connection is not blocked: another stream completes meanwhile.
                    let echoed = try await client.withStream(descriptor: Conformance.echo, options: .defaults) { other, _ in
                        try await other.outbound.write(.metadata([:]))
                        try await other.outbound.write(.message([4, 2]))
                        await other.outbound.finish()
                        var messages: [[UInt8]] = []
                        for try await part in other.inbound { if case .message(let bytes) = part { messages.append(bytes) } }
                        return messages
                    }
                    XCTAssertEqual(echoed, [[4, 2]])
                    XCTAssertEqual(written.value.load(ordering: .relaxed), 32)
                    // Now read: everything flows.
                    var received = 0
                    for try await part in stream.inbound {
                        if case .message(let bytes) = part {
                            XCTAssertEqual(bytes, Conformance.message(received, size: size))
                            received += 1
                        }
                    }
                    try await writer.value
                    XCTAssertEqual(received, total)
                }
                client.beginGracefulShutdown()
                server.beginGracefulShutdown()
                try await group.waitForAll()
            }
        }
    }
}

/// A counter several tasks share.
final class Count: Sendable {
    let value = Atomic<Int>(0)
}
