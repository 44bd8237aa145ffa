public import RingCore

/// Delivers a ring's claimed wake-ups through a reactor: on the reactor's own thread the wake is
/// batched into its next io_uring_enter; from any other thread it is made at once (one FUTEX_WAKE,
/// or the word's doorbell on the eventfd backend) — handing it to the reactor thread first would add
/// a thread hop to every sleeping hand-off.
public struct ReactorWaker: RingWaker {
    public let reactor: Reactor

    public init(_ reactor: Reactor) { self.reactor = reactor }

    public func wake(_ word: UnsafeMutableRawPointer) {
        if reactor.isReactorThread { reactor.wake(word) } else { reactor.wakeNow(word) }
    }
}
