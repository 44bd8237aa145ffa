import Dispatch
import RingCore
import RingLinux
import RingTestSupport
import Testing

/// A second process (RingFixture) attaches through an inherited descriptor and echoes every
/// message. Each message binds its payload to its own id and context, so a lost, duplicated,
/// reordered, torn or mismatched frame is detected.
@Suite(.serialized) struct CrossProcessEchoTests {
    static let messages = 1_000_000

    /// Payload size of message `id`: mostly small, sometimes large enough to fragment.
    static func size(of id: UInt64) -> Int {
        if id % 50_000 == 7 { return 150_000 + Int(id % 4096) }  // 3 fragments with 64 KiB frames
        return BoundMessage.headerSize + Int(id % 241)
    }

    @Test func oneMillionFramesEchoedIntact() throws {
        let segment = try SharedMemorySegment.create(
            configuration: SegmentConfiguration(hostToWorkerCapacity: 1 << 20, workerToHostCapacity: 1 << 20,
                                                maxMessageSize: 1 << 20, maxFrameLength: 64 << 10))
        let child = try spawnFixture("echo", segment: segment)
        let sendable = SendableProducer(segment.takeProducer()!)
        var reader = MessageReader(consumer: segment.takeConsumer()!)
        try withWatchdog(seconds: 600) {
            // The writer runs on its own thread so that neither side can block the other.
            let writerDone = DispatchSemaphore(value: 0)
            let writerError = LockedBox<String?>(nil)
            Thread.start {
                var producer = sendable.take()
                var backoff = Backoff()
                do {
                    for id in 0..<UInt64(Self.messages) {
                        let context = BoundMessage.context(for: id)
                        let contextBytes = try context.encoded()
                        let payload = BoundMessage.payload(id: id, size: Self.size(of: id), contextBytes: contextBytes)
                        try contextBytes.withUnsafeBytes { c in
                            try payload.withUnsafeBytes { p in
                                try producer.writeMessage(kind: .invocationRequest, streamId: id, context: c, payload: p, backoff: &backoff)
                            }
                        }
                    }
                    producer.close()
                } catch { writerError.value = "\(error)" }
                writerDone.signal()
            }
            var expected: UInt64 = 0
            var failures: [String] = []
            var backoff = Backoff()
            var fragmented = 0
            receiving: while true {
                do {
                    _ = try reader.receive(backoff: &backoff) { message in
                        if message.fragmentCount > 1 { fragmented += 1 }
                        if let problem = BoundMessage.verify(
                            id: expected, streamId: message.streamId, context: message.context, payload: message.payload,
                            size: Self.size(of: expected))
                        {
                            if failures.count < 10 { failures.append(problem) }
                        }
                        expected += 1
                    }
                } catch RingError.closed {
                    break receiving
                }
            }
            writerDone.wait()
            #expect(writerError.value == nil)
            #expect(failures.isEmpty, "\(failures)")
            #expect(expected == UInt64(Self.messages))
            #expect(fragmented == Self.messages / 50_000)
            #expect(try child.wait() == .exited(0))
        }
    }

    @Test func hostileWorkerIsATypedViolationNotACrash() throws {
        for seed in 1...20 {
            let segment = try SharedMemorySegment.create(
                configuration: SegmentConfiguration(hostToWorkerCapacity: 1 << 14, workerToHostCapacity: 1 << 14))
            let child = try spawnFixture("hostile", segment: segment,
                                         environment: ["RING_HOSTILE_COUNT": "200", "RING_HOSTILE_SEED": "\(seed)"])
            #expect(try child.wait() == .exited(0))
            var reader = MessageReader(consumer: segment.takeConsumer()!)
            do {
                for _ in 0..<8 { _ = try reader.drain { _ in } }
            } catch {
                switch error {
                case .protocolViolation, .closed: break
                default: Issue.record("unexpected \(error)")
                }
            }
        }
    }
}
