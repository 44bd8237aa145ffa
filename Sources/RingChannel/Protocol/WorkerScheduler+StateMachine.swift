// WorkerScheduler — the worker's admission of invocations, as a plain state machine (no I/O): up to
// `maxConcurrency` handlers run at once, the rest wait in arrival order; cancels reach running and
// queued invocations alike; after terminate the queue still runs (it was in flight) but anything
// arriving later is refused. The worker keeps draining its inbound ring whatever the load, so a
// cancel or a terminate is never stuck behind invocations.

struct WorkerScheduler<Job> {
    let maxConcurrency: Int
    private(set) var running: Set<UInt64> = []
    private var order: [UInt64] = []
    private var orderHead = 0
    private var queued: [UInt64: Job] = [:]
    private(set) var completed: UInt64 = 0
    private(set) var draining = false

    init(maxConcurrency: Int) {
        precondition(maxConcurrency >= 1)
        self.maxConcurrency = maxConcurrency
    }

    enum ReceiveAction {
        /// Run it now.
        case start(Job)
        /// It waits for a free slot.
        case queued
        /// The worker is terminating: answer `cancelled` without running it.
        case refused(Job)
        /// The number is already running or queued: the host broke the protocol.
        case duplicate
    }

    mutating func receive(_ number: UInt64, _ job: Job) -> ReceiveAction {
        if running.contains(number) || queued[number] != nil { return .duplicate }
        if draining { return .refused(job) }
        if running.count < maxConcurrency {
            running.insert(number)
            return .start(job)
        }
        queued[number] = job
        order.append(number)
        return .queued
    }

    /// Whether invocation `number` may run at once outside the books: not draining, a free slot,
    /// nothing queued, not a duplicate. The reader admits invocations one at a time on its own
    /// thread, so nothing can take the slot before the invocation is either answered inline (then
    /// `finishedOutside`) or recorded as running (`enterRunning`): a handler finishing meanwhile
    /// only frees slots, and the queue stays empty. Saves the set insert and remove (and a lock)
    /// per invocation that a worker answers inline.
    func mayRunOutside(_ number: UInt64) -> Bool {
        !draining && running.count < maxConcurrency && queued.isEmpty && !running.contains(number)
    }

    /// An invocation admitted by `mayRunOutside` did not finish inline: it runs from now on.
    mutating func enterRunning(_ number: UInt64) { running.insert(number) }

    /// A handler finished (its answer is written). Returns the next invocation to start, if any.
    mutating func finished(_ number: UInt64) -> (UInt64, Job)? {
        guard running.remove(number) != nil else { return nil }
        completed &+= 1
        while orderHead < order.count {
            let next = order[orderHead]
            orderHead += 1
            if let job = queued.removeValue(forKey: next) {
                running.insert(next)
                compact()
                return (next, job)
            }
        }
        compact()
        return nil
    }

    enum CancelAction {
        /// Cancel the running handler (it answers when it returns).
        case cancelRunning
        /// It never started: answer `cancelled` now.
        case removedFromQueue(Job)
        /// Not here (already answered, or never received): nothing to do.
        case unknown
    }

    mutating func cancel(_ number: UInt64) -> CancelAction {
        if running.contains(number) { return .cancelRunning }
        if let job = queued.removeValue(forKey: number) {
            completed &+= 1
            return .removedFromQueue(job)
        }
        return .unknown
    }

    /// Terminate received: nothing new is admitted.
    mutating func beginDrain() { draining = true }

    /// The grace period is over: every running handler is to be cancelled and every queued
    /// invocation answered `cancelled`.
    mutating func cancelAll() -> (running: [UInt64], queued: [(UInt64, Job)]) {
        draining = true
        var dropped: [(UInt64, Job)] = []
        while orderHead < order.count {
            let number = order[orderHead]
            orderHead += 1
            if let job = queued.removeValue(forKey: number) { dropped.append((number, job)) }
        }
        completed &+= UInt64(dropped.count)
        compact()
        return (Array(running), dropped)
    }

    var isIdle: Bool { running.isEmpty && queued.isEmpty }

    /// `outside`: invocations answered inline outside the books (counted by the worker).
    func status(completedOutside outside: UInt64 = 0) -> WorkerStatus {
        WorkerStatus(running: UInt32(running.count), queued: UInt32(queued.count), completed: completed &+ outside)
    }

    private mutating func compact() {
        if orderHead > 1024 && orderHead * 2 > order.count {
            order.removeFirst(orderHead)
            orderHead = 0
        }
    }
}
