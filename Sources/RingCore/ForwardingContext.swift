/// The per-invocation state the reply path needs, carried inside the same frame as the payload.
///
/// A function host once published an invocation request and *then* stored the forwarding state in
/// a side table; a fast reply could find it missing. RingTransport removes that window: the
/// context is encoded into the request frame itself and becomes visible to the peer by the same
/// release store that publishes the payload. Invocation frames without a context are rejected as a
/// protocol violation (see `FrameKind.requiresContext`).
public struct ForwardingContext: Hashable, Sendable {
    /// The invocation this context belongs to.
    public var invocationId: ContextID
    /// The key a forwarded side-channel request (e.g. the raw HTTP request) is joined by.
    public var forwardingId: ContextID
    /// W3C trace context `traceparent` header value (empty when absent).
    public var traceparent: String
    /// W3C trace context `tracestate` header value (empty when absent).
    public var tracestate: String
    /// Absolute deadline in nanoseconds of CLOCK_MONOTONIC on this machine, or nil for none.
    public var deadlineNanoseconds: UInt64?
    /// Retry context: attempts already made and the maximum allowed.
    public var retryCount: UInt32
    public var maxRetries: UInt32
    /// Free-form string attributes, in order; keys may repeat. Bounded by `Limits`.
    public var attributes: [Attribute]

    public struct Attribute: Hashable, Sendable {
        public var key: String
        public var value: String
        public init(key: String, value: String) {
            self.key = key
            self.value = value
        }
    }

    /// Bounds enforced on encode and decode.
    public enum Limits {
        public static let maxTraceparentBytes = 256
        public static let maxTracestateBytes = 1024
        public static let maxAttributes = 64
        public static let maxAttributeKeyBytes = 256
        public static let maxAttributeValueBytes = 4096
        /// Upper bound of a whole encoded context.
        public static let maxEncodedSize = 16 * 1024
    }

    public init(
        invocationId: ContextID, forwardingId: ContextID = .zero, traceparent: String = "",
        tracestate: String = "", deadlineNanoseconds: UInt64? = nil, retryCount: UInt32 = 0,
        maxRetries: UInt32 = 0, attributes: [Attribute] = []
    ) {
        self.invocationId = invocationId
        self.forwardingId = forwardingId
        self.traceparent = traceparent
        self.tracestate = tracestate
        self.deadlineNanoseconds = deadlineNanoseconds
        self.retryCount = retryCount
        self.maxRetries = maxRetries
        self.attributes = attributes
    }
}

/// Errors of the forwarding-context codec.
public enum ContextCodecError: Error, Equatable, Sendable, CustomStringConvertible {
    case truncated(needed: Int, available: Int)
    case unsupportedVersion(UInt8)
    case undefinedFieldFlags(UInt8)
    case invalidUTF8(field: String)
    case limitExceeded(field: String, size: Int, limit: Int)
    case trailingBytes(Int)
    case bufferSizeMismatch(expected: Int, actual: Int)

    public var description: String {
        switch self {
        case .truncated(let needed, let available): "context truncated: needed \(needed) bytes, \(available) available"
        case .unsupportedVersion(let v): "context encoding version \(v) is not supported"
        case .undefinedFieldFlags(let f): "context field flags 0x\(String(f, radix: 16)) are undefined"
        case .invalidUTF8(let field): "context field \(field) is not valid UTF-8"
        case .limitExceeded(let field, let size, let limit): "context field \(field) has \(size), limit \(limit)"
        case .trailingBytes(let n): "context has \(n) trailing bytes"
        case .bufferSizeMismatch(let expected, let actual): "context buffer is \(actual) bytes, expected \(expected)"
        }
    }
}
