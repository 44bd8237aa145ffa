@_spi(Unsafe) import RingCore
import RingTestSupport
import Testing

/// Many tasks of one process write to one ring through `SharedRingWriter`; one consumer accounts
/// for every frame exactly.
@Suite struct InProcessProducerTests {
    @Test func fourTasksOneMillionFramesExactAccounting() async throws {
        let producers = 4
        let perProducer = 250_000
        let segment = try TestSegment(capacity: 1 << 16, maxFrameLength: 4096)
        let writer = SharedRingWriter(RingProducer(geometry: segment.geometry()))
        var reader = MessageReader(consumer: RingConsumer(geometry: segment.geometry()))
        try await withWatchdog(seconds: 300) {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for p in 0..<producers {
                    group.addTask {
                        for n in 0..<perProducer {
                            // stream id = producer << 32 | sequence; payload repeats the id.
                            var id = (UInt64(p) << 32 | UInt64(n)).littleEndian
                            let size = 8 + n % 57
                            var payload = [UInt8](repeating: UInt8(truncatingIfNeeded: n), count: size)
                            withUnsafeBytes(of: &id) { payload.replaceSubrange(0..<8, with: $0) }
                            while try payload.withUnsafeBytes({
                                try writer.tryWrite(kind: .data, streamId: UInt64(p) << 32 | UInt64(n), payload: $0)
                            }) == .full {
                                await Task.yield()
                            }
                        }
                    }
                }
                var next = [UInt64](repeating: 0, count: producers)
                var total = 0
                var problems: [String] = []
                while total < producers * perProducer {
                    let delivered = try reader.drain { message in
                        let p = Int(message.streamId >> 32)
                        let n = message.streamId & 0xFFFF_FFFF
                        guard p < producers, n == next[p] else {
                            problems.append("frame \(message.streamId) out of order or unknown")
                            return
                        }
                        let stored = message.payload.loadUnaligned(as: UInt64.self)
                        if UInt64(littleEndian: stored) != message.streamId || message.payload.count != 8 + Int(n) % 57
                            || message.payload.last != UInt8(truncatingIfNeeded: n) && message.payload.count > 8
                        {
                            problems.append("frame \(message.streamId) payload corrupt")
                        }
                        next[p] += 1
                    }
                    total += delivered
                    if delivered == 0 { await Task.yield() }
                }
                try await group.waitForAll()
                #expect(problems.isEmpty, "\(problems.prefix(5))")
                #expect(next == [UInt64](repeating: UInt64(perProducer), count: producers))
                #expect(total == producers * perProducer)
                #expect(writer.counters.frames == UInt64(producers * perProducer))
                #expect(try reader.drain { _ in } == 0)
            }
        }
    }
}
