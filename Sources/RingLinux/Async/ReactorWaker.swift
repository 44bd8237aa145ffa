public import RingCore

/// Delivers a ring's claimed wake-ups through a reactor's backend: one FUTEX_WAKE (or the word's
/// doorbell on the eventfd backend) made at once, on the caller's thread — the reactor's own thread
/// included. A wake deferred to the reactor's next io_uring_enter would name the word by its
/// address alone, after the call that claimed it returned: by then the ring's reader may have
/// ended and its segment been unmapped (the link layer's readers run on the reactor thread and end
/// there), and the address may belong to another mapping. Claimed wakes are rare under load (a peer
/// only sleeps when it has nothing to do), so the syscall is paid when it buys a wake-up anyway.
public struct ReactorWaker: RingWaker {
    public let reactor: Reactor

    public init(_ reactor: Reactor) { self.reactor = reactor }

    public func wake(_ word: UnsafeMutableRawPointer) {
        reactor.wakeNow(word)
    }
}
