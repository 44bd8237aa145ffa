// ReactorPoller — work the reactor thread polls as part of its duty cycle (Aeron's "agent" shape):
// a ring reader that drains what arrived and acts on it inline, with no task or thread hand-off per
// message. The reactor calls `poll()` every turn; when no poller (and no job) made progress for the
// idle profile's spin and yield budget, it asks each poller to announce its sleep and sleeps on the
// words they name, together with its timers, process watches and requests (ReactorDuties.swift).

/// What one `poll()` did.
package enum PollOutcome: Sendable, Equatable {
    /// Nothing to do right now.
    case idle
    /// Did some work: the reactor polls again without backing off.
    case progress
    /// The poller is done for good: the reactor forgets it (after this, none of its methods is called).
    case finished
}

/// What a poller needs in order to sleep.
package enum PollerSleep: Sendable, Equatable {
    /// Sleep until the 32-bit word at this address no longer holds `RingWaiter.sleeping` (the
    /// poller stored `sleeping` there and re-checked its ring: the Dekker half of Docs/Waiting.md).
    case on(word: UInt)
    /// Work arrived while announcing: poll again instead of sleeping.
    case busy
    /// Nothing to wait for (the poller is woken by other means, e.g. a stop request that nudges).
    case nothing
}

/// Work that runs on a reactor's thread, polled every turn of its loop. All methods are called on the
/// reactor thread only, one at a time, from registration until `poll()` returns `.finished` or
/// `reactorStopped()` is called.
package protocol ReactorPoller: AnyObject, Sendable {
    /// Does what is ready (bounded: other pollers and jobs share the thread).
    func poll() -> PollOutcome
    /// Announces a sleep and re-checks (see `PollerSleep`).
    func prepareToSleep() -> PollerSleep
    /// Withdraws the announcement after a sleep (or when the reactor decided not to sleep).
    func finishSleep()
    /// The reactor shut down while the poller was registered: the last call it gets.
    func reactorStopped()
}

/// Identifies a registered poller (`Reactor.removePoller`).
package struct PollerToken: Sendable, Hashable {
    let id: UInt64
}
