public import CRingPrefetch  // public: the @inlinable prefetch below calls it
/// The single reader of one ring. `~Copyable`: exactly one consumer per ring per process.
///
/// The consumer acquire-loads the tail, drains every frame up to it, and releases the space with
/// one release store of the head per batch. Every index and every header read from shared memory
/// is copied into a local and validated before use; the first violation poisons the ring, and
/// every later call reports it. Nothing outside the data area is ever read.
public struct RingConsumer: ~Copyable, Sendable {
    @usableFromInline let geometry: RingGeometry
    @usableFromInline let mask: UInt64
    /// Position of the next frame to read.
    @usableFromInline var head: UInt64
    /// Last head stored to shared memory.
    @usableFromInline var releasedHead: UInt64
    /// Last tail read from shared memory.
    @usableFromInline var cachedTail: UInt64
    @usableFromInline var poison: RingError?
    /// Consumed bytes after which `next()` gives space back even in the middle of a long drain, so
    /// the producer never waits for a whole batch to be processed.
    @usableFromInline let releaseThreshold: UInt64
    /// `releasedHead + releaseThreshold`: the head at which `next()` gives space back (one
    /// comparison per frame).
    @usableFromInline var releaseAt: UInt64
    /// Set when this side claimed a wake-up of the producer that the waiting layer must deliver.
    @usableFromInline var wakeOwedFlag = false
    /// Whether a claimed wake-up could not be delivered (no waker installed) and is owed.
    public var wakeOwed: Bool { wakeOwedFlag }
    @usableFromInline var stats = RingCounters()
    /// Frames, bytes, publishes and full results seen by this handle.
    public var counters: RingCounters { stats }

    @_spi(Unsafe) public init(geometry: RingGeometry) {
        self.geometry = geometry
        self.mask = geometry.capacity &- 1
        let head = SharedAtomics.loadRelaxed(geometry.headAddress)
        self.head = head
        self.releasedHead = head
        self.cachedTail = head
        self.releaseThreshold = max(geometry.capacity / 16, 64)
        self.releaseAt = head &+ releaseThreshold
        if head % 8 != 0 {
            poison = .protocolViolation("\(geometry.direction) ring starts with misaligned head \(head)")
        }
    }

    public var capacity: Int { Int(geometry.capacity) }
    public var maxMessageSize: Int { Int(geometry.maxMessageSize) }
    public var violation: RingError? { poison }

    /// Marks the ring poisoned (used by layers above when a frame sequence is invalid).
    public mutating func poison(_ detail: String) -> RingError {
        if let poison { return poison }
        let error = RingError.protocolViolation(detail)
        poison = error
        return error
    }

    /// Whether a frame is (probably) available without touching anything but the shared tail.
    @inlinable
    public mutating func hasFrames() throws(RingError) -> Bool {
        if let poison { throw poison }
        if head != cachedTail { return true }
        try refreshTail()
        return head != cachedTail
    }

    /// Calls `body` for each frame published so far, up to `limit`, then releases their space
    /// with one store. Returns the number of frames delivered (0 when the ring is empty).
    /// - Throws: `.protocolViolation` (the ring is poisoned; frames delivered before the bad one
    ///   were delivered) or `.closed` when the producer closed the ring and it is fully drained.
    @inlinable
    public mutating func drain(limit: Int = .max, _ body: (FrameView) -> Void) throws(RingError) -> Int {
        var delivered = 0
        defer { release() }
        while delivered < limit {
            guard let frame = try next() else { break }
            body(frame)
            delivered += 1
        }
        if delivered == 0 && head == cachedTail { try checkClosed() }
        return delivered
    }

    /// The next validated frame, or nil when the ring is empty. Advances the local head past it.
    /// The frame's bytes stay valid until `release()` or the next call of `next()` (which may give
    /// the space of earlier frames back to the producer).
    @inlinable @inline(__always)
    public mutating func next() throws(RingError) -> FrameView? {
        if let poison { throw poison }
        return try nextFrame()
    }

