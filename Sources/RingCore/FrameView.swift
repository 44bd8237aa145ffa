/// A frame borrowed from a ring: a validated local copy of its header plus views of its context and
/// payload bytes in shared memory.
///
/// Valid only inside the closure it is passed to: the bytes belong to the ring and are reused as
/// soon as the consumer releases them. The header was copied and validated before the view was
/// made; the context and payload bytes live in memory the peer can still write, so decode them
/// (which copies) rather than trusting them twice.
public struct FrameView {
    public let header: FrameHeader
    public let context: UnsafeRawBufferPointer
    public let payload: UnsafeRawBufferPointer

    @inlinable
    init(header: FrameHeader, context: UnsafeRawBufferPointer, payload: UnsafeRawBufferPointer) {
        self.header = header
        self.context = context
        self.payload = payload
    }

    @inlinable public var kind: FrameKind { header.kind }
    @inlinable public var flags: FrameFlags { header.flags }
    @inlinable public var streamId: UInt64 { header.streamId }
}

/// A whole message: one unfragmented frame borrowed from the ring, or fragments reassembled into
/// a private buffer. Same lifetime rule as `FrameView`: valid only inside the closure.
///
/// Trivially copyable on purpose (pointers and integers only): the reader hands one to its closure
/// per message, and a view holding a reference (the split body's array, as it once did) made every
/// hand-off an outlined copy, a release and a stall — one-way 64 B streaming fell from 63–75 M to
/// ≈ 40 M msg/s (Docs/Benchmarks.md, stop 32). The split body stays in the reader's frame and the
/// view points at it.
public struct MessageView {
    public let kind: FrameKind
    /// User flags (`endOfStream`, `cancel`) of the message; fragment bits are cleared.
    public let flags: FrameFlags
    public let streamId: UInt64
    public let context: UnsafeRawBufferPointer
    public let payload: UnsafeRawBufferPointer
    /// Number of frames the message arrived in.
    public let fragmentCount: Int
    /// Where the reader keeps a split message's body while the view is alive (nil: no body).
    @usableFromInline let bodySlot: UnsafePointer<[UInt8]>?

    @inlinable
    init(kind: FrameKind, flags: FrameFlags, streamId: UInt64, context: UnsafeRawBufferPointer,
         payload: UnsafeRawBufferPointer, fragmentCount: Int, bodySlot: UnsafePointer<[UInt8]>? = nil) {
        self.kind = kind
        self.flags = flags
        self.streamId = streamId
        self.context = context
        self.payload = payload
        self.fragmentCount = fragmentCount
        self.bodySlot = bodySlot
    }

    /// For a message the reader split (`MessageReader.drain(splitting:)`): the payload after the
    /// prefix, in an array of its own that the receiver may keep — no copy of its bytes was made
    /// for the receiver — while `payload` holds the prefix only. Nil for every other message.
    @inlinable
    public var body: [UInt8]? { bodySlot?.pointee }

    /// Decodes the forwarding context carried by the message (nil when it carries none).
    public func decodeContext() throws(ContextCodecError) -> ForwardingContext? {
        context.count == 0 ? nil : try ForwardingContext(decoding: context)
    }

    /// Copies the payload out of shared memory (for a split message: the prefix and the body, whole).
    public func copyPayload() -> [UInt8] {
        guard let body else { return [UInt8](payload) }
        return [UInt8](payload) + body
    }
}
