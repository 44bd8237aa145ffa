// ReactorExecutor — a reactor's thread as a Swift Concurrency task executor (SE-0417). A task
// started with `Task(executorPreference: reactor.executor)` (or code inside
// `withTaskExecutorPreference(reactor.executor)`) runs its non-isolated code on the reactor thread,
// between the pollers' turns: a continuation resumed by a poller (an invocation's reply) enqueues
// its task here without a lock, a nudge or a thread hop, and the task runs in the same turn.
//
// A task executor, not a serial executor: nothing is isolated to the reactor, so no call hops onto
// it or off it; tasks that prefer it simply run there whenever they are not bound to an actor.

/// Runs jobs on a reactor's thread. Jobs enqueued from the reactor thread go to a local queue (no
/// lock); from another thread through the reactor's request queue (one nudge if the reactor sleeps).
/// After shutdown, jobs run on the global concurrent executor: a task that prefers a stopped reactor
/// still completes.
public final class ReactorExecutor: TaskExecutor, @unchecked Sendable {
    // @unchecked: `shared` is immutable; the local queue behind it is touched on the reactor thread only.
    let shared: ReactorShared

    init(shared: ReactorShared) { self.shared = shared }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        if shared.isReactorThread, let duties = shared.duties {
            duties.enqueueLocal(job)
            return
        }
        if !shared.queue.enqueue(.job(job), nudging: true) {
            ReactorExecutor.runElsewhere(job)
        }
    }

    /// A job the reactor can no longer run: hand it to the global concurrent executor.
    static func runElsewhere(_ job: UnownedJob) {
        globalConcurrentExecutor.enqueue(ExecutorJob(job))
    }
}
