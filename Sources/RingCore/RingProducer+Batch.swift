/// A run of small frames written into one reserved span of the ring (`RingProducer.writeBatch`).
///
/// The producer checks its state, computes the free contiguous span and re-reads the consumer's
/// head (if it must) once per batch; each `append` is then a bounds check against the span's end,
/// a header store and a copy. The frames become visible together, with the one release store of
/// the tail that ends the batch. Only the batch's own memory is written: the span lies inside the
/// data area and every `append` checks that the frame ends inside the span.
public struct FrameBatch: ~Copyable {
    /// Next free byte of the span.
    @usableFromInline var cursor: UnsafeMutableRawPointer
    /// End of the span: the end of the data area or the end of the free space, whichever is first.
    @usableFromInline let end: UnsafeMutableRawPointer
    /// Whether `end` is the end of the data area (a frame that does not fit then waits for the
    /// wrap, not for the consumer).
    @usableFromInline let endsAtDataEnd: Bool
    @usableFromInline var frames = 0
    @usableFromInline var bytes: UInt64 = 0
    /// Whether a frame did not fit the rest of the span.
    @usableFromInline var refused = false
    /// Largest payload `append` takes in this ring (`RingProducer.maxBatchPayload`).
    public let maxPayload: Int

    @usableFromInline
    init(cursor: UnsafeMutableRawPointer, end: UnsafeMutableRawPointer, endsAtDataEnd: Bool, maxPayload: Int) {
        self.cursor = cursor
        self.end = end
        self.endsAtDataEnd = endsAtDataEnd
        self.maxPayload = maxPayload
    }

    /// Largest frame (header included) a batch takes in any ring: a "small" frame, which may use
    /// the whole ring (RingProducer, "Room for small frames"). A ring whose segment allows shorter
    /// frames takes only those (`maxPayload`). Larger payloads go through `tryWrite`/`tryWriteMessage`.
    public static let maxFrameLength = 4096

    /// Bytes left in the span.
    public var remaining: Int { end - cursor }

    /// Appends one unfragmented frame without a context. Returns false, writing nothing, when the
    /// frame does not fit the rest of the span: end the batch, and write it in the next one (which
    /// starts after a wrap, or after the consumer freed space — `RingProducer.awaitSpace` waits for
    /// that).
    /// - Precondition: `payload.count <= maxPayload`; `kind` is a known kind that needs
    ///   no context (not padding, not an invocation request or response).
    @inlinable @inline(__always)
    public mutating func append(kind: FrameKind, flags: FrameFlags = [], streamId: UInt64, payload: UnsafeRawBufferPointer) -> Bool {
        let count = payload.count
        precondition(count <= maxPayload, "a batch frame carries at most \(maxPayload) bytes in this ring")
        precondition(kind.isKnown && kind != .padding && !kind.requiresContext, "\(kind) cannot be a batch frame")
        let length = FrameHeader.size &+ count
        let aligned = (length &+ 7) & ~7
        guard aligned <= end - cursor else {
            refused = true
            return false
        }
        let frameFlags = flags.intersection(.userSettable).union(.unfragmented)
        let word0 = UInt64(length) | UInt64(kind.rawValue) << 32 | UInt64(frameFlags.rawValue) << 48
        cursor.storeBytes(of: word0.littleEndian, as: UInt64.self)
        cursor.storeBytes(of: streamId.littleEndian, toByteOffset: 8, as: UInt64.self)
        cursor.storeBytes(of: (UInt64(count) << 32).littleEndian, toByteOffset: 16, as: UInt64.self)
        cursor.storeBytes(of: UInt64(count).littleEndian, toByteOffset: 24, as: UInt64.self)
        FrameCopy.copy(payload, to: cursor + FrameHeader.size)
        cursor += aligned
        frames &+= 1
        bytes &+= UInt64(length)
        return true
    }
}

extension RingProducer {
    /// Largest payload a `writeBatch` frame carries: `FrameBatch.maxFrameLength`, or the segment's
    /// frame limit where that is lower, less the header.
    @inlinable
    public var maxBatchPayload: Int { Swift.min(FrameBatch.maxFrameLength, maxFrameLength) &- FrameHeader.size }

    /// Writes many small frames with one reservation and one publication (issue 14's batch path).
    ///
    /// Reserves the free contiguous span at the tail (re-reading the consumer's head once if the
    /// cached view shows less than `FrameBatch.maxFrameLength` free), lets `body` append frames to
    /// it, then advances the tail past them and publishes them with one release store and at most
    /// one wake. When a frame did not fit before the end of the data area, the rest of the area is
    /// padded, so the next batch starts at its beginning. Frames carry no context and are never
    /// fragmented; their kinds must not require a context.
    ///
    /// - Returns: the number of frames written (0 when the ring had no room: wait with
    ///   `awaitSpace(frameBytes:)`, then try again).
    /// - Throws: `.protocolViolation` if the peer corrupted the head; `.closed` after `close()`.
    @inlinable
    public mutating func writeBatch(publish: Bool = true, _ body: (inout FrameBatch) -> Void) throws(RingError) -> Int {
        if let poison { throw poison }
        if closedLocally { throw .closed }
        let offset = tail & mask
        let toEnd = geometry.capacity &- offset
        var free = geometry.capacity &- (tail &- cachedHead)
        if free < UInt64(FrameBatch.maxFrameLength) && free < toEnd {
            try refreshHead()
            free = geometry.capacity &- (tail &- cachedHead)
        }
        let span = min(toEnd, free)
        let start = geometry.data + Int(offset)
        var batch = FrameBatch(cursor: start, end: start + Int(span), endsAtDataEnd: span == toEnd, maxPayload: maxBatchPayload)
        body(&batch)
        let used = UInt64(batch.cursor - start)
        tail &+= used
        stats.frames &+= UInt64(batch.frames)
        stats.bytes &+= batch.bytes
        if batch.refused, batch.endsAtDataEnd, toEnd > used {
            // The next frame needs the wrap: pad to the end now (only the padding's first 8 bytes
            // are meaningful), so the next batch starts at the beginning of the data area.
            let padding = toEnd &- used
            let word0 = padding | UInt64(FrameKind.padding.rawValue) << 32
            batch.cursor.storeBytes(of: word0.littleEndian, as: UInt64.self)
            tail &+= padding
        }
        if batch.frames == 0 && used == 0 { stats.fullCount &+= 1 }
        if publish { self.publish() }
        prefetchAhead()
        return batch.frames
    }
}
