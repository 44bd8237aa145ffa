@_spi(Unsafe) @_spi(Testing) import RingCore
import RingTestSupport
import Testing

/// Deterministic tests of every wrap position: head and tail start at each 8-byte offset of the
/// data area (and past the first lap), then frames of every size class cross the boundary.
@Suite struct RingWrapTests {
    static let capacity = 1024
    static let maxFrame = 256

    /// Payload sizes covering empty, tiny, unaligned, aligned and maximal frames.
    static let sizes = [0, 1, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 100, 127, 128, maxFrame - FrameHeader.size - 8,
                        maxFrame - FrameHeader.size]

    @Test func everyStartPositionEverySize() throws {
        let segment = try TestSegment(capacity: Self.capacity, maxFrameLength: Self.maxFrame)
        var checked = 0
        try segment.forEachStartPosition { start, producer, consumer in
            for (index, size) in Self.sizes.enumerated() {
                let id = UInt64(start * 100 + index)
                let payload = (0..<size).map { UInt8(truncatingIfNeeded: Int(id) &+ $0 &* 7) }
                let context: [UInt8] = index % 3 == 0 ? [] : [UInt8(index), 1, 2]
                let fits = FrameHeader.size + context.count + size <= Self.maxFrame
                guard fits else { continue }
                let outcome = try context.withUnsafeBytes { c in
                    try payload.withUnsafeBytes { p in try producer.tryWrite(kind: .data, streamId: id, context: c, payload: p) }
                }
                #expect(outcome == .written)
                var seen = 0
                _ = try consumer.drain { frame in
                    seen += 1
                    #expect(frame.streamId == id)
                    #expect(frame.kind == .data)
                    #expect(frame.flags == .unfragmented)
                    #expect(Array(frame.context) == context)
                    #expect(Array(frame.payload) == payload)
                }
                #expect(seen == 1)
                checked += 1
            }
        }
        #expect(checked == 2 * Self.capacity / 8 * Self.sizes.count - 2 * Self.capacity / 8 * 1)
    }

    @Test func paddingFrameFillsTheEnd() throws {
        let segment = try TestSegment(capacity: Self.capacity, maxFrameLength: Self.maxFrame)
        let geometry = segment.geometry()
        // 40 bytes before the end: a 64-byte frame cannot fit, so a 40-byte padding frame precedes it.
        geometry.unsafeRepositionForTesting(to: UInt64(Self.capacity - 40))
        var producer = RingProducer(geometry: geometry)
        var consumer = RingConsumer(geometry: geometry)
        let payload = [UInt8](repeating: 0xAB, count: 32)
        #expect(try payload.withUnsafeBytes { try producer.tryWrite(kind: .data, streamId: 9, payload: $0) } == .written)
        let prefix = geometry.data.load(fromByteOffset: Self.capacity - 40, as: UInt64.self)
        #expect(FrameHeader.decodePrefix(prefix).kind == .padding)
        #expect(FrameHeader.decodePrefix(prefix).length == 40)
        #expect(producer.usedBytes == 40 + 64)
        var frames = 0
        _ = try consumer.drain { frame in
            frames += 1
            #expect(Array(frame.payload) == payload)
        }
        #expect(frames == 1)
    }

    @Test func exactFitAtTheEndNeedsNoPadding() throws {
        let segment = try TestSegment(capacity: Self.capacity, maxFrameLength: Self.maxFrame)
        let geometry = segment.geometry()
        geometry.unsafeRepositionForTesting(to: UInt64(Self.capacity - 64))
        var producer = RingProducer(geometry: geometry)
        let payload = [UInt8](repeating: 1, count: 32)
        #expect(try payload.withUnsafeBytes { try producer.tryWrite(kind: .data, streamId: 1, payload: $0) } == .written)
        #expect(producer.usedBytes == 64)
    }