    /// `next()` without its check of the poisoned state, for a loop that made that check before
    /// its first call: a violation throws, which ends the loop, so nothing can poison the ring
    /// between two calls of one loop (`MessageReader.drain`).
    @inlinable @inline(__always)
    mutating func nextFrame() throws(RingError) -> FrameView? {
        if head >= releaseAt { release() }
        while true {
            if head == cachedTail {
                try refreshTail()
                if head == cachedTail { return nil }
            }
            let offset = head & mask
            let toEnd = geometry.capacity &- offset
            let address = geometry.data + Int(truncatingIfNeeded: offset)  // offset < capacity
            // One load of the first word; length, kind and flags come from this local copy.
            let prefix = FrameHeader.decodePrefix(UInt64(littleEndian: address.load(as: UInt64.self)))
            if prefix.kind == .padding {
                guard UInt64(prefix.length) == toEnd, prefix.flags == 0, toEnd <= cachedTail &- head else {
                    throw paddingViolation(length: prefix.length)
                }
                head &+= toEnd
                continue
            }
            let length = UInt64(prefix.length)
            let aligned = SegmentLayout.align8(length)
            // `length - 32` wraps for a length below 32 (the frame limit is at least 40); the frame
            // must end before the end of the data area and inside what was published.
            guard length &- UInt64(FrameHeader.size) <= geometry.maxFrameLength &- UInt64(FrameHeader.size),
                aligned <= min(toEnd, cachedTail &- head)
            else { throw lengthViolation(length) }
            let word2 = UInt64(littleEndian: address.load(fromByteOffset: 16, as: UInt64.self))
            // The stream id takes no part in validation: it is read after it (fewer values live at once).
            var header = FrameHeader(
                frameLength: prefix.length, kind: prefix.kind, flags: FrameFlags(rawValue: prefix.flags), streamId: 0,
                contextLength: UInt32(truncatingIfNeeded: word2),
                payloadLength: UInt32(truncatingIfNeeded: word2 >> 32),
                messageLength: UInt64(littleEndian: address.load(fromByteOffset: 24, as: UInt64.self)))
            // The common frame (a whole message) in few tests; any other frame, and every invalid
            // one, through the full check.
            if !FrameHeader.isValidWholeMessage(
                kind: header.kind, flags: prefix.flags, frameLength: length, contextLength: header.contextLength,
                payloadLength: header.payloadLength, messageLength: header.messageLength),
                !header.isValid(maxFrameLength: UInt32(truncatingIfNeeded: geometry.maxFrameLength))
            {
                throw headerViolation(header)
            }
            header.streamId = UInt64(littleEndian: address.load(fromByteOffset: 8, as: UInt64.self))
            head &+= aligned
            // The two counters on either side of the hint's branch: together in one block, the
            // vectorizer packs them into six SSE instructions where two adds do.
            stats.bytes &+= length
            prefetchAhead()
            stats.frames &+= 1
            let body = UnsafeRawPointer(address + FrameHeader.size)
            let contextLength = Int(truncatingIfNeeded: header.contextLength)
            return FrameView(
                header: header, context: UnsafeRawBufferPointer(start: body, count: contextLength),
                payload: UnsafeRawBufferPointer(start: body + contextLength, count: Int(truncatingIfNeeded: header.payloadLength)))
        }
    }

    // The descriptions of violations, out of line: built only on failure, from the head (the
    // frame's position) and the local copy of what was read — nothing is read again — so the
    // frame loop keeps no value alive just for its error message.

    @usableFromInline @inline(never)
    mutating func paddingViolation(length: UInt32) -> RingError {
        let offset = head & mask
        return fail("padding frame of length \(length) at offset \(offset), \(geometry.capacity &- offset) bytes to the end")
    }

    @usableFromInline @inline(never)
    mutating func lengthViolation(_ length: UInt64) -> RingError {
        let offset = head & mask
        return fail(
            "frame length \(length) at offset \(offset) (\(geometry.capacity &- offset) to the end, \(cachedTail &- head) published, max \(geometry.maxFrameLength))")
    }

