public import CRingPrefetch  // public: the @inlinable prefetchAhead below calls it
/// The single writer of one ring. `~Copyable`: there is exactly one producer per ring per
/// process; in-process concurrency goes through `SharedRingWriter`.
///
/// Frames are written in place and become visible to the consumer only when the tail is stored
/// with release ordering (`publish`); several frames may be published by one store. The producer
/// caches the consumer's head and re-reads the shared word only when its cached view shows too
/// little space. A full ring is a result (`.full`), never a drop or an overwrite.
///
/// **Room for small frames.** A large frame (longer than `largeFrameThreshold`: a message of up to a
/// frame; fragments have their own, tighter window, below) may fill the ring only up to `capacity - largeFrameReserve`;
/// smaller frames may use all of it. A message of several MiB streaming out fragment by fragment
/// therefore never takes the space a small message of the same process needs: the small one is
/// written at once, between two fragments, instead of waiting behind the whole large message.
///
/// **Fragments in small steps.** A message that does not fit one frame is cut into fragments of
/// `fragmentPayloadLength` bytes (a 64th of the ring, at least 16 KiB, at most a frame), and its
/// fragments may fill the ring only up to `fragmentWindow` (a 16th of the ring, at least four
/// fragments). Whatever is written after a fragment — a small message, another message's fragment
/// — therefore has at most that window of bulk ahead of it, which the consumer copies in tens of
/// microseconds, instead of up to the whole ring (measured: the p99 of small invocations mixed
/// with 4 MiB ones, Docs/Benchmarks.md). Fragment sizes are the writer's choice (WireFormat.md).
public struct RingProducer: ~Copyable, Sendable {
    @usableFromInline let geometry: RingGeometry
    @usableFromInline let mask: UInt64
    /// Next write position, including frames not yet published.
    @usableFromInline var tail: UInt64
    /// Last tail stored to shared memory.
    @usableFromInline var publishedTail: UInt64
    /// Last head read from shared memory; never ahead of the real head.
    @usableFromInline var cachedHead: UInt64
    /// Free ring space up to here was hinted for writing (`prefetchAhead`).
    @usableFromInline var prefetchedTo: UInt64
    @usableFromInline var poison: RingError?
    /// Set by `close()`: nothing more is written after it (a write throws `.closed`).
    @usableFromInline var closedLocally = false
    /// Frames longer than this are "large" (see "Room for small frames").
    @usableFromInline package let largeFrameThreshold: Int
    /// Bytes a large frame leaves free for smaller ones: a quarter of the ring, less when the frame
    /// limit needs more (a large frame must still fit an empty ring after a wrap's padding).
    @usableFromInline package let largeFrameReserve: Int
    /// Payload bytes per fragment of a message that needs fragments (see "Fragments in small steps").
    @usableFromInline package let fragmentPayloadLength: Int
    /// How much of the ring fragments may fill.
    @usableFromInline package let fragmentWindow: Int
    /// Set when this side claimed a wake-up of the consumer that the waiting layer must deliver.
    @usableFromInline var wakeOwedFlag = false
    /// Whether a claimed wake-up could not be delivered (no waker installed) and is owed.
    public var wakeOwed: Bool { wakeOwedFlag }
    @usableFromInline var stats = RingCounters()
    /// Frames, bytes, publishes and full results seen by this handle.
    public var counters: RingCounters { stats }

    /// Creates the producer of a ring, starting from the positions in its control block.
    @_spi(Unsafe) public init(geometry: RingGeometry) {
        self.geometry = geometry
        self.mask = geometry.capacity &- 1
        // Relaxed is enough for our own tail: nobody else writes it. Head is the peer's (acquire).
        let tail = SharedAtomics.loadRelaxed(geometry.tailAddress)
        let head = SharedAtomics.loadAcquire(geometry.headAddress)
        self.tail = tail
        self.publishedTail = tail
        self.cachedHead = head
        self.prefetchedTo = tail
        let capacity = Int(geometry.capacity)
        largeFrameThreshold = max(capacity / 16, 4096)
        largeFrameReserve = max(0, min(capacity / 4, capacity - 2 * Int(geometry.maxFrameLength)))
        fragmentPayloadLength = min(Int(geometry.maxFrameLength) - FrameHeader.size, max(capacity / 64, 16 << 10))
        // At least four fragment frames (a first fragment may carry a context of up to 16 KiB as
        // well, and a frame may need padding before it), never more than large frames may fill.
        let fragmentFrame = FrameHeader.size + max(fragmentPayloadLength, ForwardingContext.Limits.maxEncodedSize + 4096)
        fragmentWindow = min(capacity - largeFrameReserve, max(capacity / 16, 4 * fragmentFrame))
        if head > tail || tail &- head > geometry.capacity || tail % 8 != 0 {
            poison = .protocolViolation("\(geometry.direction) ring starts with head \(head), tail \(tail)")
            cachedHead = tail
        }
    }

