#if canImport(Glibc)
import Glibc
#endif
@_spi(Unsafe) public import RingCore

/// A segment in memory fenced by inaccessible (PROT_NONE) pages on both sides, its end flush
/// against the trailing guard page: any read or write past either end of the segment faults
/// immediately, so a test that survives proves no out-of-bounds access happened.
public final class GuardedSegment: @unchecked Sendable {
    private let mapping: UnsafeMutableRawPointer
    private let mappingSize: Int
    private let base: UnsafeMutableRawPointer
    private let size: Int
    public let header: SegmentHeader

    /// The segment's memory; the region keeps this object (and the mapping) alive.
    package var region: SharedRegion { SharedRegion(base: base, size: size, owner: self) }

    public init(configuration: SegmentConfiguration) throws {
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let size = configuration.totalSize
        let body = (size + page - 1) / page * page
        mappingSize = body + 2 * page
        guard let raw = mmap(nil, mappingSize, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), raw != MAP_FAILED else {
            fatalError("mmap failed")
        }
        mapping = raw
        precondition(mprotect(raw + page, body, PROT_READ | PROT_WRITE) == 0)
        // End flush with the trailing guard page; 64-byte alignment holds since sizes are multiples of 64.
        base = raw + page + (body - size)
        self.size = size
        let bare = SharedRegion(base: base, size: size, owner: nil)
        try SegmentHeader.format(bare, configuration: configuration, creatorPID: 1)
        header = try SegmentHeader(validating: bare)
    }

    deinit { munmap(mapping, mappingSize) }

    public func geometry(_ direction: RingDirection = .hostToWorker) -> RingGeometry {
        RingGeometry(region: region, header: header, direction: direction)
    }

    /// Zeroes both control blocks and data areas.
    public func reset() {
        (region.base + SegmentLayout.headerSize).initializeMemory(
            as: UInt8.self, repeating: 0, count: region.size - SegmentLayout.headerSize)
    }
}
