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
        var delivered = 0
        var framesSeen = 0
        defer { consumer.release() }
        while delivered < limit {
            guard let frame = try consumer.next() else { break }
            framesSeen += 1
            let flags = frame.header.flags
            if flags.contains(.unfragmented) && (partials.isEmpty || partials[frame.header.streamId] == nil) {
                body(MessageView(
                    kind: frame.header.kind, flags: flags.intersection(.userSettable), streamId: frame.header.streamId,
                    context: frame.context, payload: frame.payload, fragmentCount: 1))
                delivered += 1
                continue
            }
            if try absorb(frame, body) { delivered += 1 }
        }
        if framesSeen == 0 {
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
    mutating func absorb(_ frame: FrameView, _ body: (MessageView) -> Void) throws(RingError) -> Bool {
        let header = frame.header
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
            let partial = PartialMessage(kind: header.kind, messageLength: length, context: frame.context)
            partial.append(frame.payload)
            bufferedBytes += length
            partials[id] = partial
            return false
        }
        guard let partial = partials[id] else { throw consumer.poison("stream \(id) continuation fragment without a start") }
        guard header.kind == partial.kind, header.messageLength == UInt64(partial.messageLength) else {
            throw consumer.poison("stream \(id) fragment changes kind or message length")
        }
        guard partial.received + frame.payload.count <= partial.messageLength else {
            throw consumer.poison("stream \(id) fragments exceed message length \(partial.messageLength)")
        }
        partial.append(frame.payload)
        partial.fragments += 1
        let complete = partial.received == partial.messageLength
        guard complete == header.flags.contains(.lastFragment) else {
            throw consumer.poison("stream \(id) last-fragment flag disagrees with the received length")
        }
        guard complete else { return false }
        partials[id] = nil
        bufferedBytes -= partial.messageLength
        partial.withViews { context, payload in
            body(MessageView(
                kind: partial.kind, flags: header.flags.intersection(.userSettable), streamId: id,
                context: context, payload: payload, fragmentCount: partial.fragments))
        }
        return true
    }
}

/// A message being reassembled: its context (copied from the first fragment) and a buffer sized
/// for the whole payload up front (the size was checked against the limits).
@usableFromInline
final class PartialMessage {
    let kind: FrameKind
    let messageLength: Int
    let context: [UInt8]
    let storage: UnsafeMutableRawPointer
    var received = 0
    var fragments = 1

    init(kind: FrameKind, messageLength: Int, context: UnsafeRawBufferPointer) {
        self.kind = kind
        self.messageLength = messageLength
        self.context = [UInt8](context)
        self.storage = .allocate(byteCount: max(messageLength, 1), alignment: 16)
    }

    deinit { storage.deallocate() }

    func append(_ bytes: UnsafeRawBufferPointer) {
        precondition(received + bytes.count <= messageLength)
        if bytes.count > 0 { (storage + received).copyMemory(from: bytes.baseAddress!, byteCount: bytes.count) }
        received += bytes.count
    }

    func withViews(_ body: (UnsafeRawBufferPointer, UnsafeRawBufferPointer) -> Void) {
        context.withUnsafeBytes { context in
            body(context, UnsafeRawBufferPointer(start: storage, count: messageLength))
        }
    }
}