    public var capacity: Int { Int(geometry.capacity) }
    public var maxFrameLength: Int { Int(geometry.maxFrameLength) }
    public var maxMessageSize: Int { Int(geometry.maxMessageSize) }
    /// Largest payload of an unfragmented frame with a context of `contextLength` bytes.
    public func maxFramePayload(contextLength: Int) -> Int { maxFrameLength - FrameHeader.size - contextLength }

    /// The violation that poisoned this ring, if any.
    public var violation: RingError? { poison }

    /// Bytes written but not yet consumed, as last seen.
    public var usedBytes: Int { Int(tail &- cachedHead) }

    /// Reserves one frame of `kind`, lets `fill` write its context and payload in place, and
    /// commits it. Nothing is visible to the consumer until the tail is published (`publish: true`
    /// here or a later `publish()`).
    ///
    /// - Returns: `.full` when the frame does not fit now (nothing was written).
    /// - Throws: `RingError.protocolViolation` if the peer corrupted the head;
    ///   `RingError.closed` after `close()`.
    @inlinable
    public mutating func tryWriteFrame(
        kind: FrameKind, flags: FrameFlags = .unfragmented, streamId: UInt64,
        contextLength: Int, payloadLength: Int, messageLength: Int? = nil, publish: Bool = true,
        _ fill: (_ context: UnsafeMutableRawBufferPointer, _ payload: UnsafeMutableRawBufferPointer) -> Void
    ) throws(RingError) -> WriteOutcome {
        if let poison { throw poison }
        if closedLocally { throw .closed }
        let length = UInt64(FrameHeader.size + contextLength + payloadLength)
        precondition(contextLength >= 0 && payloadLength >= 0 && length <= geometry.maxFrameLength,
                     "frame of \(length) bytes exceeds maxFrameLength \(geometry.maxFrameLength)")
        guard let frame = try reserve(alignedLength: SegmentLayout.align8(length), fragment: !flags.contains(.unfragmented)) else {
            stats.fullCount &+= 1
            return .full
        }
        FrameHeader(
            frameLength: UInt32(truncatingIfNeeded: length), kind: kind, flags: flags, streamId: streamId,
            contextLength: UInt32(truncatingIfNeeded: contextLength),
            payloadLength: UInt32(truncatingIfNeeded: payloadLength),
            messageLength: UInt64(messageLength ?? payloadLength)
        ).store(to: frame)
        let body = frame + FrameHeader.size
        fill(
            UnsafeMutableRawBufferPointer(start: body, count: contextLength),
            UnsafeMutableRawBufferPointer(start: body + contextLength, count: payloadLength))
        tail &+= SegmentLayout.align8(length)
        stats.frames &+= 1
        stats.bytes &+= length
        if publish { self.publish() }
        return .written
    }

    /// Copies `context` and `payload` into one frame (see `tryWriteFrame`).
    @inlinable
    public mutating func tryWrite(
        kind: FrameKind, flags: FrameFlags = .unfragmented, streamId: UInt64,
        context: UnsafeRawBufferPointer = UnsafeRawBufferPointer(start: nil, count: 0),
        payload: UnsafeRawBufferPointer, messageLength: Int? = nil, publish: Bool = true
    ) throws(RingError) -> WriteOutcome {
        try tryWriteFrame(
            kind: kind, flags: flags, streamId: streamId, contextLength: context.count,
            payloadLength: payload.count, messageLength: messageLength, publish: publish
        ) { contextOut, payloadOut in
            FrameCopy.copy(context, to: contextOut.baseAddress)
            FrameCopy.copy(payload, to: payloadOut.baseAddress)
        }
    }

