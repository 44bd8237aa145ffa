@_spi(Unsafe) import RingCore
import RingTestSupport
import Testing

@Suite struct SegmentHeaderTests {
    static let configuration = SegmentConfiguration(hostToWorkerCapacity: 4096, workerToHostCapacity: 8192)

    static func formatted() throws -> HeapSegmentMemory {
        let memory = HeapSegmentMemory(size: configuration.totalSize)
        try SegmentHeader.format(memory.region, configuration: configuration, creatorPID: 77)
        return memory
    }

    @Test func formatThenValidateRoundTrips() throws {
        let memory = try Self.formatted()
        let header = try SegmentHeader(validating: memory.region)
        #expect(header.capacities == [4096, 8192])
        #expect(header.creatorPID == 77)
        #expect(header.maxFrameLength == 1024)
        #expect(header.maxMessageSize == UInt64(SegmentConfiguration.defaultMaxMessageSize))
        #expect(header.configuration == Self.configuration)
    }

    @Test func wrongMagicIsTyped() throws {
        let memory = try Self.formatted()
        memory.region.write(UInt64(0x1234), at: SegmentLayout.Header.magic)
        #expect(throws: SegmentError.badMagic(found: 0x1234)) { try SegmentHeader(validating: memory.region) }
    }

    @Test func wrongVersionIsTyped() throws {
        let memory = try Self.formatted()
        memory.region.write(UInt32(2), at: SegmentLayout.Header.formatVersion)
        #expect(throws: SegmentError.versionMismatch(found: 2, supported: 1)) { try SegmentHeader(validating: memory.region) }
    }

    @Test func wrongSizeIsTyped() throws {
        let memory = try Self.formatted()
        memory.region.write(UInt64(Self.configuration.totalSize + 4096), at: SegmentLayout.Header.totalSize)
        #expect(throws: SegmentError.sizeMismatch(header: UInt64(Self.configuration.totalSize + 4096), mapping: Self.configuration.totalSize)) {
            try SegmentHeader(validating: memory.region)
        }
        let small = HeapSegmentMemory(size: 100)
        #expect(throws: SegmentError.tooSmall(size: 100, minimum: 8192)) { try SegmentHeader(validating: small.region) }
    }

    @Test func wrongLayoutIsTyped() throws {
        let cases: [(Int, UInt64, Int)] = [
            (SegmentLayout.Header.ringDescriptors, 5000, 8),  // control offset
            (SegmentLayout.Header.ringDescriptors + 8, 9000, 8),  // data offset
            (SegmentLayout.Header.ringDescriptors + 16, 3000, 8),  // capacity not a power of two
            (SegmentLayout.Header.maxFrameLength, 4096, 4),  // frame larger than half the ring
            (SegmentLayout.Header.ringCount, 3, 4),
            (SegmentLayout.Header.headerSize, 512, 4),
            (SegmentLayout.Header.maxMessageSize, 0, 8),
        ]
        for (offset, value, width) in cases {
            let memory = try Self.formatted()
            if width == 8 { memory.region.write(value, at: offset) } else { memory.region.write(UInt32(value), at: offset) }
            #expect(throws: SegmentError.self) { try SegmentHeader(validating: memory.region) }
        }
    }

    @Test func invalidConfigurationsAreRejected() {
        #expect(throws: SegmentError.self) { try SegmentConfiguration(hostToWorkerCapacity: 3000).validate() }
        #expect(throws: SegmentError.self) { try SegmentConfiguration(workerToHostCapacity: 128).validate() }
        #expect(throws: SegmentError.self) {
            try SegmentConfiguration(hostToWorkerCapacity: 4096, workerToHostCapacity: 4096, maxFrameLength: 4096).validate()
        }
        #expect(throws: SegmentError.self) { try SegmentConfiguration(maxMessageSize: 0).validate() }
    }

    /// ≥ 10^5 random corruptions of the header: only typed errors or a header that is internally
    /// consistent (a corruption of an unused byte).
    @Test func randomHeaderCorruptionOnlyYieldsTypedErrors() throws {
        let memory = try Self.formatted()
        let pristine = [UInt8](UnsafeRawBufferPointer(start: memory.region.base, count: SegmentLayout.headerSize))
        var random = TestRandom(seed: 42)
        var rejected = 0
        for _ in 0..<100_000 {
            pristine.withUnsafeBytes { memory.region.base.copyMemory(from: $0.baseAddress!, byteCount: pristine.count) }
            let writes = 1 + Int(random.next() % 3)
            for _ in 0..<writes {
                // Mostly the meaningful first 256 bytes, sometimes anywhere in the header.
                let span = random.next() % 4 == 0 ? SegmentLayout.headerSize : 256
                let offset = Int(random.next() % UInt64(span - 8))
                memory.region.write(random.next(), at: offset)
            }
            do {
                let header = try SegmentHeader(validating: memory.region)
                #expect(UInt64(memory.region.size) == header.totalSize)
            } catch {
                rejected += 1
            }
        }
        #expect(rejected > 40_000)
    }
}
