/// Errors from attaching to or creating a segment. Each says what differed.
public enum SegmentError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The mapping is smaller than a segment header.
    case tooSmall(size: Int, minimum: Int)
    /// The first eight bytes are not "RINGTRN1".
    case badMagic(found: UInt64)
    /// The segment was written by a different, incompatible format version.
    case versionMismatch(found: UInt32, supported: UInt32)
    /// The header's total size disagrees with the size of the mapping.
    case sizeMismatch(header: UInt64, mapping: Int)
    /// A layout field (offset, capacity, frame limit) is impossible for this format version.
    case invalidLayout(String)
    /// The requested configuration cannot be built.
    case invalidConfiguration(String)

    public var description: String {
        switch self {
        case .tooSmall(let size, let minimum): "segment too small: \(size) bytes, need at least \(minimum)"
        case .badMagic(let found): "not a RingTransport segment (magic 0x\(String(found, radix: 16)))"
        case .versionMismatch(let found, let supported):
            "segment format version \(found) is not supported (this build speaks version \(supported))"
        case .sizeMismatch(let header, let mapping): "segment header says \(header) bytes but the mapping has \(mapping)"
        case .invalidLayout(let detail): "invalid segment layout: \(detail)"
        case .invalidConfiguration(let detail): "invalid segment configuration: \(detail)"
        }
    }
}

/// Errors from reading or writing a ring.
public enum RingError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A message is larger than the segment's maximum message size. Raised before anything is written.
    case messageTooLarge(size: Int, limit: Int)
    /// An encoded forwarding context does not fit in one frame.
    case contextTooLarge(size: Int, limit: Int)
    /// The peer broke the wire protocol (an impossible index, length, kind or flag). The ring is
    /// poisoned: every later call on it reports the same violation.
    case protocolViolation(String)
    /// The ring was closed by its producer and fully drained, or closed locally.
    case closed

    public var description: String {
        switch self {
        case .messageTooLarge(let size, let limit): "message of \(size) bytes exceeds the limit of \(limit) bytes"
        case .contextTooLarge(let size, let limit): "forwarding context of \(size) bytes exceeds the limit of \(limit) bytes"
        case .protocolViolation(let detail): "protocol violation: \(detail)"
        case .closed: "ring closed"
        }
    }
}
