/// What a frame carries. The wire value is a u16; values not listed here are a protocol violation
/// in format version 1 (new kinds come with a new format version or a negotiated capability).
public struct FrameKind: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt16
    @inlinable public init(rawValue: UInt16) { self.rawValue = rawValue }

    /// Fills the end of the data area at a wrap; carries nothing. Only its first 8 bytes exist.
    @inlinable public static var padding: FrameKind { FrameKind(rawValue: 0x0001) }
    /// Connection set-up: protocol version, capabilities, sizes, identities.
    @inlinable public static var handshake: FrameKind { FrameKind(rawValue: 0x0002) }
    /// Control messages of the host/worker channel (worker init, function load, status, terminate…).
    @inlinable public static var control: FrameKind { FrameKind(rawValue: 0x0003) }
    /// An invocation request. Must carry a forwarding context (contextLength > 0 on its first fragment).
    @inlinable public static var invocationRequest: FrameKind { FrameKind(rawValue: 0x0010) }
    /// An invocation response; carries the forwarding context of the request it answers.
    @inlinable public static var invocationResponse: FrameKind { FrameKind(rawValue: 0x0011) }
    /// Cancels the invocation whose id is the frame's stream id.
    @inlinable public static var invocationCancel: FrameKind { FrameKind(rawValue: 0x0012) }
    /// A log record from the worker.
    @inlinable public static var log: FrameKind { FrameKind(rawValue: 0x0013) }
    /// Opens a multiplexed stream (gRPC): method and request metadata, optionally with a first message.
    @inlinable public static var streamOpen: FrameKind { FrameKind(rawValue: 0x0020) }
    /// Response metadata of a stream.
    @inlinable public static var streamMetadata: FrameKind { FrameKind(rawValue: 0x0021) }
    /// One message of a stream.
    @inlinable public static var streamMessage: FrameKind { FrameKind(rawValue: 0x0022) }
    /// Final status and trailers of a stream.
    @inlinable public static var streamStatus: FrameKind { FrameKind(rawValue: 0x0023) }
    /// Abrupt end of a stream in either direction (cancellation).
    @inlinable public static var streamReset: FrameKind { FrameKind(rawValue: 0x0024) }
    /// Flow-control credit of a stream (gRPC stream protocol 2): the receiver grants the sender more
    /// message bytes.
    @inlinable public static var streamCredit: FrameKind { FrameKind(rawValue: 0x0025) }
    /// Raw application data (benchmarks, tests, custom protocols).
    @inlinable public static var data: FrameKind { FrameKind(rawValue: 0x0040) }

    public static let allKnown: [FrameKind] = [
        .padding, .handshake, .control, .invocationRequest, .invocationResponse, .invocationCancel, .log,
        .streamOpen, .streamMetadata, .streamMessage, .streamStatus, .streamReset, .streamCredit, .data,
    ]

    /// Whether this kind exists in format version 1.
    @inlinable
    public var isKnown: Bool {
        switch rawValue {
        case 0x0001...0x0003, 0x0010...0x0013, 0x0020...0x0025, 0x0040: true
        default: false
        }
    }

    /// `isKnown && self != .padding` as one shift and mask (the reader's per-frame check): bit
    /// `rawValue - 1` of `knownNonPaddingBits` is set for each such kind. A test checks it against
    /// `isKnown` for every raw value.
    @inlinable @inline(__always)
    package var isKnownNonPadding: Bool {
        let bit = UInt32(rawValue) &- 1
        return bit < 64 && (Self.knownNonPaddingBits >> UInt64(bit)) & 1 != 0
    }

    /// Kinds 0x0002–0x0003, 0x0010–0x0013, 0x0020–0x0025 and 0x0040, as bits `rawValue - 1`.
    @usableFromInline static var knownNonPaddingBits: UInt64 {
        0b110 | 0b1111 << 15 | 0b11_1111 << 31 | 1 << 63
    }

    /// Kinds whose first fragment must carry a forwarding context.
    @inlinable @inline(__always)
    public var requiresContext: Bool { self == .invocationRequest || self == .invocationResponse }

    public var description: String {
        switch self {
        case .padding: "padding"
        case .handshake: "handshake"
        case .control: "control"
        case .invocationRequest: "invocationRequest"
        case .invocationResponse: "invocationResponse"
        case .invocationCancel: "invocationCancel"
        case .log: "log"
        case .streamOpen: "streamOpen"
        case .streamMetadata: "streamMetadata"
        case .streamMessage: "streamMessage"
        case .streamStatus: "streamStatus"
        case .streamReset: "streamReset"
        case .streamCredit: "streamCredit"
        case .data: "data"
        default: "kind(0x\(String(rawValue, radix: 16)))"
        }
    }
}

/// Per-frame flags (u16 on the wire). Bits not defined here must be zero in format version 1.
public struct FrameFlags: OptionSet, Hashable, Sendable {
    public let rawValue: UInt16
    @inlinable public init(rawValue: UInt16) { self.rawValue = rawValue }

    /// First fragment of a message (carries the context). Unfragmented frames set first and last.
    @inlinable public static var firstFragment: FrameFlags { FrameFlags(rawValue: 1 << 0) }
    /// Last fragment of a message.
    @inlinable public static var lastFragment: FrameFlags { FrameFlags(rawValue: 1 << 1) }
    /// The sender will send nothing more on this stream (gRPC half-close / end of response).
    @inlinable public static var endOfStream: FrameFlags { FrameFlags(rawValue: 1 << 2) }
    /// The message cancels or aborts its stream / invocation.
    @inlinable public static var cancel: FrameFlags { FrameFlags(rawValue: 1 << 3) }

    /// A whole message in one frame.
    @inlinable public static var unfragmented: FrameFlags { [.firstFragment, .lastFragment] }
    /// Flags the sender chooses; fragment bits are set by the ring.
    @inlinable public static var userSettable: FrameFlags { [.endOfStream, .cancel] }
    @inlinable public static var allDefined: FrameFlags { [.firstFragment, .lastFragment, .endOfStream, .cancel] }
}