    @usableFromInline @inline(never)
    mutating func headerViolation(_ header: FrameHeader) -> RingError {
        fail("\(header.violation(maxFrameLength: UInt32(geometry.maxFrameLength)) ?? "invalid frame") at offset \(head & mask)")
    }

    /// Bytes ahead of the frame being read whose cache line is loaded early.
    @usableFromInline static var prefetchDistance: UInt64 { 4096 }

    /// Starts loading the cache line `prefetchDistance` ahead of the head, if it is published, so
    /// the lines of the frames to come are on their way from the producer's core while this one is
    /// processed. Frames are variable-length, so the reader cannot know where the next header is
    /// before reading this one: without a hint, a header read that crosses into a page the
    /// hardware's stream prefetcher has not reached waits for a cross-core transfer. One line per
    /// frame: every line for frames of up to 64 bytes, one line per frame's length for longer ones
    /// (whose own copies stream the rest). It was a loop over every line ahead, which
    /// cost the 64-byte reader 12 of its ≈ 150 instructions per frame and was not measurably
    /// faster at any size (Docs/Benchmarks.md, stop 33). The hint names only published bytes
    /// inside the data area and reads no value (what it brings in is validated when its frame is
    /// read). It is the CPU's prefetch instruction, not a load: a load must wait for its line
    /// before it retires, and a cross-core miss 4 KiB ahead then stalled the reader once its
    /// reorder window filled (Docs/Benchmarks.md, stop 32).
    @inlinable @inline(__always)
    func prefetchAhead() {
        let ahead = head &+ Self.prefetchDistance
        // The whole line must be published: one the producer is still writing is not taken from it.
        if ahead | 63 < cachedTail {
            ring_prefetch_read(geometry.data + Int(truncatingIfNeeded: ahead & mask))
        }
    }

    /// Gives the space of every frame read so far back to the producer: one release store.
    /// If the producer announced that it waits for space, claims its wake-up (`wakeOwed`).
    @inlinable @inline(__always)
    public mutating func release() {
        guard head != releasedHead else { return }
        // Releases consumed bytes → read (acquire) by RingProducer.refreshHead.
        SharedAtomics.storeRelease(head, geometry.headAddress)
        releasedHead = head
        releaseAt = head &+ releaseThreshold
        stats.publishes &+= 1
        if RingWaiter.wakeIfSleeping(geometry.producerWaiterAddress, waker: geometry.waker) { wakeOwedFlag = true }
    }


    /// Announces that this side will read no more (the producer may stop writing).
    public mutating func close() {
        release()
        SharedAtomics.storeRelease32(1, geometry.consumerStateAddress)
        if RingWaiter.wakeIfSleeping(geometry.producerWaiterAddress, waker: geometry.waker) { wakeOwedFlag = true }
    }

    /// Whether the producer has closed the ring (frames may remain to drain).
    public var producerClosed: Bool { SharedAtomics.loadAcquire32(geometry.producerStateAddress) != 0 }

    @usableFromInline
    mutating func refreshTail() throws(RingError) {
        // Acquire pairs with RingProducer.publish's release store: frames up to `tail` are complete.
        let tail = SharedAtomics.loadAcquire(geometry.tailAddress)
        guard tail >= cachedTail, tail &- releasedHead <= geometry.capacity, tail % 8 == 0 else {
            throw fail("\(geometry.direction) tail moved to \(tail) (head \(releasedHead), previous tail \(cachedTail))")
        }
        cachedTail = tail
    }

    @usableFromInline
    mutating func checkClosed() throws(RingError) {
        guard producerClosed else { return }
        // The producer stored its final tail before the closed state; re-read it (acquire).
        try refreshTail()
        if head == cachedTail { throw .closed }
    }

    @usableFromInline
    mutating func fail(_ detail: String) -> RingError {
        let error = RingError.protocolViolation("\(geometry.direction): \(detail)")
        poison = error
        return error
    }
}
