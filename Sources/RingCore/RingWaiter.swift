/// The waiter protocol on the control block's futex words (Docs/Waiting.md).
///
/// A side that found nothing to do (a consumer on an empty ring, a producer on a full one) spins for
/// a while, then *announces* that it sleeps by storing `sleeping` in its waiter word, issues a full
/// fence, and re-checks the other side's index. Only if there is still nothing to do does it sleep on
/// the word (futex or io_uring FUTEX_WAIT, expecting `sleeping`). The other side, after its release
/// store of tail/head, issues a full fence and loads the word: if it reads `sleeping`, it flips the
/// word to `awake` with a CAS and — only if its CAS won — delivers exactly one wake.
///
/// Why no wake-up is lost: the two sides run the Dekker pattern `store mine; fence; load theirs`.
/// With sequentially consistent fences at least one of them sees the other's store: either the
/// sleeper's re-check sees the new index (it does not sleep), or the waker sees `sleeping` (it wakes).
/// If the wake's CAS lands before the sleeper enters the kernel, FUTEX_WAIT finds `awake` ≠ expected
/// and returns at once (EAGAIN).
/// Delivers a wake-up to whoever sleeps on a waiter word (the Linux layer: futex(2) or io_uring).
public protocol RingWaker: Sendable {
    func wake(_ word: UnsafeMutableRawPointer)
}

public enum RingWaiter {
    public static let awake: UInt32 = 0
    public static let sleeping: UInt32 = 1

    /// The waker's half of the protocol, run right after a release store of tail, head or a closed
    /// state: full fence, load the peer's announcement, and if it sleeps, flip it to awake with a
    /// CAS — only the winner wakes (one wake per sleep). Delivers the wake through `waker`; returns
    /// true when there is none and the wake is owed to the caller.
    @inlinable @inline(__always)
    static func wakeIfSleeping(_ word: UnsafeMutableRawPointer, waker: (any RingWaker)?) -> Bool {
        // Dekker pair with prepareToSleep: store mine (done by the caller); full fence; load theirs.
        SharedAtomics.fenceSequential()
        guard SharedAtomics.loadRelaxed32(word) == sleeping,
            SharedAtomics.compareExchange32(expected: sleeping, desired: awake, word)
        else { return false }
        guard let waker else { return true }
        waker.wake(word)
        return false
    }
}

extension RingConsumer {
    /// The word a sleeping consumer waits on (expecting `RingWaiter.sleeping`).
    package var waiterWord: UnsafeMutableRawPointer { geometry.consumerWaiterAddress }

    /// Announces that the consumer sleeps and re-checks the ring. Returns true when the caller may
    /// sleep on `waiterWord`; false when frames arrived or the producer closed meanwhile (the
    /// announcement is withdrawn).
    public mutating func prepareToSleep() throws(RingError) -> Bool {
        if let poison { throw poison }
        SharedAtomics.storeSequential32(RingWaiter.sleeping, geometry.consumerWaiterAddress)
        // Dekker pair with RingProducer.publish: store announcement; full fence; load tail.
        SharedAtomics.fenceSequential()
        try refreshTail()
        if head != cachedTail || producerClosed {
            finishSleep()
            return false
        }
        return true
    }

    /// Withdraws the announcement (after waking, or when not sleeping after all).
    public func finishSleep() {
        SharedAtomics.storeSequential32(RingWaiter.awake, geometry.consumerWaiterAddress)
    }

    /// Returns and clears a wake-up of the producer claimed by `release()` / `close()`.
    public mutating func takeOwedWake() -> Bool {
        defer { wakeOwedFlag = false }
        return wakeOwedFlag
    }

    /// The producer's waiter word (to wake it after `takeOwedWake()` returned true).
    package var peerWaiterWord: UnsafeMutableRawPointer { geometry.producerWaiterAddress }
}

extension RingProducer {
    /// The word a producer waiting for space sleeps on (expecting `RingWaiter.sleeping`).
    package var waiterWord: UnsafeMutableRawPointer { geometry.producerWaiterAddress }

    /// Announces that the producer waits for space, publishes what is pending (so the consumer can
    /// make progress) and re-checks the head. Returns true when the caller may sleep on
    /// `waiterWord`; false when at least `bytes` are free now or the consumer closed.
    ///
    /// - Parameter fragment: the frame to write is a fragment of a large message, whose room is the
    ///   fragment window (see `RingProducer`, "Fragments in small steps"; `nextFrame` says both).
    public mutating func prepareToSleep(untilFree bytes: Int, fragment: Bool = false) throws(RingError) -> Bool {
        if let poison { throw poison }
        publish()
        SharedAtomics.storeSequential32(RingWaiter.sleeping, geometry.producerWaiterAddress)
        // Dekker pair with RingConsumer.release: store announcement; full fence; load head.
        SharedAtomics.fenceSequential()
        try refreshHead()
        // A frame may need padding before it; a large one also leaves the reserve for small ones.
        let worstCase = UInt64(bytes) * 2 + (geometry.capacity &- usableCapacity(frameLength: UInt64(bytes), fragment: fragment))
        if geometry.capacity &- (tail &- cachedHead) >= min(worstCase, geometry.capacity) || consumerClosed {
            finishSleep()
            return false
        }
        return true
    }

    public func finishSleep() {
        SharedAtomics.storeSequential32(RingWaiter.awake, geometry.producerWaiterAddress)
    }

    /// Returns and clears a wake-up of the consumer claimed by `publish()` / `close()`.
    public mutating func takeOwedWake() -> Bool {
        defer { wakeOwedFlag = false }
        return wakeOwedFlag
    }

    /// The consumer's waiter word (to wake it after `takeOwedWake()` returned true).
    package var peerWaiterWord: UnsafeMutableRawPointer { geometry.consumerWaiterAddress }
}
