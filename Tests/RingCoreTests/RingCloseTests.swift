@_spi(Unsafe) import RingCore
import RingTestSupport
import Testing

/// After `close()` nothing more is written: the consumer drains exactly what came before the close
/// and then reports `.closed`, and every later write throws `.closed` (so a writer racing a close,
/// e.g. a cancelled gRPC handler sending its status, cannot slip a frame in behind it).
@Suite struct RingCloseTests {
    @Test func writesAfterCloseThrowClosedAndTheReaderSeesOnlyWhatCameBefore() throws {
        let segment = try TestSegment(capacity: 4096, maxFrameLength: 1024)
        let writer = SharedRingWriter(RingProducer(geometry: segment.geometry()))
        var reader = MessageReader(consumer: RingConsumer(geometry: segment.geometry()))
        let payload: [UInt8] = [1, 2, 3]
        #expect(try payload.withUnsafeBytes { try writer.tryWrite(kind: .data, streamId: 1, payload: $0) } == .written)
        writer.close()
        #expect(throws: RingError.closed) {
            try payload.withUnsafeBytes { try writer.tryWrite(kind: .data, streamId: 2, payload: $0) }
        }
        var producer = RingProducer(geometry: segment.geometry(.workerToHost))
        producer.close()
        #expect(throws: RingError.closed) {
            try payload.withUnsafeBytes { try producer.tryWrite(kind: .data, streamId: 3, payload: $0) }
        }
        var seen: [UInt64] = []
        _ = try reader.drain { seen.append($0.streamId) }
        #expect(seen == [1])
        #expect(throws: RingError.closed) { try reader.drain { _ in } }
    }
}
