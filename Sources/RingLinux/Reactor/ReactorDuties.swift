// ReactorDuties — the duty cycle every reactor loop runs between its kernel waits: the executor's
// jobs and the registered pollers, and the idle strategy (spin → yield → sleep, the loop's
// `idleProfile`) that decides when the thread may sleep. Owned by the reactor thread alone.
//
// One turn runs the jobs queued so far (a job that enqueues another leaves it for the next turn, so
// pollers are never starved) and polls every poller once. Progress resets the back-off. When the
// back-off says sleep, each poller announces its sleep and names its word; a wait is armed on each
// word that has none (through the backend's own wait path, so every backend does this the same way)
// and stays armed across sleeps until its word changes. With no poller registered the loop sleeps
// as soon as it has nothing to do: a reactor used only for waits and timers never spins.

final class ReactorDuties {
    /// One registered poller and the wait armed on its word, if any.
    final class Entry: @unchecked Sendable {
        // @unchecked: touched on the reactor thread only (wait completions run there too).
        let id: UInt64
        let poller: any ReactorPoller
        @exclusivity(unchecked) var armedWait: UInt64?
        @exclusivity(unchecked) var announced = false

        init(id: UInt64, poller: any ReactorPoller) {
            self.id = id
            self.poller = poller
        }
    }

    let executor: ReactorExecutor
    // Unchecked exclusivity: the reactor thread's alone, touched every turn, accesses never overlap
    // (a job enqueued while `running` runs goes to `jobs`); see IOUringReactorLoop.
    @exclusivity(unchecked) private(set) var entries: [Entry] = []
    @exclusivity(unchecked) private var jobs: [UnownedJob] = []
    @exclusivity(unchecked) private var running: [UnownedJob] = []
    @exclusivity(unchecked) var backoff: Backoff
    @exclusivity(unchecked) private var stopped = false

    /// Makes the ids of the waits armed for pollers (the reactor's identifier source).
    let makeIdentifier: () -> UInt64

    init(executor: ReactorExecutor, idleProfile: WaitProfile, makeIdentifier: @escaping () -> UInt64) {
        self.executor = executor
        self.makeIdentifier = makeIdentifier
        self.backoff = Backoff(idleProfile)
    }

    var hasPollers: Bool { !entries.isEmpty }
    var hasJobs: Bool { !jobs.isEmpty }

    // MARK: Jobs and pollers

    func enqueueLocal(_ job: UnownedJob) {
        if stopped { ReactorExecutor.runElsewhere(job) } else { jobs.append(job) }
    }

    func add(id: UInt64, _ poller: any ReactorPoller) {
        entries.append(Entry(id: id, poller: poller))
    }

    /// Forgets a poller; returns the wait armed for it (the loop cancels it).
    func remove(id: UInt64) -> UInt64? {
        guard let index = entries.firstIndex(where: { $0.id == id }) else { return nil }
        let entry = entries.remove(at: index)
        if entry.announced { entry.poller.finishSleep() }
        return entry.armedWait
    }

    /// Runs the queued jobs, polls every poller once, then runs the jobs the polls queued (a reply
    /// read by a poller resumes its caller in the same turn, not after the loop's kernel and timer
    /// work). Returns whether anything happened, and the waits of pollers that finished (the loop
    /// cancels them).
    func turn(finishedWaits: inout [UInt64]) -> Bool {
        let ranJobs = runJobs()
        let polled = pollAll(finishedWaits: &finishedWaits)
        let ranResumed = runJobs()
        return ranJobs || polled || ranResumed
    }

    /// Runs the jobs queued so far (not those they queue: those wait for the next pass).
    private func runJobs() -> Bool {
        guard !jobs.isEmpty else { return false }
        swap(&jobs, &running)
        let unowned = executor.asUnownedTaskExecutor()
        for job in running { job.runSynchronously(on: unowned) }
        running.removeAll(keepingCapacity: true)
        return true
    }

    private func pollAll(finishedWaits: inout [UInt64]) -> Bool {
        var progress = false
        var index = 0
        while index < entries.count {
            let entry = entries[index]
            switch entry.poller.poll() {
            case .idle:
                index += 1
            case .progress:
                progress = true
                index += 1
            case .finished:
                progress = true
                entries.remove(at: index)
                if let wait = entry.armedWait { finishedWaits.append(wait) }
            }
        }
        return progress
    }

    // MARK: Sleeping

    /// Asks every poller to announce its sleep. Returns false (and withdraws the announcements made)
    /// when one found work meanwhile. `arm` is called for each announced word without an armed
    /// wait, with the id to arm it under (already stored in `entry.armedWait`, because a wait may
    /// complete inside `arm` when its word changed meanwhile); the wait's completion clears
    /// `armedWait` if it still holds that id, and `arm` clears it if arming failed. A wait that
    /// ended inside `arm` cancels the sleep, like `.busy`.
    func announceSleep(arm: (Entry, UInt, UInt64) -> Void) -> Bool {
        for entry in entries {
            switch entry.poller.prepareToSleep() {
            case .busy:
                withdrawSleep()
                return false
            case .nothing:
                continue
            case .on(let word):
                entry.announced = true
                if entry.armedWait == nil {
                    let id = makeIdentifier()
                    entry.armedWait = id
                    arm(entry, word, id)
                    if entry.armedWait == nil {
                        // The wait ended while being armed (its word changed meanwhile, or it
                        // failed): some backends report that without a kernel completion, so a
                        // sleep now could miss the change. Poll again instead.
                        withdrawSleep()
                        return false
                    }
                }
            }
        }
        return true
    }

    /// After a sleep (or a sleep not taken): every announcement is withdrawn.
    func withdrawSleep() {
        for entry in entries where entry.announced {
            entry.announced = false
            entry.poller.finishSleep()
        }
    }

    /// The reactor is shutting down: the jobs go to the global executor, the pollers hear of it.
    func stop() {
        stopped = true
        let pollers = entries
        entries = []
        for entry in pollers { entry.poller.reactorStopped() }
        for job in jobs { ReactorExecutor.runElsewhere(job) }
        jobs = []
    }
}
