@_spi(Unsafe) import RingCore
import RingTestSupport
import Testing

/// Messages from 1 byte to the 64 MiB default limit, around every frame/fragment boundary, and one
/// byte over the limit.
@Suite(.serialized) struct LargeMessageTests {
    static let capacity = 4 << 20
    static let maxFrame = 1 << 20
    static let limit = SegmentConfiguration.defaultMaxMessageSize

    /// A payload whose every 8-byte word differs (fast to build even in debug builds).
    static func payload(_ size: Int, seed: UInt64) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: size)
        bytes.withUnsafeMutableBytes { raw in
            var i = 0
            while i + 8 <= size {
                raw.storeBytes(of: seed &+ UInt64(i) &* 0x9E37_79B9, toByteOffset: i, as: UInt64.self)
                i += 8
            }
            while i < size { raw[i] = UInt8(truncatingIfNeeded: seed &+ UInt64(i)); i += 1 }
        }
        return bytes
    }

    /// Writes `payload` (fragmenting as needed) while draining, returns the delivered copy.
    static func roundTrip(_ payload: [UInt8], context: ForwardingContext, segment: TestSegment) throws -> (MessageProgress, [UInt8], ForwardingContext?, Int) {
        var producer = RingProducer(geometry: segment.geometry())
        var reader = MessageReader(consumer: RingConsumer(geometry: segment.geometry()))
        var progress = MessageProgress()
        var received: [UInt8] = []
        var receivedContext: ForwardingContext?
        var messages = 0
        let collect: (MessageView) -> Void = { message in
            messages += 1
            received = message.copyPayload()
            receivedContext = try? message.decodeContext()
        }
        try payload.withUnsafeBytes { p in
            while try producer.tryWriteMessage(kind: .invocationResponse, streamId: 11, context: context, payload: p,
                                               progress: &progress) == .full {
                _ = try reader.drain(collect)
            }
        }
        _ = try reader.drain(collect)
        return (progress, received, receivedContext, messages)
    }

    @Test(arguments: [1, 8, 1000])
    func smallMessagesAreOneFrame(size: Int) throws {
        let segment = try TestSegment(capacity: Self.capacity, maxFrameLength: Self.maxFrame, maxMessageSize: Self.limit)
        let context = BoundMessage.context(for: 1)
        let payload = Self.payload(size, seed: 1)
        let (progress, received, receivedContext, messages) = try Self.roundTrip(payload, context: context, segment: segment)
        #expect(progress.fragments == 1)
        #expect(messages == 1)
        #expect(received == payload)
        #expect(receivedContext == context)
    }

    /// Fragments of a message that does not fit one frame: 64 KiB each on this 4 MiB ring (a 64th
    /// of it), the first one less its context ("Fragments in small steps").
    static let fragment = 64 << 10

    @Test func sizesAroundFragmentBoundaries() throws {
        let segment = try TestSegment(capacity: Self.capacity, maxFrameLength: Self.maxFrame, maxMessageSize: Self.limit)
        #expect(RingProducer(geometry: segment.geometry()).fragmentPayloadLength == Self.fragment)
        let context = BoundMessage.context(for: 2)
        let firstRoom = Self.maxFrame - FrameHeader.size - context.encodedSize
        let firstFragment = Self.fragment - context.encodedSize
        let cases: [(Int, Int)] = [
            (firstRoom - 1, 1), (firstRoom, 1),
            // One byte over a frame: a first fragment and then 64 KiB steps.
            (firstRoom + 1, 1 + (firstRoom + 1 - firstFragment + Self.fragment - 1) / Self.fragment),
            (firstFragment + Self.fragment * 15, 16), (firstFragment + Self.fragment * 15 + 1, 17),
            (1 << 20, 17), (4 << 20, 65),
        ]
        for (size, fragments) in cases {
            segment.reset()
            let payload = Self.payload(size, seed: UInt64(size))
            let (progress, received, receivedContext, messages) = try Self.roundTrip(payload, context: context, segment: segment)
            #expect(progress.fragments == fragments, "size \(size)")
            #expect(messages == 1)
            #expect(received == payload, "size \(size)")
            #expect(receivedContext == context)
        }
    }

    @Test func sixtyFourMebibytesAtTheLimit() throws {
        let segment = try TestSegment(capacity: Self.capacity, maxFrameLength: Self.maxFrame, maxMessageSize: Self.limit)
        let context = BoundMessage.context(for: 64)
        let payload = Self.payload(Self.limit, seed: 64)
        let (progress, received, receivedContext, messages) = try Self.roundTrip(payload, context: context, segment: segment)
        #expect(progress.fragments == 1025)
        #expect(messages == 1)
        #expect(received == payload)
        #expect(receivedContext == context)
    }

    @Test func oneByteOverTheLimitFailsBeforeWriting() throws {
        let segment = try TestSegment(capacity: Self.capacity, maxFrameLength: Self.maxFrame, maxMessageSize: Self.limit)
        var producer = RingProducer(geometry: segment.geometry())
        var consumer = RingConsumer(geometry: segment.geometry())
        let payload = [UInt8](repeating: 0, count: Self.limit + 1)
        var progress = MessageProgress()
        #expect(throws: RingError.messageTooLarge(size: Self.limit + 1, limit: Self.limit)) {
            try payload.withUnsafeBytes {
                try producer.tryWriteMessage(kind: .data, streamId: 1, payload: $0, progress: &progress)
            }
        }
        #expect(progress == MessageProgress())
        #expect(producer.counters.frames == 0)
        #expect(try consumer.drain { _ in } == 0)
    }

    @Test func oversizedContextFailsBeforeWriting() throws {
        let segment = try TestSegment(capacity: 1024, maxFrameLength: 256)
        var producer = RingProducer(geometry: segment.geometry())
        let context = [UInt8](repeating: 1, count: 256 - FrameHeader.size + 1)
        var progress = MessageProgress()
        #expect(throws: RingError.contextTooLarge(size: 225, limit: 224)) {
            try context.withUnsafeBytes { c in
                try producer.tryWriteMessage(kind: .data, streamId: 1, context: c, payload: UnsafeRawBufferPointer(start: nil, count: 0),
                                             progress: &progress)
            }
        }
        #expect(producer.counters.frames == 0)
    }
}
