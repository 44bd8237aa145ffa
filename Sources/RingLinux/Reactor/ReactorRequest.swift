// ReactorRequest — what other threads ask of the reactor thread. Requests travel through the
// RequestQueue; only the reactor thread acts on them, so the registrations need no lock.
#if canImport(Glibc)
    import Glibc
#endif

/// A request to the reactor thread. Addresses travel as integers (raw pointers are not Sendable).
enum ReactorRequest: Sendable {
    case wait(id: UInt64, word: UInt, expected: UInt32, completion: @Sendable (WaitResult) -> Void)
    case cancelWait(id: UInt64)
    case wake(word: UInt)
    case timer(id: UInt64, deadline: UInt64, callback: @Sendable (TimerResult) -> Void)
    case cancelTimer(id: UInt64)
    /// The reactor takes ownership of `pidfd` and closes it when the watch ends.
    case watch(id: UInt64, pidfd: Int32, callback: @Sendable (ProcessWatchResult) -> Void)
    case cancelWatch(id: UInt64)
    /// From the futex-thread backend's pidfd poller: a watched process ended.
    case processExited(id: UInt64, status: ChildProcess.ExitStatus?)
    /// A job of the reactor's executor, enqueued from another thread.
    case job(UnownedJob)
    /// Eventfd backend: doorbells already taken out of the registry (their segment is going away):
    /// close each once no READ is armed on it any more.
    case releaseDoorbells([RetiredDoorbell])
    case addPoller(id: UInt64, any ReactorPoller)
    case removePoller(id: UInt64)
    case shutdown

    /// Ends a request that can no longer be carried out (the reactor has shut down): its callback
    /// gets `.shutdown`, a descriptor it carried is closed.
    func reject() {
        switch self {
        case .wait(_, _, _, let completion): completion(.shutdown)
        case .timer(_, _, let callback): callback(.shutdown)
        case .watch(_, let pidfd, let callback):
            close(pidfd)
            callback(.shutdown)
        case .job(let job): ReactorExecutor.runElsewhere(job)
        case .addPoller(_, let poller): poller.reactorStopped()
        case .releaseDoorbells(let retired):
            for doorbell in retired { close(doorbell.descriptor) }
        case .cancelWait, .wake, .cancelTimer, .cancelWatch, .processExited, .removePoller, .shutdown: break
        }
    }

    /// A doorbell taken out of the registry, with the word it stood for.
    struct RetiredDoorbell: Sendable {
        var word: UInt
        var descriptor: Int32
    }
}
