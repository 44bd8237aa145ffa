@_spi(Unsafe) @_spi(Testing) import RingCore
import RingTestSupport
import Testing

/// `RingProducer.writeBatch`: one reservation and one publication for many small frames, at every
/// wrap position, with exact frame counts and bytes.
@Suite struct BatchWriteTests {
    static let capacity = 1024
    static let maxFrame = 256

    static func payload(_ id: UInt64, _ size: Int) -> [UInt8] {
        (0..<size).map { UInt8(truncatingIfNeeded: Int(truncatingIfNeeded: id) &* 31 &+ $0 &* 7) }
    }

    /// Sizes of the frames a batch appends, cycled: tiny, unaligned, aligned and 64 B payloads.
    static let sizes = [0, 1, 7, 8, 9, 33, 64, 100]

    /// From every 8-byte start position (two laps), batches of mixed sizes go in until the ring has
    /// taken 40 frames; the consumer drains between batches. Every frame arrives once, in order,
    /// byte for byte, and a frame a batch could not take is the first of the next batch.
    @Test func everyStartPositionDeliversEveryFrameOnceInOrder() throws {
        let segment = try TestSegment(capacity: Self.capacity, maxFrameLength: Self.maxFrame)
        let positions = try segment.forEachStartPosition { _, producer, consumer in
            var next: UInt64 = 0
            var received: [UInt64] = []
            var emptyBatches = 0
            var batches = 0
            while next < 40 && batches < 200 {  // bounded: a batch that stops making progress fails, not hangs
                batches += 1
                let first = next
                let written = try producer.writeBatch { batch in
                    while next < 40 {
                        let data = Self.payload(next, Self.sizes[Int(next) % Self.sizes.count])
                        let taken = data.withUnsafeBytes { batch.append(kind: .data, streamId: next, payload: $0) }
                        guard taken else { break }
                        next += 1
                    }
                }
                #expect(written == Int(next - first))
                if written == 0 { emptyBatches += 1 }
                _ = try consumer.drain { frame in
                    #expect(frame.kind == .data)
                    #expect(frame.flags == .unfragmented)
                    #expect(frame.context.count == 0)
                    #expect(Array(frame.payload) == Self.payload(frame.streamId, Self.sizes[Int(frame.streamId) % Self.sizes.count]))
                    received.append(frame.streamId)
                }
                // An empty batch only pads the end of the data area; the next one must make progress.
                #expect(emptyBatches < 2)
                if written > 0 { emptyBatches = 0 }
            }
            #expect(received == Array(0..<40))
            #expect(producer.counters.frames == 40)
        }
        #expect(positions == 2 * Self.capacity / 8)
    }

    /// The frames of a batch become visible together, with one release store of the tail.
    @Test func aBatchIsOnePublication() throws {
        let segment = try TestSegment(capacity: Self.capacity, maxFrameLength: Self.maxFrame)
        let geometry = segment.geometry()
        var producer = RingProducer(geometry: geometry)
        var consumer = RingConsumer(geometry: geometry)
        let publishesBefore = producer.counters.publishes
        let data = Self.payload(1, 16)
        var seenInside = -1
        var taken: [Bool] = []
        let written = try producer.writeBatch { batch in
            for id in 0..<10 as Range<UInt64> {
                taken.append(data.withUnsafeBytes { batch.append(kind: .log, flags: .userSettable, streamId: id, payload: $0) })
            }
            seenInside = (try? consumer.drain { _ in }) ?? -2
        }
        #expect(written == 10)
        #expect(taken == Array(repeating: true, count: 10))
        #expect(seenInside == 0)
        #expect(producer.counters.publishes == publishesBefore + 1)
        var ids: [UInt64] = []
        _ = try consumer.drain { frame in
            ids.append(frame.streamId)
            #expect(frame.kind == .log)
            #expect(frame.flags == FrameFlags.userSettable.union(.unfragmented))
            #expect(Array(frame.payload) == data)
        }
        #expect(ids == Array(0..<10))
    }

    /// `publish: false` leaves the batch invisible until `publish()`.
    @Test func anUnpublishedBatchWaitsForPublish() throws {
        let segment = try TestSegment(capacity: Self.capacity, maxFrameLength: Self.maxFrame)
        let geometry = segment.geometry()
        var producer = RingProducer(geometry: geometry)
        var consumer = RingConsumer(geometry: geometry)
        let data = Self.payload(2, 8)
        let written = try producer.writeBatch(publish: false) { batch in
            _ = data.withUnsafeBytes { batch.append(kind: .data, streamId: 5, payload: $0) }
        }
        #expect(written == 1)
        #expect(try consumer.drain { _ in } == 0)
        producer.publish()
        var ids: [UInt64] = []
        let drained = try consumer.drain { ids.append($0.streamId) }
        #expect(drained == 1)
        #expect(ids == [5])
    }

    /// A full ring takes nothing: the batch appends no frame, writes no byte, and counts one full
    /// result; once the consumer drains, the same frame goes in.
    @Test func aFullRingTakesNothing() throws {
        let segment = try TestSegment(capacity: Self.capacity, maxFrameLength: Self.maxFrame)
        let geometry = segment.geometry()
        var producer = RingProducer(geometry: geometry)
        var consumer = RingConsumer(geometry: geometry)
        let data = Self.payload(3, 32)  // 64-byte frames: exactly 16 fill the ring
        let filled = try producer.writeBatch { batch in
            while data.withUnsafeBytes({ batch.append(kind: .data, streamId: 0, payload: $0) }) {}
        }
        #expect(filled == 16)
        let usedBefore = producer.usedBytes
        var remaining = -1
        var taken = true
        let none = try producer.writeBatch { batch in
            remaining = batch.remaining
            taken = data.withUnsafeBytes { batch.append(kind: .data, streamId: 1, payload: $0) }
        }
        #expect(none == 0)
        #expect(!taken)
        #expect(remaining == 0)
        #expect(producer.usedBytes == usedBefore)
        #expect(producer.counters.fullCount == 1)
        #expect(try consumer.drain { _ in } == 16)
        let after = try producer.writeBatch { batch in
            taken = data.withUnsafeBytes { batch.append(kind: .data, streamId: 2, payload: $0) }
        }
        #expect(after == 1)
        #expect(taken)
    }

