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

    /// On the default 4 MiB ring with 1 MiB frames: fragments of 64 KiB, and at most a 256 KiB
    /// window of them in the ring, however much room the ring has ("Fragments in small steps").
    @Test func fragmentsFillOnlyTheirWindowAndSmallFramesStillFit() throws {
        let segment = try TestSegment(capacity: 4 << 20, maxFrameLength: 1 << 20, maxMessageSize: 8 << 20)
        var producer = RingProducer(geometry: segment.geometry())
        var consumer = RingConsumer(geometry: segment.geometry())
        let fragmentFrame = FrameHeader.size + (64 << 10)
        #expect(producer.fragmentPayloadLength == 64 << 10)
        #expect(producer.fragmentWindow == 4 * fragmentFrame)
        let huge = (0..<(4 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        var progress = MessageProgress()
        let first = try huge.withUnsafeBytes { try producer.tryWriteMessage(kind: .data, streamId: 9, payload: $0, progress: &progress) }
        #expect(first == .full)
        #expect(progress.fragments == 4)
        #expect(progress.payloadWritten == 4 * (64 << 10))
        // The next fragment waits for the window, not for the ring…
        let next = producer.nextFrame(contextLength: 0, payloadLength: huge.count, progress: progress)
        #expect(next == NextFrame(contextBytes: 0, payloadBytes: 64 << 10, fragment: true))
        #expect(try producer.prepareToSleep(untilFree: next.frameLength, fragment: true))
        producer.finishSleep()
        // …while a whole 512 KiB message (one frame) and small ones go in at once.
        let whole = [UInt8](repeating: 3, count: 512 << 10)
        #expect(try whole.withUnsafeBytes { try producer.tryWrite(kind: .data, streamId: 10, payload: $0) } == .written)
        #expect(try [UInt8](repeating: 1, count: 64).withUnsafeBytes { try producer.tryWrite(kind: .data, streamId: 11, payload: $0) } == .written)
        // The window counts everything ahead: with the 512 KiB frame still unread, one fragment
        // read makes no room for another; the ring read empty makes room for four.
        var read = 0
        _ = try consumer.drain(limit: 1) { _ in read += 1 }
        #expect(read == 1)
        let blocked = try huge.withUnsafeBytes { try producer.tryWriteMessage(kind: .data, streamId: 9, payload: $0, progress: &progress) }
        #expect(blocked == .full && progress.fragments == 4)
        _ = try consumer.drain { _ in read += 1 }
        #expect(read == 6)
        let more = try huge.withUnsafeBytes { try producer.tryWriteMessage(kind: .data, streamId: 9, payload: $0, progress: &progress) }
        #expect(more == .full && progress.fragments == 8)
    }

    @Test func aFragmentBudgetStopsTheCallAndKeepsItsPlace() throws {
        let segment = try TestSegment(capacity: 4 << 20, maxFrameLength: 1 << 20, maxMessageSize: 8 << 20)
        var producer = RingProducer(geometry: segment.geometry())
        var reader = MessageReader(consumer: RingConsumer(geometry: segment.geometry()))
        let payload = (0..<((1 << 20) + 1)).map { UInt8(truncatingIfNeeded: $0 &* 11) }
        var progress = MessageProgress()
        var calls = 0
        var delivered: [[UInt8]] = []
        while true {
            calls += 1
            let outcome = try payload.withUnsafeBytes {
                try producer.tryWriteMessage(kind: .data, streamId: 4, payload: GatheredPayload($0), progress: &progress, maxFragments: 1)
            }
            #expect(progress.fragments == calls)
            _ = try reader.drain { delivered.append($0.copyPayload()) }
            if outcome == .written { break }
        }
        // 1 MiB + 1 byte in 64 KiB fragments: seventeen frames, one per call.
        #expect(calls == 17)
        #expect(delivered == [payload])
    }

    /// `SharedRingWriter` with a fragment budget (what `RingSender` uses on a reactor thread: one
    /// fragment per turn) writes exactly that many and keeps its place; without one it writes
    /// every fragment the window allows under one lock.
    @Test func theSharedWriterHonoursTheFragmentBudget() throws {
        let segment = try TestSegment(capacity: 4 << 20, maxFrameLength: 1 << 20, maxMessageSize: 8 << 20)
        let writer = SharedRingWriter(RingProducer(geometry: segment.geometry()))
        var reader = MessageReader(consumer: RingConsumer(geometry: segment.geometry()))
        let payload = (0..<((1 << 20) + 1)).map { UInt8(truncatingIfNeeded: $0 &* 5) }
        var progress = MessageProgress()
        let one = try payload.withUnsafeBytes {
            try writer.tryWriteMessage(kind: .data, streamId: 3, payload: GatheredPayload($0), progress: &progress, maxFragments: 1)
        }
        #expect(one == .full && progress.fragments == 1)
        let rest = try payload.withUnsafeBytes {
            try writer.tryWriteMessage(kind: .data, streamId: 3, payload: GatheredPayload($0), progress: &progress)
        }
        #expect(rest == .full && progress.fragments == 4)  // the window: four 64 KiB fragments
        var delivered: [[UInt8]] = []
        while try payload.withUnsafeBytes({
            try writer.tryWriteMessage(kind: .data, streamId: 3, payload: GatheredPayload($0), progress: &progress)
        }) == .full {
            _ = try reader.drain { delivered.append($0.copyPayload()) }
        }
        _ = try reader.drain { delivered.append($0.copyPayload()) }
        #expect(progress.fragments == 17)
        #expect(delivered == [payload])
    }
}
