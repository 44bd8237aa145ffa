/// Bounds on what a peer can make the reader buffer while reassembling fragments.
public struct ReassemblyLimits: Sendable, Equatable {
    /// Messages that may be partially received at once (distinct stream ids).
    public var maxPartialMessages: Int
    /// Bytes that may be reserved for partial messages at once.
    public var maxBufferedBytes: Int

    public init(maxPartialMessages: Int = 4096, maxBufferedBytes: Int? = nil, maxMessageSize: Int) {
        self.maxPartialMessages = maxPartialMessages
        self.maxBufferedBytes = maxBufferedBytes ?? max(4 * maxMessageSize, 64 << 20)
    }
}

/// Reads whole messages from a ring: unfragmented frames are delivered in place (zero copy);
/// fragments are reassembled per stream id into a private buffer and delivered once the last one
/// arrives, with the context of the first. Any broken fragment sequence (a continuation without a
/// start, a changed length or kind, too many bytes, a second start) poisons the ring.
public struct MessageReader: ~Copyable {
    public var consumer: RingConsumer
    public let limits: ReassemblyLimits
    @usableFromInline var partials: [UInt64: PartialMessage] = [:]
    @usableFromInline var bufferedBytes = 0

    public init(consumer: consuming RingConsumer, limits: ReassemblyLimits? = nil) {
        let maxMessageSize = consumer.maxMessageSize
        self.consumer = consumer
        self.limits = limits ?? ReassemblyLimits(maxMessageSize: maxMessageSize)
    }

    /// Messages currently partially received.
    public var partialMessageCount: Int { partials.count }

    /// Delivers every whole message available now, up to `limit`, then releases the ring space.
    /// Returns the number of messages delivered.
    /// - Throws: `.protocolViolation` (poisoned), or `.closed` once the producer closed the ring and
    ///   everything was delivered.
    @inlinable @inline(__always)
    public mutating func drain(limit: Int = .max, _ body: (MessageView) -> Void) throws(RingError) -> Int {
        try drain(limit: limit, splitting: { _, _ in nil }, body)
    }

    /// `drain`, with fragmented messages reassembled in two parts where `split` says so: asked
    /// once per fragmented message with its kind and its first fragment's payload, it returns how
    /// many leading bytes are the protocol's prefix (or nil: one contiguous payload, as `drain`).
    /// The reader then keeps those bytes apart and assembles the rest straight into an array of its
    /// own, delivered as `MessageView.body` (the view's `payload` then holds the prefix only): a
    /// large payload reaches its owner without a copy of the whole message. A value outside
    /// `1...firstFragment.count` is ignored. `split` reads shared memory the peer can still
    /// change: it only chooses where to cut, and whoever decodes the prefix must check the copy.
    @inlinable @inline(__always)
    public mutating func drain(
        limit: Int = .max, splitting split: (FrameKind, UnsafeRawBufferPointer) -> Int?, _ body: (MessageView) -> Void
    ) throws(RingError) -> Int {
        if let poison = consumer.violation { throw poison }
        var delivered = 0
        // Whether a fragment was taken without completing a message (a frame was seen, so the
        // ring was not found empty, even if nothing was delivered).
        var absorbed = false
        defer { consumer.release() }
        while delivered < limit {
            guard let frame = try consumer.nextFrame() else { break }
            let flags = frame.header.flags
            if flags.contains(.unfragmented) && (partials.isEmpty || partials[frame.header.streamId] == nil) {
                body(MessageView(
                    kind: frame.header.kind, flags: flags.intersection(.userSettable), streamId: frame.header.streamId,
                    context: frame.context, payload: frame.payload, fragmentCount: 1))
                delivered &+= 1
                continue
            }
            // The fragment path takes the frame's parts, not the frame: handing it the view itself
            // made the whole view a memory object, stored on every frame (Docs/Benchmarks.md, stop 33).
            if try absorb(frame.header, frame.context, frame.payload, split, body) { delivered &+= 1 } else { absorbed = true }
        }
        if delivered == 0 && !absorbed {
            do throws(RingError) { try consumer.checkClosed() } catch {
                if error == .closed && !partials.isEmpty {
                    throw consumer.poison("ring closed with \(partials.count) partial message(s)")
                }
                throw error
            }
        }
        return delivered
    }

