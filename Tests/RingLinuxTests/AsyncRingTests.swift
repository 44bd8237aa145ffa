#if canImport(Glibc)
import Glibc
#endif
import RingCore
import RingLinux
import RingTestSupport
import Testing

/// The async bridge (RingSender / RingReceiver) on every waiting backend available here. Backends
/// that cannot run on this machine are skipped with the reason printed.
@Suite(.serialized) struct AsyncRingTests {
    static func reactor(_ kind: ReactorBackendKind) throws -> Reactor? {
        do {
            return try Reactor(backend: kind)
        } catch {
            print("SKIP \(kind): \(error)")
            return nil
        }
    }

    static func endpoints(_ reactor: Reactor, capacity: Int = 1 << 12, profile: WaitProfile = .alwaysSleep) throws -> Endpoints {
        try Endpoints(reactor, capacity: capacity, profile: profile)
    }

    /// 10⁵ messages from four tasks through a 4 KiB ring, every wait going to sleep: exact, in
    /// order per task, nothing lost.
    @Test(arguments: ReactorBackendKind.allCases)
    func sendersAndReceiverThroughSleep(kind: ReactorBackendKind) async throws {
        guard let reactor = try Self.reactor(kind) else { return }
        defer { reactor.shutdown() }
        let endpoints = try Self.endpoints(reactor)
        let sender = endpoints.sender
        let tasks = 4
        let perTask = 25_000
        try await withWatchdog(seconds: 300) {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for t in 0..<tasks {
                    group.addTask {
                        for n in 0..<perTask {
                            let payload = [UInt8](repeating: UInt8(truncatingIfNeeded: n), count: 16 + n % 200)
                            try await sender.send(kind: .data, streamId: UInt64(t) << 32 | UInt64(n), payload: payload)
                        }
                    }
                }
                var next = [Int](repeating: 0, count: tasks)
                var received = 0
                var problems = 0
                while received < tasks * perTask {
                    received += try await endpoints.receiver.receive { message in
                        let t = Int(message.streamId >> 32)
                        let n = Int(message.streamId & 0xFFFF_FFFF)
                        if t >= tasks || n != next[t] || message.payload.count != 16 + n % 200
                            || message.payload.first != UInt8(truncatingIfNeeded: n)
                        {
                            problems += 1
                        } else {
                            next[t] += 1
                        }
                    }
                }
                try await group.waitForAll()
                #expect(problems == 0)
                #expect(next == [Int](repeating: perTask, count: tasks))
            }
        }
    }

    /// Cancelling a receive that sleeps throws CancellationError; the next receive gets the message.
    @Test(arguments: ReactorBackendKind.allCases)
    func cancelledReceiveLosesNothing(kind: ReactorBackendKind) async throws {
        guard let reactor = try Self.reactor(kind) else { return }
        defer { reactor.shutdown() }
        let endpoints = try Self.endpoints(reactor)
        let (sender, box) = (endpoints.sender, endpoints.receiver)
        try await withWatchdog(seconds: 120) {
            let waiting = Task { try await box.receiveOne() }
            // Whether the task is cancelled before or while it sleeps, the outcome must be the same.
            waiting.cancel()
            await #expect(throws: CancellationError.self) { try await waiting.value }
            try await sender.send(kind: .data, streamId: 7, payload: [1, 2, 3])
            #expect(try await box.receiveOne() == 7)
        }
    }

    /// Cancelling a send that waits for space throws CancellationError and writes nothing.
    @Test(arguments: ReactorBackendKind.allCases)
    func cancelledSendWritesNothing(kind: ReactorBackendKind) async throws {
        guard let reactor = try Self.reactor(kind) else { return }
        defer { reactor.shutdown() }
        let endpoints = try Self.endpoints(reactor, capacity: 1024)
        let (sender, box) = (endpoints.sender, endpoints.receiver)
        try await withWatchdog(seconds: 120) {
            // Fill the ring: 8 frames of 128 bytes.
            for id in 0..<8 as Range<UInt64> { try await sender.send(kind: .data, streamId: id, payload: [UInt8](repeating: 0, count: 96)) }
            let blocked = Task { try await sender.send(kind: .data, streamId: 99, payload: [UInt8](repeating: 0, count: 96)) }
            blocked.cancel()
            await #expect(throws: CancellationError.self) { try await blocked.value }
            var ids: [UInt64] = []
            while ids.count < 8 { ids.append(try await box.receiveOne()) }
            #expect(ids == Array(0..<8))
            #expect(try box.drainNow() == 0)  // stream 99 was never written
        }
    }

    /// Shutting the reactor down ends a sleeping receive with a typed error.
    @Test(arguments: ReactorBackendKind.allCases)
    func shutdownEndsWaitersWithATypedError(kind: ReactorBackendKind) async throws {
        guard let reactor = try Self.reactor(kind) else { return }
        let endpoints = try Self.endpoints(reactor)
        let box = endpoints.receiver
        await withWatchdog(seconds: 120) {
            let waiting = Task { try await box.receiveOne() }
            // Wait until the receiver has announced its sleep, then shut down under it.
            while !box.isSleeping(endpoints.worker) { await Task.yield() }
            reactor.shutdown()
            await #expect(throws: RingWaitError.reactorShutdown) { try await waiting.value }
        }
    }
}

