/// A validated, local copy of a segment header.
///
/// `init(validating:)` reads every header field exactly once into this struct and checks it against
/// the format; from then on nothing is re-read from shared memory, so a peer that rewrites the
/// header after attach changes nothing.
public struct SegmentHeader: Sendable, Equatable {
    public var formatVersion: UInt32
    public var totalSize: UInt64
    public var maxMessageSize: UInt64
    public var maxFrameLength: UInt32
    public var flags: UInt32
    public var creatorPID: UInt32
    /// Ring capacities, indexed by `RingDirection.rawValue`.
    public var capacities: [UInt64]

    public var configuration: SegmentConfiguration {
        SegmentConfiguration(
            hostToWorkerCapacity: Int(capacities[0]), workerToHostCapacity: Int(capacities[1]),
            maxMessageSize: Int(maxMessageSize), maxFrameLength: Int(maxFrameLength))
    }

    /// Formats a fresh segment in `region` (which must be zero-filled and exactly
    /// `configuration.totalSize` bytes). The magic is stored last, with release ordering, so a
    /// peer that opens a named segment early sees either no magic or a complete header.
    @_spi(Unsafe) public static func format(
        _ region: SharedRegion, configuration: SegmentConfiguration, creatorPID: UInt32
    ) throws(SegmentError) {
        try configuration.validate()
        guard region.size == configuration.totalSize else {
            throw .sizeMismatch(header: UInt64(configuration.totalSize), mapping: region.size)
        }
        typealias H = SegmentLayout.Header
        let caps = (UInt64(configuration.hostToWorkerCapacity), UInt64(configuration.workerToHostCapacity))
        region.write(SegmentLayout.formatVersion, at: H.formatVersion)
        region.write(UInt32(SegmentLayout.headerSize), at: H.headerSize)
        region.write(UInt64(configuration.totalSize), at: H.totalSize)
        region.write(UInt64(configuration.maxMessageSize), at: H.maxMessageSize)
        region.write(UInt32(configuration.maxFrameLength), at: H.maxFrameLength)
        region.write(UInt32(0), at: H.flags)
        region.write(creatorPID, at: H.creatorPID)
        region.write(UInt32(SegmentLayout.ringCount), at: H.ringCount)
        for ring in 0..<SegmentLayout.ringCount {
            let d = H.ringDescriptors + ring * H.ringDescriptorSize
            region.write(SegmentLayout.controlOffset(ring: ring), at: d)
            region.write(SegmentLayout.dataOffset(ring: ring, capacities: caps), at: d + 8)
            region.write(ring == 0 ? caps.0 : caps.1, at: d + 16)
        }
        // Publishes the header → read (acquire) by `init(validating:)`.
        SharedAtomics.storeRelease(SegmentLayout.magic.littleEndian, region.base + H.magic)
    }

    /// Reads and validates the header of `region`. Every field is read once; any inconsistency is
    /// a typed error, never a trap, and no offset read from the header is dereferenced.
    @_spi(Unsafe) public init(validating region: SharedRegion) throws(SegmentError) {
        typealias H = SegmentLayout.Header
        guard region.size >= SegmentLayout.firstDataOffset else {
            throw .tooSmall(size: region.size, minimum: SegmentLayout.firstDataOffset)
        }
        // Acquire pairs with the release store of the magic in `format`.
        let magic = UInt64(littleEndian: SharedAtomics.loadAcquire(region.base + H.magic))
        guard magic == SegmentLayout.magic else { throw .badMagic(found: magic) }
        let version: UInt32 = region.read(UInt32.self, at: H.formatVersion)
        guard version == SegmentLayout.formatVersion else {
            throw .versionMismatch(found: version, supported: SegmentLayout.formatVersion)
        }
        let headerSize = region.read(UInt32.self, at: H.headerSize)
        guard headerSize == SegmentLayout.headerSize else {
            throw .invalidLayout("header size \(headerSize), expected \(SegmentLayout.headerSize)")
        }
        let totalSize = region.read(UInt64.self, at: H.totalSize)
        guard totalSize == UInt64(region.size) else { throw .sizeMismatch(header: totalSize, mapping: region.size) }
        let ringCount = region.read(UInt32.self, at: H.ringCount)
        guard ringCount == SegmentLayout.ringCount else {
            throw .invalidLayout("ring count \(ringCount), expected \(SegmentLayout.ringCount)")
        }
        var controls: [UInt64] = []
        var datas: [UInt64] = []
        var caps: [UInt64] = []
        for ring in 0..<SegmentLayout.ringCount {
            let d = H.ringDescriptors + ring * H.ringDescriptorSize
            controls.append(region.read(UInt64.self, at: d))
            datas.append(region.read(UInt64.self, at: d + 8))
            caps.append(region.read(UInt64.self, at: d + 16))
        }
        for (ring, cap) in caps.enumerated() {
            guard cap >= UInt64(SegmentLayout.minimumCapacity), cap <= UInt64(SegmentLayout.maximumCapacity),
                cap & (cap &- 1) == 0
            else { throw .invalidLayout("ring \(ring) capacity \(cap) is not a power of two in range") }
        }
        let capPair = (caps[0], caps[1])
        for ring in 0..<SegmentLayout.ringCount {
            guard controls[ring] == SegmentLayout.controlOffset(ring: ring) else {
                throw .invalidLayout("ring \(ring) control offset \(controls[ring])")
            }
            guard datas[ring] == SegmentLayout.dataOffset(ring: ring, capacities: capPair) else {
                throw .invalidLayout("ring \(ring) data offset \(datas[ring])")
            }
        }
        let expectedTotal = SegmentLayout.totalSize(capacities: capPair)
        guard expectedTotal == totalSize else {
            throw .invalidLayout("total size \(totalSize) disagrees with ring capacities (\(expectedTotal))")
        }
        let maxFrame = region.read(UInt32.self, at: H.maxFrameLength)
        guard maxFrame >= UInt32(FrameHeader.size + 8), UInt64(maxFrame) <= min(caps[0], caps[1]) / 2, maxFrame % 8 == 0
        else { throw .invalidLayout("max frame length \(maxFrame)") }
        let maxMessage = region.read(UInt64.self, at: H.maxMessageSize)
        guard maxMessage >= 1, maxMessage <= SegmentLayout.maximumMessageSizeLimit else {
            throw .invalidLayout("max message size \(maxMessage)")
        }
        self.formatVersion = version
        self.totalSize = totalSize
        self.maxMessageSize = maxMessage
        self.maxFrameLength = maxFrame
        self.flags = region.read(UInt32.self, at: H.flags)
        self.creatorPID = region.read(UInt32.self, at: H.creatorPID)
        self.capacities = caps
    }
}
