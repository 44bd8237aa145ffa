@_spi(Unsafe) import RingCore
import RingTestSupport
import Testing

/// A stream id names one message at a time (WireFormat.md §2.5): while a fragmented message of a
/// stream is unfinished, `SharedRingWriter` holds back every new message of that stream — any kind,
/// any size, through any write call — and lets other streams through. Found by the gRPC
/// conformance case with large messages both ways: a stream's credit frame landed between two
/// fragments of the same stream's message, and the peer poisoned the ring.
@Suite struct StreamExclusionTests {
    static let messageSize = 256 << 10

    static func payload(_ seed: Int, _ size: Int) -> [UInt8] {
        (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 13 &+ seed &* 101 &+ ($0 >> 9)) }
    }

    @Test func aStreamWithAnUnfinishedMessageTakesNothingElseUntilItIsOut() throws {
        let segment = try TestSegment(capacity: 1 << 16, maxFrameLength: 4096, maxMessageSize: Self.messageSize)
        let writer = SharedRingWriter(RingProducer(geometry: segment.geometry()))
        var reader = MessageReader(consumer: RingConsumer(geometry: segment.geometry()), limits: ReassemblyLimits(maxMessageSize: Self.messageSize))
        let large = Self.payload(1, Self.messageSize)
        let secondLarge = Self.payload(2, Self.messageSize)
        let credit: [UInt8] = [0, 0, 8, 0]
        var delivered: [(kind: FrameKind, stream: UInt64, payload: [UInt8])] = []
        func drain() throws {
            _ = try reader.drain { message in
                delivered.append((message.kind, message.streamId, Array(message.payload)))
            }
        }
        func small(_ kind: FrameKind, stream: UInt64) throws -> WriteOutcome {
            try credit.withUnsafeBytes { try writer.tryWrite(kind: kind, streamId: stream, payload: $0) }
        }

        // Stream 7's large message starts and stops at a full ring.
        var progress = MessageProgress()
        #expect(try large.withUnsafeBytes { try writer.tryWriteMessage(kind: .streamMessage, streamId: 7, payload: $0, progress: &progress) } == .full)
        #expect(progress.started)
        #expect(writer.streamHasPartialMessage(7))
        #expect(!writer.streamHasPartialMessage(8))
        try drain()  // room again: only the stream rule can refuse now

        // Every way of writing a new message of stream 7 is held back with nothing written.
        let frames = writer.counters.frames
        #expect(try small(.streamCredit, stream: 7) == .full)
        var second = MessageProgress()
        #expect(try secondLarge.withUnsafeBytes { try writer.tryWriteMessage(kind: .streamMessage, streamId: 7, payload: $0, progress: &second) } == .full)
        #expect(!second.started)
        let inPlace = try writer.tryWriteFrame(kind: .streamStatus, streamId: 7, contextLength: 0, payloadLength: 4) { _, out in
            out.copyBytes(from: credit)
        }
        #expect(inPlace == .full)
        #expect(writer.counters.frames == frames)
        #expect(writer.streamBusyRefusals == 3)
        // Other streams pass.
        #expect(try small(.streamCredit, stream: 8) == .written)

        // The message finishes; then stream 7 takes the rest, in the order they are written.
        while try large.withUnsafeBytes({ try writer.tryWriteMessage(kind: .streamMessage, streamId: 7, payload: $0, progress: &progress) }) != .written {
            try drain()
        }
        #expect(!writer.streamHasPartialMessage(7))
        #expect(try small(.streamCredit, stream: 7) == .written)
        while try secondLarge.withUnsafeBytes({ try writer.tryWriteMessage(kind: .streamMessage, streamId: 7, payload: $0, progress: &second) }) != .written {
            try drain()
        }
        try drain()

        #expect(delivered.map(\.stream) == [8, 7, 7, 7])
        #expect(delivered.map(\.kind) == [.streamCredit, .streamMessage, .streamCredit, .streamMessage])
        #expect(delivered[0].payload == credit && delivered[2].payload == credit)
        #expect(delivered[1].payload == large)
        #expect(delivered[3].payload == secondLarge)
        #expect(reader.partialMessageCount == 0)
        #expect(writer.partialInUse.messages == 0)
        #expect(writer.streamBusyRefusals == 3)
    }
}
