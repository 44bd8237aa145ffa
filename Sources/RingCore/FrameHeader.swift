/// The 32-byte header that starts every frame (except padding, which has only the first 8 bytes).
///
/// ```
/// 0  u32 frameLength    header + context + payload, unpadded; the frame occupies align8(frameLength)
/// 4  u16 kind
/// 6  u16 flags
/// 8  u64 streamId       invocation id / gRPC stream id / correlation id
/// 16 u32 contextLength  encoded forwarding-context bytes following the header
/// 20 u32 payloadLength  payload bytes of this fragment, following the context
/// 24 u64 messageLength  payload bytes of the whole message (equal in every fragment)
/// ```
public struct FrameHeader: Hashable, Sendable {
    public static let size = 32
    /// Bytes of a padding frame that are meaningful (length, kind, flags).
    public static let prefixSize = 8

    public var frameLength: UInt32
    public var kind: FrameKind
    public var flags: FrameFlags
    public var streamId: UInt64
    public var contextLength: UInt32
    public var payloadLength: UInt32
    public var messageLength: UInt64

    @inlinable
    public init(
        frameLength: UInt32, kind: FrameKind, flags: FrameFlags, streamId: UInt64,
        contextLength: UInt32, payloadLength: UInt32, messageLength: UInt64
    ) {
        self.frameLength = frameLength
        self.kind = kind
        self.flags = flags
        self.streamId = streamId
        self.contextLength = contextLength
        self.payloadLength = payloadLength
        self.messageLength = messageLength
    }

    /// Writes the header at `address` (little-endian, 8-byte aligned by construction).
    @inlinable @inline(__always)
    package func store(to address: UnsafeMutableRawPointer) {
        let word0 = UInt64(frameLength) | UInt64(kind.rawValue) << 32 | UInt64(flags.rawValue) << 48
        address.storeBytes(of: word0.littleEndian, as: UInt64.self)
        address.storeBytes(of: streamId.littleEndian, toByteOffset: 8, as: UInt64.self)
        let word2 = UInt64(contextLength) | UInt64(payloadLength) << 32
        address.storeBytes(of: word2.littleEndian, toByteOffset: 16, as: UInt64.self)
        address.storeBytes(of: messageLength.littleEndian, toByteOffset: 24, as: UInt64.self)
    }

    /// `store(to:)` for code outside the package that lays frames out itself (the micro-benchmarks).
    @_spi(Unsafe) @inlinable
    public func unsafeStore(to address: UnsafeMutableRawPointer) { store(to: address) }

    /// Splits the first 8 bytes (read once, as one load) into length, kind and flags.
    @inlinable @inline(__always)
    public static func decodePrefix(_ word0: UInt64) -> (length: UInt32, kind: FrameKind, flags: UInt16) {
        (UInt32(truncatingIfNeeded: word0), FrameKind(rawValue: UInt16(truncatingIfNeeded: word0 >> 32)),
         UInt16(truncatingIfNeeded: word0 >> 48))
    }

    /// Whether the frame satisfies every invariant `violation(maxFrameLength:)` checks — the
    /// branch-light fast path of the reader; the description is computed only on failure.
    @inlinable @inline(__always)
    public func isValid(maxFrameLength: UInt32) -> Bool {
        let first = flags.contains(.firstFragment)
        let sum = UInt64(FrameHeader.size) &+ UInt64(contextLength) &+ UInt64(payloadLength)
        return kind.isKnown && kind != .padding
            && flags.rawValue & ~FrameFlags.allDefined.rawValue == 0
            && frameLength >= UInt32(FrameHeader.size) && frameLength <= maxFrameLength
            && sum == UInt64(frameLength)
            && UInt64(payloadLength) <= messageLength
            && (first || contextLength == 0)
            && (!first || !flags.contains(.lastFragment) || UInt64(payloadLength) == messageLength)
            && (!first || !kind.requiresContext || contextLength != 0)
    }

    /// `isValid` for the common frame — a whole message in one frame — in fewer tests: with both
    /// fragment bits set, the fragment rules reduce to "payload equals message length" and "a
    /// kind that needs a context has one". False for every other frame, valid or not: the caller
    /// then asks `isValid`. The frame length's bounds were checked by the caller (on the same word).
    @inlinable @inline(__always)
    package static func isValidWholeMessage(
        kind: FrameKind, flags: UInt16, frameLength: UInt64, contextLength: UInt32, payloadLength: UInt32,
        messageLength: UInt64
    ) -> Bool {
        (flags & ~FrameFlags.allDefined.rawValue) | (~flags & FrameFlags.unfragmented.rawValue) == 0
            && kind.isKnownNonPadding
            && UInt64(size) &+ UInt64(contextLength) &+ UInt64(payloadLength) == frameLength
            && UInt64(payloadLength) == messageLength
            && (contextLength != 0 || !kind.requiresContext)
    }

    /// Checks the invariants a single frame must satisfy on its own (fragment sequencing is the
    /// reassembler's job). Returns a description of the first violation, or nil.
    public func violation(maxFrameLength: UInt32) -> String? {
        if !kind.isKnown || kind == .padding { return "unknown frame kind 0x\(String(kind.rawValue, radix: 16))" }
        if flags.rawValue & ~FrameFlags.allDefined.rawValue != 0 {
            return "undefined flags 0x\(String(flags.rawValue, radix: 16))"
        }
        if frameLength < UInt32(FrameHeader.size) || frameLength > maxFrameLength {
            return "frame length \(frameLength) outside \(FrameHeader.size)...\(maxFrameLength)"
        }
        if UInt64(FrameHeader.size) + UInt64(contextLength) + UInt64(payloadLength) != UInt64(frameLength) {
            return "frame length \(frameLength) ≠ header + context \(contextLength) + payload \(payloadLength)"
        }
        if UInt64(payloadLength) > messageLength {
            return "fragment payload \(payloadLength) exceeds message length \(messageLength)"
        }
        if !flags.contains(.firstFragment) && contextLength != 0 {
            return "continuation fragment carries a context"
        }
        if flags.contains(.firstFragment) && flags.contains(.lastFragment) && UInt64(payloadLength) != messageLength {
            return "unfragmented frame payload \(payloadLength) ≠ message length \(messageLength)"
        }
        if kind.requiresContext && flags.contains(.firstFragment) && contextLength == 0 {
            return "\(kind) without a forwarding context"
        }
        return nil
    }
}
