/// A window of memory shared with an untrusted peer: a base address and a length.
///
/// The region does not own the memory; `owner` keeps whatever does (a mapping, a heap buffer in
/// tests) alive for as long as any copy of the region exists. All plain reads of peer-written
/// bytes copy them into locals first, so each field is read exactly once.
@_spi(Unsafe) public struct SharedRegion: @unchecked Sendable {
    public let base: UnsafeMutableRawPointer
    public let size: Int
    /// Keeps the backing memory alive.
    public let owner: AnyObject?

    public init(base: UnsafeMutableRawPointer, size: Int, owner: AnyObject?) {
        self.base = base
        self.size = size
        self.owner = owner
    }

    /// Reads a little-endian integer at `offset`; traps if the read would leave the region (the
    /// callers only pass offsets from `SegmentLayout`, never ones read from shared memory).
    @inlinable
    public func read<T: FixedWidthInteger>(_: T.Type, at offset: Int) -> T {
        precondition(offset >= 0 && offset + MemoryLayout<T>.size <= size, "read outside the region")
        return T(littleEndian: base.loadUnaligned(fromByteOffset: offset, as: T.self))
    }

    /// Writes a little-endian integer at `offset` (bounds as for `read`).
    @inlinable
    public func write<T: FixedWidthInteger>(_ value: T, at offset: Int) {
        precondition(offset >= 0 && offset + MemoryLayout<T>.size <= size, "write outside the region")
        base.storeBytes(of: value.littleEndian, toByteOffset: offset, as: T.self)
    }
}

/// Heap memory laid out like a segment, for in-process rings and tests. The memory is 64-byte
/// aligned and zero-filled.
@_spi(Unsafe) public final class HeapSegmentMemory: @unchecked Sendable {
    private let base: UnsafeMutableRawPointer
    private let size: Int

    public init(size: Int) {
        base = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: SegmentLayout.cacheLine)
        base.initializeMemory(as: UInt8.self, repeating: 0, count: size)
        self.size = size
    }

    /// The memory as a region; the region keeps this object alive.
    public var region: SharedRegion { SharedRegion(base: base, size: size, owner: self) }

    deinit { base.deallocate() }
}
