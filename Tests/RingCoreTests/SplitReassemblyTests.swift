// Gathered writes (a payload in two parts, written back to back into the frames) and split
// reassembly (a fragmented message's prefix kept apart, the rest assembled into an array the
// receiver takes over): byte-exact across every fragment boundary, and a split the reader must not
// honour is ignored.
@_spi(Unsafe) import RingCore
import RingTestSupport
import Testing

@Suite struct SplitReassemblyTests {
    static let capacity = 1 << 20
    static let maxFrame = 1 << 14

    /// Writes `head` + `tail` as one message (context encoded in place), draining as needed with
    /// `split`; returns every delivered message's prefix view (copied), body and fragment count.
    static func roundTrip(
        head: [UInt8], tail: [UInt8], context: ForwardingContext?, split: @escaping (FrameKind, UnsafeRawBufferPointer) -> Int?
    ) throws -> [(payload: [UInt8], body: [UInt8]?, fragments: Int, context: ForwardingContext?)] {
        let segment = try TestSegment(capacity: capacity, maxFrameLength: maxFrame, maxMessageSize: 4 << 20)
        var producer = RingProducer(geometry: segment.geometry())
        var reader = MessageReader(consumer: RingConsumer(geometry: segment.geometry()))
        var progress = MessageProgress()
        var delivered: [(payload: [UInt8], body: [UInt8]?, fragments: Int, context: ForwardingContext?)] = []
        let collect: (MessageView) -> Void = { message in
            delivered.append(([UInt8](message.payload), message.body, message.fragmentCount, try? message.decodeContext()))
        }
        try head.withUnsafeBytes { head in
            try tail.withUnsafeBytes { tail in
                let payload = GatheredPayload(head, tail)
                while true {
                    let outcome =
                        if let context {
                            try producer.tryWriteMessage(kind: .invocationResponse, streamId: 5, context: context, payload: payload, progress: &progress)
                        } else {
                            try producer.tryWriteMessage(kind: .data, streamId: 5, payload: payload, progress: &progress)
                        }
                    if outcome == .written { break }
                    _ = try reader.drain(splitting: split, collect)
                }
            }
        }
        _ = try reader.drain(splitting: split, collect)
        return delivered
    }

    static func bytes(_ count: Int, seed: UInt8) -> [UInt8] { (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ Int(seed)) } }

    @Test func gatheredPartsArriveBackToBackAcrossEveryBoundary() throws {
        let context = BoundMessage.context(for: 3)
        let firstRoom = Self.maxFrame - FrameHeader.size - context.encodedSize
        let room = Self.maxFrame - FrameHeader.size
        let heads = [0, 1, 9, firstRoom - 1, firstRoom, firstRoom + 1, firstRoom + room + 5]
        let tails = [0, 1, 63, room, 3 * room + 17]
        for withContext in [true, false] {
            for headCount in heads {
                for tailCount in tails {
                    let head = Self.bytes(headCount, seed: 1)
                    let tail = Self.bytes(tailCount, seed: 101)
                    let delivered = try Self.roundTrip(head: head, tail: tail, context: withContext ? context : nil) { _, _ in nil }
                    #expect(delivered.count == 1, "head \(headCount) tail \(tailCount)")
                    #expect(delivered.first?.payload == head + tail, "head \(headCount) tail \(tailCount)")
                    #expect(delivered.first?.body == nil)
                    #expect(delivered.first?.context == (withContext ? context : nil))
                }
            }
        }
    }

    /// The view handed to the reader's closure once per message holds no reference (the split body
    /// is reached through a pointer into the reader's frame): a view with a reference costs every
    /// message an outlined copy and a release, which halved one-way 64 B streaming once.
    @Test func aMessageViewIsTriviallyCopyable() {
        #expect(_isPOD(MessageView.self))
        #expect(_isPOD(FrameView.self))
    }

    @Test func aSplitMessageHandsOverItsBodyWhole() throws {
        let context = BoundMessage.context(for: 4)
        let firstRoom = Self.maxFrame - FrameHeader.size - context.encodedSize
        for prefixCount in [1, 4, 300, firstRoom - 1, firstRoom] {
            let prefix = Self.bytes(prefixCount, seed: 9)
            let body = Self.bytes(5 * Self.maxFrame + 123, seed: 77)
            var asked: [(FrameKind, Int)] = []
            let delivered = try Self.roundTrip(head: prefix, tail: body, context: context) { kind, first in
                asked.append((kind, first.count))
                return prefixCount
            }
            #expect(asked.count == 1 && asked.first?.0 == .invocationResponse && asked.first?.1 == firstRoom, "prefix \(prefixCount)")
            #expect(delivered.count == 1)
            #expect(delivered.first?.payload == prefix, "prefix \(prefixCount)")
            #expect(delivered.first?.body == body, "prefix \(prefixCount)")
            let room = Self.maxFrame - FrameHeader.size
            #expect(delivered.first?.fragments == 1 + (prefix.count + body.count - firstRoom + room - 1) / room)
            #expect(delivered.first?.context == context)
        }
    }

    @Test func splitsOutsideTheFirstFragmentAreIgnored() throws {
        let context = BoundMessage.context(for: 5)
        let firstRoom = Self.maxFrame - FrameHeader.size - context.encodedSize
        let payload = Self.bytes(3 * Self.maxFrame, seed: 3)
        for split in [0, -1, firstRoom + 1, Int.max] {
            let delivered = try Self.roundTrip(head: payload, tail: [], context: context) { _, _ in split }
            #expect(delivered.count == 1)
            #expect(delivered.first?.payload == payload, "split \(split)")
            #expect(delivered.first?.body == nil, "split \(split)")
        }
    }

    @Test func unfragmentedMessagesAreNeverSplit() throws {
        var asked = 0
        let payload = Self.bytes(100, seed: 8)
        let delivered = try Self.roundTrip(head: payload, tail: [], context: BoundMessage.context(for: 6)) { _, _ in
            asked += 1
            return 4
        }
        #expect(asked == 0)
        #expect(delivered.count == 1 && delivered.first?.payload == payload && delivered.first?.body == nil)
    }

    @Test func copyPayloadOfASplitMessageIsTheWholeMessage() throws {
        let segment = try TestSegment(capacity: Self.capacity, maxFrameLength: Self.maxFrame, maxMessageSize: 4 << 20)
        var producer = RingProducer(geometry: segment.geometry())
        var reader = MessageReader(consumer: RingConsumer(geometry: segment.geometry()))
        var progress = MessageProgress()
        let payload = Self.bytes(2 * Self.maxFrame, seed: 12)
        let outcome = try payload.withUnsafeBytes { try producer.tryWriteMessage(kind: .data, streamId: 1, payload: $0, progress: &progress) }
        #expect(outcome == .written)
        var copied: [[UInt8]] = []
        _ = try reader.drain(splitting: { _, _ in 10 }) { copied.append($0.copyPayload()) }
        #expect(copied == [payload])
    }
}
