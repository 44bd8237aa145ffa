/// The shape of a segment, chosen by its creator (the host).
public struct SegmentConfiguration: Sendable, Equatable {
    /// Data-area capacity of the host → worker ring, a power of two.
    public var hostToWorkerCapacity: Int
    /// Data-area capacity of the worker → host ring, a power of two.
    public var workerToHostCapacity: Int
    /// Largest message (payload bytes, before fragmentation) either side may send.
    public var maxMessageSize: Int
    /// Largest single frame (header + context + payload). At most half the smaller capacity, so a
    /// frame always fits into an empty ring even after a wrap's padding.
    public var maxFrameLength: Int

    public static let defaultCapacity = 4 << 20
    public static let defaultMaxMessageSize = 64 << 20

    public init(
        hostToWorkerCapacity: Int = SegmentConfiguration.defaultCapacity,
        workerToHostCapacity: Int = SegmentConfiguration.defaultCapacity,
        maxMessageSize: Int = SegmentConfiguration.defaultMaxMessageSize,
        maxFrameLength: Int? = nil
    ) {
        self.hostToWorkerCapacity = hostToWorkerCapacity
        self.workerToHostCapacity = workerToHostCapacity
        self.maxMessageSize = maxMessageSize
        self.maxFrameLength =
            maxFrameLength ?? min(min(hostToWorkerCapacity, workerToHostCapacity) / 4, 1 << 20)
    }

    /// Total bytes of the segment this configuration describes.
    public var totalSize: Int {
        Int(SegmentLayout.totalSize(capacities: (UInt64(hostToWorkerCapacity), UInt64(workerToHostCapacity))))
    }

    /// Checks every constraint of the format; throws `SegmentError.invalidConfiguration`.
    public func validate() throws(SegmentError) {
        for (name, capacity) in [("hostToWorkerCapacity", hostToWorkerCapacity), ("workerToHostCapacity", workerToHostCapacity)] {
            guard capacity >= SegmentLayout.minimumCapacity, capacity <= SegmentLayout.maximumCapacity,
                capacity & (capacity - 1) == 0
            else {
                throw .invalidConfiguration(
                    "\(name) \(capacity) must be a power of two in \(SegmentLayout.minimumCapacity)...\(SegmentLayout.maximumCapacity)")
            }
        }
        let smaller = min(hostToWorkerCapacity, workerToHostCapacity)
        guard maxFrameLength >= FrameHeader.size + 8, maxFrameLength <= smaller / 2, maxFrameLength % 8 == 0 else {
            throw .invalidConfiguration(
                "maxFrameLength \(maxFrameLength) must be a multiple of 8 in \(FrameHeader.size + 8)...\(smaller / 2)")
        }
        guard maxMessageSize >= 1, UInt64(maxMessageSize) <= SegmentLayout.maximumMessageSizeLimit else {
            throw .invalidConfiguration("maxMessageSize \(maxMessageSize) must be in 1...\(SegmentLayout.maximumMessageSizeLimit)")
        }
    }
}