    /// A frame that does not fit before the end of the data area: the batch pads the end, so the
    /// next batch starts at the beginning (and the consumer skips the padding).
    @Test func theEndIsPaddedForTheNextBatch() throws {
        let segment = try TestSegment(capacity: Self.capacity, maxFrameLength: Self.maxFrame)
        let geometry = segment.geometry()
        geometry.unsafeRepositionForTesting(to: UInt64(Self.capacity - 40))
        var producer = RingProducer(geometry: geometry)
        var consumer = RingConsumer(geometry: geometry)
        let data = Self.payload(4, 32)  // a 64-byte frame
        var remaining = -1
        var taken = true
        let none = try producer.writeBatch { batch in
            remaining = batch.remaining
            taken = data.withUnsafeBytes { batch.append(kind: .data, streamId: 7, payload: $0) }
        }
        #expect(none == 0)
        #expect(remaining == 40)
        #expect(!taken)
        #expect(producer.usedBytes == 40)
        let prefix = geometry.data.load(fromByteOffset: Self.capacity - 40, as: UInt64.self)
        #expect(FrameHeader.decodePrefix(prefix).kind == .padding)
        #expect(FrameHeader.decodePrefix(prefix).length == 40)
        let one = try producer.writeBatch { batch in
            taken = data.withUnsafeBytes { batch.append(kind: .data, streamId: 7, payload: $0) }
        }
        #expect(one == 1)
        #expect(taken)
        var frames = 0
        _ = try consumer.drain { frame in
            frames += 1
            #expect(frame.streamId == 7)
            #expect(Array(frame.payload) == data)
        }
        #expect(frames == 1)
        #expect(producer.usedBytes == 40 + 64)
    }

    /// A hostile peer that moves the head past the tail (or backwards, or off the 8-byte grid)
    /// fails the batch with `.protocolViolation` before `body` runs; the producer stays poisoned.
    /// (The ring starts at 512 and the first batch fills it to the end of the data area, so the
    /// second sees no free space from the beginning and must re-read the head.)
    @Test(arguments: [UInt64(2048), 516, 8, 1 << 40])
    func aHostileHeadFailsTheBatch(head: UInt64) throws {
        let segment = try TestSegment(capacity: Self.capacity, maxFrameLength: Self.maxFrame)
        let geometry = segment.geometry()
        geometry.unsafeRepositionForTesting(to: 512)
        var producer = RingProducer(geometry: geometry)
        let data = Self.payload(5, 56)  // 88-byte frames: 5 fit the 512 bytes to the end, then padding
        let filled = try producer.writeBatch { batch in
            while data.withUnsafeBytes({ batch.append(kind: .data, streamId: 0, payload: $0) }) {}
        }
        #expect(filled == 5)
        #expect(producer.usedBytes == 512)
        geometry.control.storeBytes(of: head.littleEndian, toByteOffset: SegmentLayout.Control.head, as: UInt64.self)
        let usedBefore = producer.usedBytes
        var called = false
        #expect { try producer.writeBatch { _ in called = true } } throws: { error in
            guard case RingError.protocolViolation(let reason) = error else { return false }
            return reason.contains("head moved to \(head)")
        }
        #expect(!called)
        #expect(producer.usedBytes == usedBefore)
        #expect(throws: RingError.self) { try producer.writeBatch { _ in called = true } }
        #expect(!called)
    }

    /// A segment whose frame limit is below `FrameBatch.maxFrameLength` bounds the batch's frames by
    /// its own limit, so the consumer never sees a frame longer than the segment allows (found by
    /// the fuzzer: a 4 KiB ring with 1 KiB frames received a 3.5 KiB batch frame and failed).
    @Test func theSegmentsFrameLimitBoundsABatch() throws {
        let segment = try TestSegment(capacity: Self.capacity, maxFrameLength: Self.maxFrame)
        let geometry = segment.geometry()
        var producer = RingProducer(geometry: geometry)
        var consumer = RingConsumer(geometry: geometry)
        #expect(producer.maxBatchPayload == Self.maxFrame - FrameHeader.size)
        let data = Self.payload(6, producer.maxBatchPayload)
        var limit = 0
        var taken = false
        let written = try producer.writeBatch { batch in
            limit = batch.maxPayload
            taken = data.withUnsafeBytes { batch.append(kind: .data, streamId: 9, payload: $0) }
        }
        #expect(limit == Self.maxFrame - FrameHeader.size)
        #expect(written == 1)
        #expect(taken)
        var payloads: [[UInt8]] = []
        _ = try consumer.drain { payloads.append(Array($0.payload)) }
        #expect(payloads == [data])
    }

    /// After `close()` a batch throws `.closed` and writes nothing.
    @Test func aClosedProducerRefusesBatches() throws {
        let segment = try TestSegment(capacity: Self.capacity, maxFrameLength: Self.maxFrame)
        let geometry = segment.geometry()
        var producer = RingProducer(geometry: geometry)
        producer.close()
        var called = false
        #expect(throws: RingError.closed) { try producer.writeBatch { _ in called = true } }
        #expect(!called)
    }
}
