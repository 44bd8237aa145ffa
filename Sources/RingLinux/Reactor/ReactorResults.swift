// ReactorResults — what the reactor hands back: tokens for pending requests and the typed results
// their callbacks receive. Every request's callback is called exactly once, on the reactor thread
// (or on the caller's thread when the reactor had already shut down).

/// Identifies a pending `waitForChange`, for `Reactor.cancel(_:)`.
public struct WaitToken: Hashable, Sendable {
    let id: UInt64
}

/// Identifies a pending `schedule(at:)`, for `Reactor.cancel(_:)`.
public struct TimerToken: Hashable, Sendable {
    let id: UInt64
}

/// Identifies a pending `watchProcess`, for `Reactor.cancel(_:)`.
public struct WatchToken: Hashable, Sendable {
    let id: UInt64
}

/// How a `waitForChange` ended.
public enum WaitResult: Sendable, Equatable {
    /// Woken, or the word already differed from the expected value when the wait was armed. Wakes
    /// may be spurious: the caller re-checks its condition.
    case changed
    /// `cancel(_:)` was called before the wait ended.
    case cancelled
    /// The reactor shut down with the wait pending.
    case shutdown
    /// The kernel rejected the wait (e.g. EFAULT: the word was unmapped before the wait was armed).
    case failed(SystemError)
}

/// How a timer ended. A cancelled timer never reports `.fired`.
public enum TimerResult: Sendable, Equatable {
    case fired
    case cancelled
    case shutdown
}

/// How a `watchProcess` ended.
public enum ProcessWatchResult: Sendable, Equatable {
    /// The process ended. The status is known for a child of this process that nobody has reaped
    /// yet (it is read with `waitid(WNOWAIT)`, so the child stays reapable by `ChildProcess.wait`);
    /// nil for a process that is not our child or was already reaped.
    case exited(ChildProcess.ExitStatus?)
    case cancelled
    case shutdown
    case failed(SystemError)
}
