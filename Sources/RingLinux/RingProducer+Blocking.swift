public import RingCore

/// Longest single sleep of the blocking helpers: a bound, not a timing — after it they re-check the
/// ring (and the peer's closed state), so a peer that died without waking us cannot hang them.
let blockingSleepBound: UInt64 = 100_000_000

extension RingProducer {
    /// Writes a whole message (fragmenting it when needed), waiting as `backoff`'s profile says while
    /// the ring is full: spin, yield, then sleep on the producer's waiter word until the consumer
    /// frees space. Never drops: it returns only when the last fragment is written.
    /// - Throws: the limit errors before anything is written; `.closed` if the consumer closed the
    ///   ring while we waited; `.protocolViolation` if the peer corrupted the ring.
    public mutating func writeMessage(
        kind: FrameKind, flags: FrameFlags = [], streamId: UInt64,
        context: UnsafeRawBufferPointer = UnsafeRawBufferPointer(start: nil, count: 0),
        payload: UnsafeRawBufferPointer, backoff: inout Backoff
    ) throws(RingError) {
        var progress = MessageProgress()
        while try tryWriteMessage(
            kind: kind, flags: flags, streamId: streamId, context: context, payload: payload, progress: &progress) == .full
        {
            let next = nextFrame(contextLength: context.count, payloadLength: payload.count, progress: progress)
            try awaitSpace(frameBytes: next.frameLength, fragment: next.fragment, backoff: &backoff)
        }
        backoff.reset()
    }

    /// One step of waiting for `frameBytes` of space after a write returned `.full`: publishes what
    /// is pending, then spins, yields or sleeps as the profile says.
    /// - Throws: `.closed` when the consumer closed the ring.
    /// `fragment`: the frame is a fragment of a large message (see `nextFrame`).
    public mutating func awaitSpace(frameBytes: Int, fragment: Bool = false, backoff: inout Backoff) throws(RingError) {
        publish()
        if consumerClosed { throw .closed }
        guard backoff.idle() else { return }
        if try prepareToSleep(untilFree: frameBytes, fragment: fragment) {
            if Futex.wait(waiterWord, expected: RingWaiter.sleeping, timeoutNanoseconds: blockingSleepBound) {
                backoff.timedOutSleeps += 1
            }
            finishSleep()
        }
        backoff.reset()
    }
}

extension MessageReader {
    /// Waits (spin, yield, then sleep on the consumer's waiter word) until at least one message is
    /// available, then delivers every message available, up to `limit`. Returns how many (≥ 1).
    /// - Throws: `.closed` once the producer closed and everything was delivered.
    @inlinable @inline(__always)
    public mutating func receive(limit: Int = .max, backoff: inout Backoff, _ body: (MessageView) -> Void) throws(RingError) -> Int {
        while true {
            let delivered = try drain(limit: limit, body)
            if delivered > 0 {
                backoff.reset()
                return delivered
            }
            try idleStep(backoff: &backoff)
        }
    }

    /// One step of waiting after an empty drain: spin, yield or sleep on the consumer's waiter word
    /// as the profile says (out of line: the drain above is the hot path).
    @usableFromInline
    mutating func idleStep(backoff: inout Backoff) throws(RingError) {
        guard backoff.idle() else { return }
        if try consumer.prepareToSleep() {
            if Futex.wait(consumer.waiterWord, expected: RingWaiter.sleeping, timeoutNanoseconds: blockingSleepBound) {
                backoff.timedOutSleeps += 1
            }
            consumer.finishSleep()
        }
        backoff.reset()
    }
}
