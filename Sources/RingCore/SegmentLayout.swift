/// The shared-memory layout of a RingTransport segment, defined in exactly one place.
///
/// Every offset and size below is normative and documented byte by byte in Docs/WireFormat.md.
/// All integers are little-endian (the only byte order RingTransport runs on) and naturally
/// aligned. Nothing in this file performs a syscall.
///
/// ```
/// offset 0      segment header (4096 bytes)
/// offset 4096   control block, ring 0 (host → worker)   512 bytes
/// offset 4608   control block, ring 1 (worker → host)   512 bytes
/// offset 5120   reserved up to 8192
/// offset 8192   data area, ring 0 (capacity₀ bytes, a power of two)
/// 8192+cap₀     data area, ring 1 (capacity₁ bytes, a power of two)
/// ```
public enum SegmentLayout {
    /// "RINGTRN1" read as a little-endian UInt64.
    public static let magic: UInt64 = 0x314E_5254_474E_4952
    /// The format version this code writes and the only one it attaches to.
    public static let formatVersion: UInt32 = 1
    /// Size of the segment header; control blocks start right after it.
    public static let headerSize = 4096
    /// Number of rings in a segment: ring 0 carries host → worker, ring 1 worker → host.
    public static let ringCount = 2
    /// Size of one ring control block.
    public static let controlBlockSize = 512
    /// Offset of the first data area.
    public static let firstDataOffset = 8192
    /// A cache line: every independently written word sits on its own.
    public static let cacheLine = 64

    /// Smallest and largest data-area capacity accepted.
    public static let minimumCapacity = 256
    public static let maximumCapacity = 1 << 30
    /// Largest `maxMessageSize` accepted from a segment header (1 TiB) — a sanity bound only.
    public static let maximumMessageSizeLimit: UInt64 = 1 << 40

    /// Field offsets inside the segment header.
    public enum Header {
        public static let magic = 0  // u64
        public static let formatVersion = 8  // u32
        public static let headerSize = 12  // u32
        public static let totalSize = 16  // u64
        public static let maxMessageSize = 24  // u64
        public static let maxFrameLength = 32  // u32
        public static let flags = 36  // u32
        public static let creatorPID = 40  // u32
        public static let ringCount = 44  // u32
        /// Ring descriptors: `ringCount` × { u64 controlOffset, u64 dataOffset, u64 capacity }.
        public static let ringDescriptors = 48
        public static let ringDescriptorSize = 24
        /// Liveness words, one cache line per side: { u32 state, u32 pid, u64 heartbeat }.
        public static let hostLiveness = 128
        public static let workerLiveness = 192
    }

    /// Field offsets inside a ring control block. Each word is written by exactly one side and
    /// sits on its own cache line.
    public enum Control {
        /// u64 — byte position one past the last published frame. Written by the producer only
        /// (release); read by the consumer (acquire).
        public static let tail = 0
        /// u64 — byte position of the first frame not yet consumed. Written by the consumer only
        /// (release); read by the producer (acquire).
        public static let head = 64
        /// u32 — the consumer's waiter word (futex): odd while the consumer announces it sleeps.
        /// Written by the consumer; the producer reads it after publishing.
        public static let consumerWaiter = 128
        /// u32 — the producer's waiter word (futex): odd while the producer waits for space.
        public static let producerWaiter = 192
        /// u32 — producer state: 0 open, 1 closed (no more frames will follow). Producer-owned.
        public static let producerState = 256
        /// u32 — consumer state: 0 open, 1 closed (frames will no longer be read). Consumer-owned.
        public static let consumerState = 320
    }

    /// Liveness word values (`Header.hostLiveness` / `workerLiveness`, first u32).
    public enum Liveness: UInt32, Sendable {
        case absent = 0
        case attached = 1
        case closed = 2
    }

    /// Total segment size for the given ring capacities.
    public static func totalSize(capacities: (UInt64, UInt64)) -> UInt64 {
        UInt64(firstDataOffset) + capacities.0 + capacities.1
    }

    /// Offset of ring `index`'s control block.
    public static func controlOffset(ring index: Int) -> UInt64 {
        UInt64(headerSize + index * controlBlockSize)
    }

    /// Offset of ring `index`'s data area.
    public static func dataOffset(ring index: Int, capacities: (UInt64, UInt64)) -> UInt64 {
        index == 0 ? UInt64(firstDataOffset) : UInt64(firstDataOffset) + capacities.0
    }

    /// The smallest multiple of 8 that is ≥ `length`.
    @inlinable @inline(__always)
    public static func align8(_ length: UInt64) -> UInt64 { (length &+ 7) & ~7 }
}

/// The two rings of a segment, named by direction.
public enum RingDirection: Int, Sendable, CaseIterable, CustomStringConvertible {
    case hostToWorker = 0
    case workerToHost = 1

    public var description: String { self == .hostToWorker ? "host→worker" : "worker→host" }
}

/// Which side of a segment a process plays.
public enum SegmentRole: Sendable, CustomStringConvertible {
    case host
    case worker

    /// The ring this side writes.
    public var outbound: RingDirection { self == .host ? .hostToWorker : .workerToHost }
    /// The ring this side reads.
    public var inbound: RingDirection { self == .host ? .workerToHost : .hostToWorker }

    public var description: String { self == .host ? "host" : "worker" }
}