    /// Handles one fragment; returns true when it completed (and delivered) a message.
    @usableFromInline
    mutating func absorb(
        _ header: FrameHeader, _ context: UnsafeRawBufferPointer, _ payload: UnsafeRawBufferPointer, _ split: (FrameKind, UnsafeRawBufferPointer) -> Int?, _ body: (MessageView) -> Void
    ) throws(RingError) -> Bool {
        let id = header.streamId
        if header.flags.contains(.firstFragment) {
            guard partials[id] == nil else { throw consumer.poison("stream \(id) starts a message while one is in progress") }
            guard !header.flags.contains(.lastFragment) else {
                throw consumer.poison("stream \(id) unfragmented frame while a message is in progress")
            }
            guard header.messageLength <= UInt64(consumer.maxMessageSize) else {
                throw consumer.poison("stream \(id) message length \(header.messageLength) exceeds \(consumer.maxMessageSize)")
            }
            let length = Int(header.messageLength)
            guard partials.count < limits.maxPartialMessages else {
                throw consumer.poison("more than \(limits.maxPartialMessages) partial messages")
            }
            guard bufferedBytes + length <= limits.maxBufferedBytes else {
                throw consumer.poison("partial messages would buffer more than \(limits.maxBufferedBytes) bytes")
            }
            let cut = split(header.kind, payload).flatMap { $0 >= 1 && $0 <= payload.count ? $0 : nil }
            let partial = PartialMessage(kind: header.kind, messageLength: length, context: context, prefixLength: cut)
            partial.append(payload)
            bufferedBytes += length
            partials[id] = partial
            return false
        }
        guard let partial = partials[id] else { throw consumer.poison("stream \(id) continuation fragment without a start") }
        guard header.kind == partial.kind, header.messageLength == UInt64(partial.messageLength) else {
            throw consumer.poison("stream \(id) fragment changes kind or message length")
        }
        guard partial.received + payload.count <= partial.messageLength else {
            throw consumer.poison("stream \(id) fragments exceed message length \(partial.messageLength)")
        }
        partial.append(payload)
        partial.fragments += 1
        let complete = partial.received == partial.messageLength
        guard complete == header.flags.contains(.lastFragment) else {
            throw consumer.poison("stream \(id) last-fragment flag disagrees with the received length")
        }
        guard complete else { return false }
        partials[id] = nil
        bufferedBytes -= partial.messageLength
        let flags = header.flags.intersection(.userSettable)
        if let whole = partial.takeBody() {
            withUnsafePointer(to: whole) { slot in
                partial.withViews { context, payload in
                    body(MessageView(
                        kind: partial.kind, flags: flags, streamId: id,
                        context: context, payload: payload, fragmentCount: partial.fragments, bodySlot: slot))
                }
            }
        } else {
            partial.withViews { context, payload in
                body(MessageView(
                    kind: partial.kind, flags: flags, streamId: id,
                    context: context, payload: payload, fragmentCount: partial.fragments))
            }
        }
        return true
    }
}

/// A message being reassembled: its context (copied from the first fragment) and a buffer sized
/// for the whole payload up front (the size was checked against the limits). Split (a
/// `prefixLength`), the buffer holds the prefix only and the rest goes into `body`, an array the
/// receiver takes over.
@usableFromInline
final class PartialMessage {
    let kind: FrameKind
    let messageLength: Int
    let context: [UInt8]
    /// The payload (unsplit) or its first `prefixLength` bytes (split).
    let storage: UnsafeMutableRawPointer
    let storageLength: Int
    /// The payload after the prefix, when split. Its bytes are written before they are read: the
    /// message is delivered only once `received == messageLength`, so every byte was copied in.
    var body: [UInt8]?
    var received = 0
    var fragments = 1

    init(kind: FrameKind, messageLength: Int, context: UnsafeRawBufferPointer, prefixLength: Int? = nil) {
        self.kind = kind
        self.messageLength = messageLength
        self.context = [UInt8](context)
        let prefix = prefixLength.map { min($0, messageLength) }
        storageLength = prefix ?? messageLength
        storage = .allocate(byteCount: max(storageLength, 1), alignment: 16)
        if let prefix {
            // Uninitialised on purpose (UInt8 is trivial): zeroing 4 MiB would touch every page
            // twice; each byte is written by `append` before the message is delivered.
            body = [UInt8](unsafeUninitializedCapacity: messageLength - prefix) { _, count in count = messageLength - prefix }
        }
    }

    deinit { storage.deallocate() }

    func append(_ bytes: UnsafeRawBufferPointer) {
        precondition(received + bytes.count <= messageLength)
        guard bytes.count > 0 else { return }
        let intoStorage = max(0, min(bytes.count, storageLength - received))
        if intoStorage > 0 { (storage + received).copyMemory(from: bytes.baseAddress!, byteCount: intoStorage) }
        let rest = bytes.count - intoStorage
        if rest > 0 {
            let offset = received + intoStorage - storageLength
            body!.withUnsafeMutableBytes { body in
                (body.baseAddress! + offset).copyMemory(from: bytes.baseAddress! + intoStorage, byteCount: rest)
            }
        }
        received += bytes.count
    }

    /// The body of a split message, moved out (nil when not split).
    func takeBody() -> [UInt8]? {
        defer { body = nil }
        return body
    }

    func withViews(_ body: (UnsafeRawBufferPointer, UnsafeRawBufferPointer) -> Void) {
        context.withUnsafeBytes { context in
            body(context, UnsafeRawBufferPointer(start: storage, count: storageLength))
        }
    }
}