    @Test func fragmentsAcrossTheBoundaryAtEveryPosition() throws {
        let segment = try TestSegment(capacity: Self.capacity, maxFrameLength: Self.maxFrame, maxMessageSize: 4096)
        let context = try BoundMessage.context(for: 3).encoded()
        for start in stride(from: 0, to: Self.capacity, by: 8) {
            segment.reset()
            let geometry = segment.geometry()
            geometry.unsafeRepositionForTesting(to: UInt64(start))
            var producer = RingProducer(geometry: geometry)
            var reader = MessageReader(consumer: RingConsumer(geometry: geometry))
            let size = 700 + start % 64
            let payload = BoundMessage.payload(id: 3, size: size, contextBytes: context)
            var progress = MessageProgress()
            var delivered = 0
            try context.withUnsafeBytes { c in
                try payload.withUnsafeBytes { p in
                    while try producer.tryWriteMessage(kind: .invocationRequest, streamId: 3, context: c, payload: p,
                                                       progress: &progress) == .full {
                        _ = try reader.drain { _ in Issue.record("delivered before complete") }
                    }
                }
            }
            _ = try reader.drain { message in
                delivered += 1
                #expect(message.kind == .invocationRequest)
                #expect(message.fragmentCount == progress.fragments)
                #expect(BoundMessage.verify(id: 3, streamId: message.streamId, context: message.context,
                                            payload: message.payload, size: size) == nil)
            }
            #expect(delivered == 1)
            #expect(progress.fragments >= 3)
            #expect(reader.partialMessageCount == 0)
        }
    }

    @Test func fullIsAResultAndNothingIsOverwritten() throws {
        let segment = try TestSegment(capacity: Self.capacity, maxFrameLength: Self.maxFrame)
        var producer = RingProducer(geometry: segment.geometry())
        var consumer = RingConsumer(geometry: segment.geometry())
        let payload = [UInt8](repeating: 5, count: 96)  // 128-byte frames: 8 fill the ring
        var written: UInt64 = 0
        while try payload.withUnsafeBytes({ try producer.tryWrite(kind: .data, streamId: written, payload: $0) }) == .written {
            written += 1
        }
        #expect(written == 8)
        #expect(producer.counters.fullCount == 1)
        var next: UInt64 = 0
        _ = try consumer.drain(limit: 3) { frame in
            #expect(frame.streamId == next)
            next += 1
        }
        // Space for three more frames now.
        for _ in 0..<3 {
            #expect(try payload.withUnsafeBytes { try producer.tryWrite(kind: .data, streamId: written, payload: $0) } == .written)
            written += 1
        }
        #expect(try payload.withUnsafeBytes { try producer.tryWrite(kind: .data, streamId: written, payload: $0) } == .full)
        _ = try consumer.drain { frame in
            #expect(frame.streamId == next)
            #expect(Array(frame.payload) == payload)
            next += 1
        }
        #expect(next == written)
    }

    @Test func batchedPublicationIsInvisibleUntilPublished() throws {
        let segment = try TestSegment(capacity: Self.capacity, maxFrameLength: Self.maxFrame)
        var producer = RingProducer(geometry: segment.geometry())
        var consumer = RingConsumer(geometry: segment.geometry())
        let payload: [UInt8] = [1, 2, 3]
        for id in 0..<4 as Range<UInt64> {
            _ = try payload.withUnsafeBytes { try producer.tryWrite(kind: .data, streamId: id, payload: $0, publish: false) }
        }
        #expect(try consumer.drain { _ in } == 0)
        let pending = producer.hasUnpublished
        #expect(pending)
        producer.publish()
        #expect(producer.counters.publishes == 1)
        #expect(try consumer.drain { _ in } == 4)
    }

    @Test func closeDrainsThenReportsClosed() throws {
        let segment = try TestSegment(capacity: Self.capacity, maxFrameLength: Self.maxFrame)
        var producer = RingProducer(geometry: segment.geometry())
        var consumer = RingConsumer(geometry: segment.geometry())
        _ = try [UInt8(1)].withUnsafeBytes { try producer.tryWrite(kind: .data, streamId: 1, payload: $0, publish: false) }
        producer.close()
        #expect(try consumer.drain { _ in } == 1)
        #expect(throws: RingError.closed) { try consumer.drain { _ in } }
    }
}