    /// Makes every frame written so far visible: one release store of the tail.
    /// If the consumer announced that it sleeps, claims the wake-up (`wakeOwed`); the waiting layer
    /// then wakes it (Docs/Waiting.md).
    @inlinable @inline(__always)
    public mutating func publish() {
        guard tail != publishedTail else { return }
        // Publishes frames up to `tail` → read (acquire) by RingConsumer.refreshTail.
        SharedAtomics.storeRelease(tail, geometry.tailAddress)
        publishedTail = tail
        stats.publishes &+= 1
        if RingWaiter.wakeIfSleeping(geometry.consumerWaiterAddress, waker: geometry.waker) { wakeOwedFlag = true }
    }

    /// Bytes of free space ahead of the tail whose cache lines are fetched for writing early.
    @usableFromInline static var prefetchDistance: UInt64 { 16384 }

    /// Fetches for writing the cache lines of free space up to `prefetchDistance` past the tail
    /// (at most 64 lines per call, each line once), so the stores of the next frames find their
    /// lines already here instead of waiting for each one in turn from the consumer's core, where
    /// they were last read. Called by `writeBatch`, the streaming path, where it kept the sender
    /// from being the slower side; not on every publication, where a request/response path with
    /// one frame per publication pays for hints it rarely uses (Docs/Benchmarks.md, stop 33).
    /// Only whole lines of space the consumer has given back (below the cached head plus the
    /// capacity) are named — a line the consumer may still read is never taken from it — and a
    /// hint reads and writes nothing, so this changes no byte of the ring.
    @inlinable @inline(__always)
    mutating func prefetchAhead() {
        var line = max(prefetchedTo, tail &+ 63) & ~63
        let last = min(tail &+ Self.prefetchDistance, (cachedHead &+ geometry.capacity) & ~63, line &+ 4096)
        while line < last {
            ring_prefetch_write(geometry.data + Int(truncatingIfNeeded: line & mask))
            line &+= 64
        }
        prefetchedTo = max(prefetchedTo, line)
    }


    /// Whether frames are written but not yet published.
    public var hasUnpublished: Bool { tail != publishedTail }

    /// Publishes what is pending and marks the ring closed: the consumer drains what is there and
    /// then reports `.closed`. Every later write throws `.closed`, so nothing can follow the close
    /// (with `SharedRingWriter`, whose lock orders writes and the close, no writer of the process
    /// can slip a frame in after it).
    public mutating func close() {
        closedLocally = true
        publish()
        // Release: the final tail is visible before the closed state → RingConsumer (acquire).
        SharedAtomics.storeRelease32(1, geometry.producerStateAddress)
        if RingWaiter.wakeIfSleeping(geometry.consumerWaiterAddress, waker: geometry.waker) { wakeOwedFlag = true }
    }

    /// Whether the consumer announced it will read no more.
    public var consumerClosed: Bool { SharedAtomics.loadAcquire32(geometry.consumerStateAddress) != 0 }

    /// Returns the address of `alignedLength` free bytes at the tail, writing a padding frame first
    /// if the frame would cross the end of the data area; nil when there is not enough space.
    @inlinable @inline(__always)
    mutating func reserve(alignedLength: UInt64, fragment: Bool = false) throws(RingError) -> UnsafeMutableRawPointer? {
        let offset = tail & mask
        let toEnd = geometry.capacity &- offset
        let needed = alignedLength <= toEnd ? alignedLength : toEnd &+ alignedLength
        let limit = usableCapacity(frameLength: alignedLength, fragment: fragment)
        if tail &+ needed &- cachedHead > limit {
            try refreshHead()
            if tail &+ needed &- cachedHead > limit { return nil }
        }
        if alignedLength > toEnd {
            // Padding: only its first 8 bytes are meaningful (length = bytes to the end, kind 1).
            let word0 = toEnd | UInt64(FrameKind.padding.rawValue) << 32
            (geometry.data + Int(offset)).storeBytes(of: word0.littleEndian, as: UInt64.self)
            tail &+= toEnd
            return geometry.data
        }
        return geometry.data + Int(offset)
    }

