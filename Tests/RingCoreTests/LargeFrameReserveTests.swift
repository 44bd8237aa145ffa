@_spi(Unsafe) import RingCore
import RingTestSupport
import Testing

/// Large frames (the fragments of a large message) leave a reserve of the ring to smaller frames,
/// so a small message is never stuck behind a large one of the same writer (RingProducer, "Room for
/// small frames"). Exact counts on a 64 KiB ring with 16 KiB frames: threshold 4 KiB, reserve 16 KiB.
@Suite struct LargeFrameReserveTests {
    static let capacity = 1 << 16
    static let largePayload = 8192 - FrameHeader.size  // an 8 KiB frame: large
    static let smallPayload = 64  // a 96-byte frame: small

    @Test func limitsFollowTheGeometry() throws {
        let segment = try TestSegment(capacity: Self.capacity, maxFrameLength: 16 << 10)
        let producer = RingProducer(geometry: segment.geometry())
        #expect(producer.largeFrameThreshold == 4096)
        #expect(producer.largeFrameReserve == 16 << 10)
        // A frame limit of half the ring leaves no reserve (a large frame must still fit an empty
        // ring after a wrap's padding).
        let half = try TestSegment(capacity: Self.capacity, maxFrameLength: 32 << 10)
        #expect(RingProducer(geometry: half.geometry()).largeFrameReserve == 0)
    }

    @Test func largeFramesStopShortOfTheReserveAndSmallOnesStillFit() throws {
        let segment = try TestSegment(capacity: Self.capacity, maxFrameLength: 16 << 10)
        var producer = RingProducer(geometry: segment.geometry())
        var consumer = RingConsumer(geometry: segment.geometry())
        let large = [UInt8](repeating: 0xA5, count: Self.largePayload)
        let small = (0..<Self.smallPayload).map { UInt8($0) }
        var largeWritten = 0
        while try large.withUnsafeBytes({ try producer.tryWrite(kind: .data, streamId: 1, payload: $0) }) == .written {
            largeWritten += 1
        }
        // 48 KiB of the 64 KiB ring: six 8 KiB frames, not eight.
        #expect(largeWritten == 6)
        // The large writer must sleep until the reserve plus its worst case is free.
        #expect(try producer.prepareToSleep(untilFree: 8192))
        producer.finishSleep()
        var smallWritten = 0
        while try small.withUnsafeBytes({ try producer.tryWrite(kind: .data, streamId: 2, payload: $0) }) == .written {
            smallWritten += 1
        }
        // The reserve holds 16384 / 96 = 170 small frames.
        #expect(smallWritten == 170)
        var seen: [UInt64] = []
        var payloadsMatch = true
        _ = try consumer.drain { frame in
            seen.append(frame.streamId)
            let expected = frame.streamId == 1 ? large : small
            if !frame.payload.elementsEqual(expected) { payloadsMatch = false }
        }
        #expect(seen == Array(repeating: 1, count: 6) + Array(repeating: 2, count: 170))
        #expect(payloadsMatch)
        // Drained: a large frame fits again, and a small writer would not sleep.
        #expect(try large.withUnsafeBytes { try producer.tryWrite(kind: .data, streamId: 3, payload: $0) } == .written)
        #expect(try !producer.prepareToSleep(untilFree: 96))
    }

    @Test func aLargeMessageInterleavesWithSmallOnesInsteadOfHoldingThemBack() throws {
        let segment = try TestSegment(capacity: Self.capacity, maxFrameLength: 16 << 10, maxMessageSize: 1 << 20)
        var producer = RingProducer(geometry: segment.geometry())
        var reader = MessageReader(consumer: RingConsumer(geometry: segment.geometry()))
        let huge = (0..<(256 << 10)).map { UInt8(truncatingIfNeeded: $0 &* 13) }
        let small = [UInt8](repeating: 7, count: Self.smallPayload)
        var progress = MessageProgress()
        var smallSent: UInt64 = 0
        var delivered: [(id: UInt64, bytes: [UInt8])] = []
        var hugeDone = false
        while !hugeDone {
            // The large message takes what its share allows…
            hugeDone = try huge.withUnsafeBytes {
                try producer.tryWriteMessage(kind: .data, streamId: 1_000, payload: $0, progress: &progress)
            } == .written
            // …and a small message always gets in right away, between its fragments.
            smallSent += 1
            #expect(try small.withUnsafeBytes { try producer.tryWrite(kind: .data, streamId: smallSent, payload: $0) } == .written)
            _ = try reader.drain { delivered.append(($0.streamId, Array($0.payload))) }
        }
        _ = try reader.drain { delivered.append(($0.streamId, Array($0.payload))) }
        #expect(delivered.filter { $0.id == 1_000 }.map(\.bytes) == [huge])
        #expect(delivered.filter { $0.id != 1_000 }.map(\.id) == Array(1...smallSent))
        #expect(delivered.filter { $0.id != 1_000 }.allSatisfy { $0.bytes == small })
        #expect(progress.fragments > 16)
    }
}
