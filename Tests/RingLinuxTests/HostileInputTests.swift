@_spi(Unsafe) @_spi(Testing) import RingCore
import RingTestSupport
import Testing

/// ≥ 10^5 cases of random and targeted bytes written into a ring's control block and data area,
/// on memory fenced by guard pages: the reader and writer only ever report typed errors, deliver
/// only well-formed messages, and never touch memory outside the segment (that would fault).
@Suite struct HostileInputTests {
    static let configuration = SegmentConfiguration(
        hostToWorkerCapacity: 4096, workerToHostCapacity: 4096, maxMessageSize: 8192, maxFrameLength: 1024)

    /// Values that sit on every boundary the validation checks.
    static let edges: [UInt64] = [0, 1, 7, 8, 24, 31, 32, 33, 1016, 1023, 1024, 1025, 1032, 2048, 4088, 4096, 4104,
                                  8192, 8193, 0xFFFF, 0xFFFF_FFFF, 0x1_0000_0000, UInt64.max, UInt64.max - 7]

    enum Corruption: CaseIterable { case controlWord, dataBytes, headerField, tailEdge, headEdge, stateWords }

    @Test func hundredThousandCorruptionsOnlyTypedErrors() throws {
        let segment = try GuardedSegment(configuration: Self.configuration)
        var random = TestRandom(seed: 0xC0FFEE)
        var violations = 0
        var closes = 0
        var deliveredMessages = 0
        var cases = 0
        try withWatchdog(seconds: 600) {
            for round in 0..<100_000 {
                segment.reset()
                let geometry = segment.geometry()
                let start = (random.next() % 1024) * 8 + (round % 2 == 0 ? 0 : 1 << 33)
                geometry.unsafeRepositionForTesting(to: start)
                var producer = RingProducer(geometry: geometry)
                // A few valid messages, some fragmented, some with contexts.
                let messages = 1 + Int(random.next() % 5)
                for m in 0..<messages {
                    let size = Int(random.next() % 2500)
                    let payload = [UInt8](repeating: UInt8(truncatingIfNeeded: m), count: size)
                    var progress = MessageProgress()
                    let kind: FrameKind = m % 2 == 0 ? .invocationRequest : .data
                    _ = try payload.withUnsafeBytes {
                        try producer.tryWriteMessage(kind: kind, streamId: UInt64(m), context: BoundMessage.context(for: UInt64(m)),
                                                     payload: $0, progress: &progress)
                    }
                }
                corrupt(geometry, start: start, random: &random)
                cases += 1
                var reader = MessageReader(consumer: RingConsumer(geometry: geometry))
                var checksum: UInt64 = 0
                do {
                    for _ in 0..<16 {
                        let n = try reader.drain { message in
                            // Touch every delivered byte and decode the context: any OOB would fault.
                            for byte in message.payload { checksum &+= UInt64(byte) }
                            for byte in message.context { checksum &+= UInt64(byte) }
                            _ = try? message.decodeContext()
                        }
                        deliveredMessages += n
                        if n == 0 { break }
                    }
                } catch RingError.closed {
                    closes += 1  // a peer may legitimately close its ring
                } catch let error as RingError {
                    guard case .protocolViolation = error else {
                        Issue.record("unexpected ring error \(error)")
                        return
                    }
                    violations += 1
                    // Poisoned: the same error again, and nothing more delivered.
                    #expect(throws: error) { try reader.drain { _ in Issue.record("delivered after poison") } }
                }
                // The writer side sees a corrupted head as a typed violation too.
                do {
                    _ = try [UInt8](repeating: 1, count: 100).withUnsafeBytes {
                        try producer.tryWrite(kind: .data, streamId: 99, payload: $0)
                    }
                } catch let error as RingError {
                    guard case .protocolViolation = error else { Issue.record("unexpected producer error \(error)"); return }
                }
                _ = checksum
            }
        }
        #expect(cases == 100_000)
        #expect(closes > 0)
        // The audit must be able to fail: most corruptions are caught, and some rounds still deliver.
        #expect(violations > 30_000)
        #expect(deliveredMessages > 10_000)
    }

    func corrupt(_ geometry: RingGeometry, start: UInt64, random: inout TestRandom) {
        let capacity = geometry.capacity
        func edge() -> UInt64 { Self.edges[Int(random.next() % UInt64(Self.edges.count))] }
        switch Corruption.allCases[Int(random.next() % UInt64(Corruption.allCases.count))] {
        case .controlWord:
            let word = Int(random.next() % 64) * 8
            geometry.control.storeBytes(of: random.next(), toByteOffset: word, as: UInt64.self)
        case .dataBytes:
            for _ in 0..<(1 + random.next() % 8) {
                let offset = Int(random.next() % capacity)
                geometry.data.storeBytes(of: UInt8(truncatingIfNeeded: random.next()), toByteOffset: offset, as: UInt8.self)
            }
        case .headerField:
            // Overwrite one header field of the first frame with an edge or random value.
            let frame = Int(start % capacity)
            let fields: [(Int, Int)] = [(0, 4), (4, 2), (6, 2), (8, 8), (16, 4), (20, 4), (24, 8)]
            let (offset, width) = fields[Int(random.next() % UInt64(fields.count))]
            let value = random.next() % 2 == 0 ? edge() : random.next()
            let address = geometry.data + frame + offset
            switch width {
            case 2: address.storeBytes(of: UInt16(truncatingIfNeeded: value), as: UInt16.self)
            case 4: address.storeBytes(of: UInt32(truncatingIfNeeded: value), as: UInt32.self)
            default: address.storeBytes(of: value, as: UInt64.self)
            }
        case .tailEdge:
            let tail = random.next() % 2 == 0 ? start &+ edge() : start &- edge()
            geometry.control.storeBytes(of: tail, toByteOffset: SegmentLayout.Control.tail, as: UInt64.self)
        case .headEdge:
            let head = random.next() % 2 == 0 ? start &+ edge() : start &- edge()
            geometry.control.storeBytes(of: head, toByteOffset: SegmentLayout.Control.head, as: UInt64.self)
        case .stateWords:
            geometry.control.storeBytes(of: UInt32(truncatingIfNeeded: random.next()),
                                        toByteOffset: SegmentLayout.Control.producerState, as: UInt32.self)
        }
    }
}