    /// How much of the ring a frame of `frameLength` bytes may fill (see "Room for small frames").
    @inlinable @inline(__always)
    func usableCapacity(frameLength: UInt64, fragment: Bool = false) -> UInt64 {
        // The window is never larger than what a large frame may fill (set up so in `init`).
        if fragment { return UInt64(truncatingIfNeeded: fragmentWindow) }
        return frameLength > UInt64(truncatingIfNeeded: largeFrameThreshold)
            ? geometry.capacity &- UInt64(truncatingIfNeeded: largeFrameReserve) : geometry.capacity
    }

    /// Re-reads the consumer's head and validates it: it may only move forward and never past
    /// what we published.
    @usableFromInline
    mutating func refreshHead() throws(RingError) {
        // Acquire pairs with RingConsumer.release's release store of head: the consumer is done
        // with the bytes before we overwrite them.
        let head = SharedAtomics.loadAcquire(geometry.headAddress)
        guard head >= cachedHead, head <= publishedTail, head % 8 == 0 else {
            let error = RingError.protocolViolation(
                "\(geometry.direction) head moved to \(head), outside \(cachedHead)...\(publishedTail)")
            poison = error
            throw error
        }
        cachedHead = head
    }
}

/// The result of a non-blocking write.
public enum WriteOutcome: Sendable, Equatable {
    case written
    /// Not enough space now; nothing was written. Retry after the consumer drains.
    case full
}

/// Copies into frame memory. Up to 64 bytes: two to four overlapping moves of 16, 8, 4 or 1 bytes
/// chosen by the length — the way memcpy copies small sizes, without the call — where a loop of
/// 8-byte words cost the 64-byte writer ≈ 25 instructions (its loop, its tail loop and the runtime
/// overlap check the compiler added). Every load is inside the source and every store inside the
/// `count` bytes at `target`; overlapping stores write the same bytes twice.
@usableFromInline package enum FrameCopy {
    @inlinable @inline(__always)
    package static func copy(_ source: UnsafeRawBufferPointer, to target: UnsafeMutableRawPointer?) {
        let count = source.count
        guard count > 0, let target, let from = source.baseAddress else { return }
        guard count <= 64 else {
            target.copyMemory(from: from, byteCount: count)
            return
        }
        // count ≤ 64, so `count - n` below never underflows where it is used: wrapping ops.
        if count >= 16 {
            let first = from.loadUnaligned(as: SIMD16<UInt8>.self)
            let last = from.loadUnaligned(fromByteOffset: count &- 16, as: SIMD16<UInt8>.self)
            if count > 32 {
                let second = from.loadUnaligned(fromByteOffset: 16, as: SIMD16<UInt8>.self)
                let third = from.loadUnaligned(fromByteOffset: count &- 32, as: SIMD16<UInt8>.self)
                target.storeBytes(of: second, toByteOffset: 16, as: SIMD16<UInt8>.self)
                target.storeBytes(of: third, toByteOffset: count &- 32, as: SIMD16<UInt8>.self)
            }
            target.storeBytes(of: first, as: SIMD16<UInt8>.self)
            target.storeBytes(of: last, toByteOffset: count &- 16, as: SIMD16<UInt8>.self)
        } else if count >= 8 {
            let first = from.loadUnaligned(as: UInt64.self)
            let last = from.loadUnaligned(fromByteOffset: count &- 8, as: UInt64.self)
            target.storeBytes(of: first, as: UInt64.self)
            target.storeBytes(of: last, toByteOffset: count &- 8, as: UInt64.self)
        } else if count >= 4 {
            let first = from.loadUnaligned(as: UInt32.self)
            let last = from.loadUnaligned(fromByteOffset: count &- 4, as: UInt32.self)
            target.storeBytes(of: first, as: UInt32.self)
            target.storeBytes(of: last, toByteOffset: count &- 4, as: UInt32.self)
        } else {
            // 1–3 bytes: the first, the middle (for 3; the first or last again otherwise), the last.
            let first = from.load(as: UInt8.self)
            let middle = from.load(fromByteOffset: count >> 1, as: UInt8.self)
            let last = from.load(fromByteOffset: count &- 1, as: UInt8.self)
            target.storeBytes(of: first, as: UInt8.self)
            target.storeBytes(of: middle, toByteOffset: count >> 1, as: UInt8.self)
            target.storeBytes(of: last, toByteOffset: count &- 1, as: UInt8.self)
        }
    }
}
