/// Where one ring lives inside a mapped segment: its control block, its data area and its limits.
///
/// Built only from a validated `SegmentHeader` (or a fresh configuration), so every pointer and
/// size here is trusted; only the words *inside* the control block and data area come from the
/// peer.
public struct RingGeometry: @unchecked Sendable {
    @usableFromInline package let control: UnsafeMutableRawPointer
    @usableFromInline package let data: UnsafeMutableRawPointer
    public let capacity: UInt64
    public let maxFrameLength: UInt64
    public let maxMessageSize: UInt64
    public let direction: RingDirection
    /// Keeps the mapping alive while any producer or consumer exists.
    public let owner: AnyObject?
    /// Delivers the wake-ups this side claims (Docs/Waiting.md); nil leaves them in `wakeOwed`.
    public let waker: (any RingWaker)?

    /// The geometry of ring `direction` in a segment whose header has been validated.
    @_spi(Unsafe) public init(region: SharedRegion, header: SegmentHeader, direction: RingDirection, waker: (any RingWaker)? = nil) {
        self.waker = waker
        let ring = direction.rawValue
        let caps = (header.capacities[0], header.capacities[1])
        let controlOffset = Int(SegmentLayout.controlOffset(ring: ring))
        let dataOffset = Int(SegmentLayout.dataOffset(ring: ring, capacities: caps))
        let capacity = header.capacities[ring]
        precondition(dataOffset + Int(capacity) <= region.size, "validated header exceeds its region")
        self.control = region.base + controlOffset
        self.data = region.base + dataOffset
        self.capacity = capacity
        self.maxFrameLength = UInt64(header.maxFrameLength)
        self.maxMessageSize = header.maxMessageSize
        self.direction = direction
        self.owner = region.owner
    }

    @inlinable var tailAddress: UnsafeMutableRawPointer { control + SegmentLayout.Control.tail }
    @inlinable var headAddress: UnsafeMutableRawPointer { control + SegmentLayout.Control.head }
    @inlinable var producerStateAddress: UnsafeMutableRawPointer { control + SegmentLayout.Control.producerState }
    @inlinable var consumerStateAddress: UnsafeMutableRawPointer { control + SegmentLayout.Control.consumerState }
    /// The consumer's futex word (see Docs/Waiting.md).
    @usableFromInline package var consumerWaiterAddress: UnsafeMutableRawPointer { control + SegmentLayout.Control.consumerWaiter }
    /// The producer's futex word.
    @usableFromInline package var producerWaiterAddress: UnsafeMutableRawPointer { control + SegmentLayout.Control.producerWaiter }

    /// Test-only: places head and tail of an *unused* ring at `position` (an arbitrary byte
    /// position, multiple of 8), so tests can start at every wrap offset. Both handles must be
    /// created after this call.
    @_spi(Testing) public func unsafeRepositionForTesting(to position: UInt64) {
        precondition(position % 8 == 0)
        SharedAtomics.storeRelease(position, tailAddress)
        SharedAtomics.storeRelease(position, headAddress)
    }
}

/// Frames published, bytes, and times the writer found the ring full — plain counters, local to
/// one handle.
public struct RingCounters: Sendable, Equatable {
    public var frames: UInt64 = 0
    public var bytes: UInt64 = 0
    public var fullCount: UInt64 = 0
    public var publishes: UInt64 = 0
    public init() {}
}
