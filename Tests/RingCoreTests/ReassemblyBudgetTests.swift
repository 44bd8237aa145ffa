@_spi(Unsafe) import RingCore
import RingTestSupport
import Testing

/// Concurrent large messages through one `SharedRingWriter` never exceed what the reader accepts
/// partially received (found by `ringbench stress --huge-fraction`: interleaved 16 MiB messages
/// made a healthy peer look hostile).
@Suite struct ReassemblyBudgetTests {
    static let messageSize = 1 << 20
    /// The reader's limit: four messages' worth (the default, for 16 MiB messages, is 64 MiB).
    static let limits = ReassemblyLimits(maxBufferedBytes: 4 << 20, maxMessageSize: messageSize)

    /// Payload of message `n`: every byte depends on its index and the message.
    static func payload(_ n: Int) -> [UInt8] {
        (0..<messageSize).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ n &* 7 &+ ($0 >> 12)) }
    }

    @Test func fifthConcurrentLargeMessageWaitsForTheBudgetAndNothingIsLost() throws {
        let segment = try TestSegment(capacity: 1 << 16, maxFrameLength: 4096, maxMessageSize: Self.messageSize)
        let writer = SharedRingWriter(RingProducer(geometry: segment.geometry()), partialBudget: Self.limits)
        var reader = MessageReader(consumer: RingConsumer(geometry: segment.geometry()), limits: Self.limits)
        #expect(ReassemblyLimits(maxMessageSize: 16 << 20).maxBufferedBytes == 64 << 20)
        let payloads = (0..<5).map(Self.payload)
        var progress = [MessageProgress](repeating: MessageProgress(), count: 5)
        var delivered: [UInt64: Bool] = [:]
        var problems: [String] = []
        func drain() throws {
            _ = try reader.drain { message in
                let n = Int(message.streamId)
                let intact = n < 5 && message.payload.elementsEqual(payloads[n])
                    || n == 99 && message.payload.elementsEqual([1, 2, 3])
                if !intact { problems.append("message \(message.streamId) corrupt") }
                if delivered.updateValue(true, forKey: message.streamId) != nil {
                    problems.append("message \(message.streamId) delivered twice")
                }
            }
        }
        func write(_ n: Int) throws -> WriteOutcome {
            try payloads[n].withUnsafeBytes {
                try writer.tryWriteMessage(kind: .data, streamId: UInt64(n), payload: $0, progress: &progress[n])
            }
        }

        // Four messages started and left unfinished: the whole budget.
        for n in 0..<4 {
            #expect(try write(n) == .full)
            #expect(progress[n].started)
            try drain()
        }
        #expect(writer.partialInUse.bytes == 4 * Self.messageSize)
        #expect(writer.partialInUse.messages == 4)
        #expect(reader.partialMessageCount == 4)

        // The fifth is held back with nothing written, though the ring is empty.
        let framesBefore = writer.counters.frames
        #expect(try write(4) == .full)
        #expect(!progress[4].started)
        #expect(writer.counters.frames == framesBefore)
        #expect(writer.budgetRefusals == 1)
        #expect(writer.partialBudgetRefuses(contextLength: 0, payloadLength: Self.messageSize))
        // Small messages are not held back.
        #expect(try [UInt8]([1, 2, 3]).withUnsafeBytes { try writer.tryWrite(kind: .data, streamId: 99, payload: $0) } == .written)
        #expect(!writer.partialBudgetRefuses(contextLength: 0, payloadLength: 3))

        // Finishing one message frees its share; the fifth is then admitted.
        while try write(0) != .written { try drain() }
        #expect(writer.partialInUse.messages == 3)
        #expect(!writer.partialBudgetRefuses(contextLength: 0, payloadLength: Self.messageSize))
        var remaining = Set(1..<5)
        while !remaining.isEmpty {
            for n in remaining.sorted() where try write(n) == .written { remaining.remove(n) }
            try drain()
        }
        try drain()
        #expect(problems.isEmpty, "\(problems.prefix(5))")
        #expect(delivered.keys.sorted() == [0, 1, 2, 3, 4, 99])
        #expect(writer.partialInUse.bytes == 0)
        #expect(writer.partialInUse.messages == 0)
        #expect(reader.partialMessageCount == 0)
    }
}