/// A host segment with an async sender and a worker attachment with an async receiver.
extension AsyncRingTests {
    /// A sender aborted while it waits for space (its consumer died) lets go of the ring: the reactor
    /// wait it armed on the producer word is cancelled, so nothing keeps the writer — and with it the
    /// segment's mapping and memfd — alive. (A host restarting workers that died mid-send kept every
    /// such segment until this was fixed: found by `ringbench stress` with 1–4 MiB messages.)
    @Test(arguments: ReactorBackendKind.allCases)
    func anAbortedSenderReleasesItsRing(kind: ReactorBackendKind) async throws {
        guard let reactor = try Self.reactor(kind) else { return }
        defer { reactor.shutdown() }
        try await withWatchdog(seconds: 60) {
            let segment = try SharedMemorySegment.create(configuration: SegmentConfiguration(hostToWorkerCapacity: 4096, workerToHostCapacity: 4096))
            weak var weakWriter: SharedRingWriter?
            do {
                let sender = RingSender(segment.takeProducer(waker: ReactorWaker(reactor))!, reactor: reactor, profile: .alwaysSleep)
                weakWriter = sender.writer
                let armedBefore = reactor.counters.waitsArmed
                // Nobody reads: a 16 KiB message fills the ring and waits for space.
                let blocked = Task { try await sender.send(kind: .data, streamId: 1, payload: [UInt8](repeating: 7, count: 16 << 10)) }
                while reactor.counters.waitsArmed == armedBefore { await Task.yield() }
                sender.abort(with: RingError.closed)
                await #expect(throws: RingError.closed) { try await blocked.value }
            }
            // One reactor turn after the abort's cancel request: the armed wait has ended.
            await withCheckedContinuation { continuation in
                reactor.schedule(at: Reactor.now()) { _ in continuation.resume() }
            }
            #expect(weakWriter == nil)
        }
    }
}

final class Endpoints: Sendable {
    let host: SharedMemorySegment
    let worker: SharedMemorySegment
    let sender: RingSender
    let receiver: ReceiverBox

    init(_ reactor: Reactor, capacity: Int, profile: WaitProfile) throws {
        (host, worker) = try Self.segments(reactor, capacity: capacity)
        let waker = ReactorWaker(reactor)
        sender = RingSender(host.takeProducer(waker: waker)!, reactor: reactor, profile: profile)
        receiver = ReceiverBox(RingReceiver(worker.takeConsumer(waker: waker)!, reactor: reactor, profile: profile))
    }

    /// One segment mapped twice in this process, as the host and as the worker.
    static func segments(_ reactor: Reactor, capacity: Int) throws -> (host: SharedMemorySegment, worker: SharedMemorySegment) {
        let host = try SharedMemorySegment.create(configuration: SegmentConfiguration(hostToWorkerCapacity: capacity, workerToHostCapacity: capacity))
        let worker = try SharedMemorySegment.attach(descriptor: OwnedDescriptor(adopting: dup(host.unsafeFileDescriptor)), role: .worker)
        // On iouring-eventfd a sleeper waits on a per-word eventfd keyed by the word's address; the
        // two mappings of one memfd give each word two addresses, so they must share doorbells —
        // exactly as two processes do (Docs/Waiting.md).
        if reactor.backend.kind == .ioUringEventfd {
            for direction in RingDirection.allCases {
                let hostGeometry = host.geometry(direction)
                let workerGeometry = worker.geometry(direction)
                for (hostWord, workerWord) in [(hostGeometry.consumerWaiterAddress, workerGeometry.consumerWaiterAddress),
                                               (hostGeometry.producerWaiterAddress, workerGeometry.producerWaiterAddress)] {
                    let descriptor = try reactor.unsafeDoorbellDescriptor(for: hostWord)!
                    try reactor.adoptDoorbell(descriptor: dup(descriptor), for: workerWord)
                }
            }
        }
        return (host, worker)
    }
}

/// Holds a receiver for tests that use it from several tasks one at a time.
final class ReceiverBox: @unchecked Sendable {
    private var receiver: RingReceiver?
    init(_ receiver: consuming RingReceiver) { self.receiver = .some(receiver) }

    func receive(_ body: (MessageView) -> Void) async throws -> Int {
        var local = receiver.take()!
        let result: Result<Int, any Error>
        do { result = .success(try await local.receive(body)) } catch { result = .failure(error) }
        receiver = consume local
        return try result.get()
    }

    /// Receives exactly one message and returns its stream id.
    func receiveOne() async throws -> UInt64 {
        var id: UInt64 = 0
        var local = receiver.take()!
        let result: Result<Int, any Error>
        do { result = .success(try await local.receive(limit: 1) { id = $0.streamId }) } catch { result = .failure(error) }
        receiver = consume local
        _ = try result.get()
        return id
    }

    func drainNow() throws -> Int {
        var local = receiver.take()!
        let result = Result<Int, RingError> { () throws(RingError) in try local.reader.drain { _ in } }
        receiver = consume local
        return try result.get()
    }

    /// Whether the worker's consumer currently announces that it sleeps.
    func isSleeping(_ worker: SharedMemorySegment) -> Bool {
        let word = worker.geometry(.hostToWorker).consumerWaiterAddress
        return word.load(as: UInt32.self) == RingWaiter.sleeping
    }
}
