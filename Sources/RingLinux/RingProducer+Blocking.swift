public import RingCore

extension RingProducer {
    /// Writes a whole message (fragmenting it when needed), idling with `backoff` while the ring is
    /// full. Never drops: it returns only when the last fragment is written.
    /// - Throws: the limit errors before anything is written; `.closed` if the consumer closed the
    ///   ring while we waited; `.protocolViolation` if the peer corrupted the ring.
    @inlinable
    public mutating func writeMessage(
        kind: FrameKind, flags: FrameFlags = [], streamId: UInt64,
        context: UnsafeRawBufferPointer = UnsafeRawBufferPointer(start: nil, count: 0),
        payload: UnsafeRawBufferPointer, backoff: inout Backoff
    ) throws(RingError) {
        var progress = MessageProgress()
        while try tryWriteMessage(
            kind: kind, flags: flags, streamId: streamId, context: context, payload: payload, progress: &progress) == .full
        {
            if consumerClosed { throw .closed }
            backoff.idle()
        }
        backoff.reset()
    }
}

extension MessageReader {
    /// Waits (idling with `backoff`) until at least one message is available, then delivers every
    /// message available, up to `limit`. Returns how many were delivered (≥ 1).
    @inlinable
    public mutating func receive(limit: Int = .max, backoff: inout Backoff, _ body: (MessageView) -> Void) throws(RingError) -> Int {
        while true {
            let delivered = try drain(limit: limit, body)
            if delivered > 0 {
                backoff.reset()
                return delivered
            }
            backoff.idle()
        }
    }
}
