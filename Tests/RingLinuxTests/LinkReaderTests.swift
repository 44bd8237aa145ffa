#if canImport(Glibc)
import Glibc
#endif
import RingCore
import RingLinux
import RingTestSupport
import Synchronization
import Testing

/// The one reader loop of every link, on every backend and with either driver: messages reach the protocol byte-exact and
/// in order, through sleeps; the end comes exactly once and last — the peer's close after its last
/// message, the protocol's violation (nothing after it), or a stop after what was published.
@Suite(.serialized) struct LinkReaderTests {
    /// Records what the reader hands over; refuses the message whose stream id is `refuse`.
    final class Recorder: LinkReaderDelegate, Sendable {
        let refuse: UInt64?
        let received = Mutex<[(UInt64, [UInt8])]>([])
        let ends = Mutex<[LinkEnd]>([])
        let batches = Mutex(0)

        init(refuse: UInt64? = nil) { self.refuse = refuse }

        func linkReader(received message: MessageView) -> String? {
            if message.streamId == refuse { return "refused \(message.streamId)" }
            received.withLock { $0.append((message.streamId, [UInt8](message.payload))) }
            return nil
        }
        func linkReader(delivered count: Int) { batches.withLock { $0 += 1 } }
        func linkReader(ended end: LinkEnd) { ends.withLock { $0.append(end) } }
    }

    /// Who drives the loop: the reactor's duty cycle or a task of its own.
    enum Driver: CaseIterable, Sendable {
        case poller, task

        func start(_ reader: LinkReader) {
            switch self {
            case .poller: reader.start()
            case .task: Task { await reader.run(profile: .alwaysSleep) }
            }
        }
    }

    static func payload(_ n: Int) -> [UInt8] { (0..<(n % 300)).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ n) } }

    /// A host → worker ring on a `kind` reactor: `body` gets the host's sender and a reader of the
    /// worker's side that reports to `recorder` (not started).
    static func withLink(
        _ kind: ReactorBackendKind, capacity: Int, recorder: Recorder, batchLimit: Int = LinkReader.defaultBatchLimit,
        _ body: (RingSender, LinkReader) async throws -> Void
    ) async throws {
        guard let reactor = try AsyncRingTests.reactor(kind) else { return }
        defer { reactor.shutdown() }
        try await withWatchdog(seconds: 120) {
            let (host, worker) = try Endpoints.segments(reactor, capacity: capacity)
            let waker = ReactorWaker(reactor)
            let sender = RingSender(host.takeProducer(waker: waker)!, reactor: reactor, profile: .alwaysSleep)
            let reader = LinkReader(worker.takeConsumer(waker: waker)!, reactor: reactor, delegate: recorder, batchLimit: batchLimit)
            try await body(sender, reader)
        }
    }

    @Test(arguments: ReactorBackendKind.allCases, Driver.allCases)
    func everyMessageInOrderThenTheClose(kind: ReactorBackendKind, driver: Driver) async throws {
        let recorder = Recorder()
        try await Self.withLink(kind, capacity: 1 << 12, recorder: recorder, batchLimit: 16) { sender, reader in
            driver.start(reader)
            let count = 5_000  // far more than the 4 KiB ring holds: the sender waits for space, the reader sleeps
            for n in 0..<count { try await sender.send(kind: .data, streamId: UInt64(n), payload: Self.payload(n)) }
            sender.close()
            await reader.waitUntilEnded()
            let received = recorder.received.withLock { $0 }
            #expect(received.count == count)
            #expect(received.enumerated().allSatisfy { $0.offset == Int($0.element.0) && $0.element.1 == Self.payload($0.offset) })
            #expect(recorder.ends.withLock { $0 } == [.closedByPeer])
            #expect(recorder.batches.withLock { $0 } >= count / 16)
        }
    }

    @Test(arguments: ReactorBackendKind.allCases)
    func aViolationEndsTheReaderAndNothingFollowsIt(kind: ReactorBackendKind) async throws {
        let recorder = Recorder(refuse: 4)
        try await Self.withLink(kind, capacity: 1 << 14, recorder: recorder) { sender, reader in
            for n in 0..<10 { try await sender.send(kind: .data, streamId: UInt64(n), payload: Self.payload(n)) }
            reader.start()
            await reader.waitUntilEnded()
            #expect(recorder.received.withLock { $0.map(\.0) } == [0, 1, 2, 3])
            #expect(recorder.ends.withLock { $0 } == [.violation("refused 4")])
        }
    }

    @Test(arguments: ReactorBackendKind.allCases, Driver.allCases)
    func aStopDeliversWhatWasPublishedThenEnds(kind: ReactorBackendKind, driver: Driver) async throws {
        let recorder = Recorder()
        try await Self.withLink(kind, capacity: 1 << 14, recorder: recorder) { sender, reader in
            driver.start(reader)
            for n in 0..<20 { try await sender.send(kind: .data, streamId: UInt64(n), payload: Self.payload(n)) }
            await reader.stopAndWait()
            await reader.stopAndWait()  // idempotent
            #expect(recorder.received.withLock { $0.map(\.0) } == Array(0..<20))
            #expect(recorder.ends.withLock { $0 } == [.stopped])
        }
    }

    @Test func aReaderOfAReactorThatStoppedEndsAtOnce() async throws {
        let reactor = try Reactor()
        let (_, worker) = try Endpoints.segments(reactor, capacity: 1 << 12)
        let recorder = Recorder()
        let reader = LinkReader(worker.takeConsumer(waker: ReactorWaker(reactor))!, reactor: reactor, delegate: recorder)
        reactor.shutdown()
        reader.start()
        await withWatchdog(seconds: 60) { await reader.waitUntilEnded() }
        #expect(recorder.ends.withLock { $0 } == [.stopped])
    }
}
