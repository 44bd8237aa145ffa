import CRingShim
import RingCore

// IOUringReactorLoop — the io_uring backends' event loop, on the reactor thread, which owns the ring.
//
// Each turn: take the queued requests (when the atomic flag says there are any) and turn them into
// submission entries, fire due timers, run the duty cycle (executor jobs and pollers,
// ReactorDuties.swift). While that makes progress, or the idle profile still spins or yields, the
// loop goes around without sleeping: it submits only when it has prepared entries or wakes, and
// collects completions from the shared completion ring (plus one io_uring_enter per
// `busyKernelPollNanoseconds`, which DEFER_TASKRUN needs to post them). When it is time to sleep:
// the pollers announce and their words get waits, the loop parks (requests nudge from then on), adds
// one FUTEX_WAKE per word woken since the last submission and a timeout for the earliest timer, then
// submits everything and waits for a completion in ONE io_uring_enter. A READ stays armed on the
// nudge eventfd so requests from other threads end the wait.
// `ioUringFutex` sleeps on the words themselves (FUTEX_WAIT); `ioUringEventfd` on each word's doorbell.
#if canImport(Glibc)
    import Glibc
#endif

final class IOUringReactorLoop {
    /// What an in-flight operation holds until its completion arrives (buffers the kernel may still
    /// write, descriptors it still uses).
    enum InFlight {
        case nudgeRead
        case futexWait
        case doorbellRead(word: UInt, descriptor: Int32, buffer: UnsafeMutableRawPointer)
        case processPoll(pidfd: Int32)
        case timeout(UnsafeMutablePointer<__kernel_timespec>)
    }

    /// A word of the eventfd backend: its doorbell, whether a READ is armed on it, who waits.
    struct DoorbellWord {
        var descriptor: Int32
        var readArmed = false
        var waiters: [UInt64] = []
    }

    let ring: IOUring
    let shared: ReactorShared
    let duties: ReactorDuties
    // `@exclusivity(unchecked)` on the properties the loop touches every turn: they belong to the
    // reactor thread alone and no access to one overlaps another, and the dynamic checks (a
    // thread-local lookup per access) were ≈ 12 % of a busy host reactor's CPU (Docs/Benchmarks.md).
    /// When the busy loop last entered the kernel to collect completions.
    @exclusivity(unchecked) var lastKernelPoll: UInt64 = 0
    @exclusivity(unchecked) var finishedWaits: [UInt64] = []
    let registry = ReactorRegistry()
    var inFlight: [UInt64: InFlight] = [:]
    /// Words to FUTEX_WAKE with the next submission, each once.
    @exclusivity(unchecked) var pendingWakes: [UInt] = []
    var pendingWakeSet: Set<UInt> = []
    var submissionCarriesWakes = false
    var doorbellWords: [UInt: DoorbellWord] = [:]
    /// Released doorbells with a READ still armed: closed when that READ completes.
    var retiringDoorbells: Set<Int32> = []
    var armedTimeout: (userData: UInt64, deadline: UInt64)?
    var sequence: UInt64 = 0
    @exclusivity(unchecked) var stopping = false
    var drainExpired = false
    /// Requests taken from the queue but not handled when the ring failed mid-batch.
    @exclusivity(unchecked) var unhandled: [ReactorRequest] = []
    /// Set when the ring itself failed; pending requests then end with `.failed`.
    var failure: SystemError?
    let nudgeDescriptor: Int32
    let nudgeBuffer = UnsafeMutableRawPointer.allocate(byteCount: 8, alignment: 8)
    let drainLimit = UnsafeMutablePointer<__kernel_timespec>.allocate(capacity: 1)

    var usesFutexOperations: Bool { shared.kind == .ioUringFutex }

    /// Sets the ring up. Must run on the reactor thread (SINGLE_ISSUER binds the ring to it).
    init(shared: ReactorShared, duties: ReactorDuties) throws(SystemError) {
        self.duties = duties
        var options = IOUring.Options()
        options.entries = shared.options.ringEntries
        options.sqPollIdleMilliseconds = shared.options.sqPollIdleMilliseconds
        ring = try IOUring(options)
        self.shared = shared
        guard case .eventfd(let descriptor) = shared.queue.nudge.mechanism else {
            fatalError("io_uring backends are nudged through an eventfd")
        }
        nudgeDescriptor = descriptor
        shared.recordOpened(ring.descriptor)
    }

    deinit {
        nudgeBuffer.deallocate()
        drainLimit.deallocate()
    }

    var setupDescription: String { "io_uring \(ring.setupDescription), \(shared.options.ringEntries) submission entries" }

    // MARK: The loop

    func run() {
        do {
            try armNudgeRead()
        } catch {
            fail(error)
        }
        while !stopping {
            do throws(SystemError) {
                try takeRequests()
                if stopping { break }
                // One clock read per turn, shared by the timers and the busy turn's pacing of kernel
                // entries (a vDSO read costs ≈ 30 ns on these VMs; two per turn were ≈ 5 % of a busy
                // reactor thread).
                let now = ReactorClock.now()
                if registry.hasTimers { registry.fireDueTimers(now: now) }
                let progress = duties.turn(finishedWaits: &finishedWaits)
                try cancelFinishedWaits()
                if stopping { break }
                if progress || duties.hasJobs {
                    duties.backoff.reset()
                    try collectWhileBusy(now: now)
                } else if duties.hasPollers && !duties.backoff.idle() {
                    try collectWhileBusy(now: now)
                } else {
                    try sleep()
                }
            } catch  where error.errno == EBUSY || error.errno == EAGAIN {
                reap()  // completion queue full (or the kernel short of memory): make room, go around
            } catch {
                fail(error)
            }
        }
        shutDown()
    }

    /// Turns the queued requests into submission entries (or registrations).
    func takeRequests() throws(SystemError) {
        guard !unhandled.isEmpty || shared.queue.mayHaveRequests else { return }
        let batch = unhandled + shared.queue.takeAll()
        unhandled = []
        for (index, request) in batch.enumerated() {
            do {
                try handle(request)
            } catch {
                unhandled = Array(batch[(index + 1)...])  // settled by shutDown
                throw error
            }
        }
    }

    /// A turn that does not sleep: submits what was prepared (waits, wakes) at once, collects
    /// completions already posted, and enters the kernel to collect more at most once per
    /// `busyKernelPollNanoseconds` (`now`: the turn's clock reading).
    func collectWhileBusy(now: UInt64) throws(SystemError) {
        if ring.pendingSubmissions > 0 || !pendingWakes.isEmpty {
            try flushWakes()
            try submit(waiting: false)
        } else {
            if now &- lastKernelPoll >= shared.options.busyKernelPollNanoseconds {
                lastKernelPoll = now
                try armTimeout()
                try ring.submitAndCollect()
                shared.counters.bump(.ringEnters)
            }
        }
        reap()
    }

    /// Announces the pollers' sleep, parks, and sleeps in one io_uring_enter with everything prepared.
    func sleep() throws(SystemError) {
        defer { duties.backoff.reset() }
        guard duties.announceSleep(arm: armPollerWait) else { return }
        defer { duties.withdrawSleep() }
        let parked = shared.queue.park()
        defer { if parked { shared.queue.unpark() } }
        try flushWakes()
        try armTimeout()
        try submit(waiting: parked)
        if parked { shared.counters.bump(.sleeps) }
        lastKernelPoll = ReactorClock.now()
        reap()
    }

    /// Arms wait `id` on a poller's word; its completion marks the poller's word unarmed.
    func armPollerWait(_ entry: ReactorDuties.Entry, _ word: UInt, _ id: UInt64) {
        let request = ReactorRequest.wait(id: id, word: word, expected: RingWaiter.sleeping) { _ in
            if entry.armedWait == id { entry.armedWait = nil }
        }
        do {
            try handle(request)
        } catch {
            if entry.armedWait == id { entry.armedWait = nil }
            fail(error)
        }
    }

    /// Cancels the waits of pollers that finished.
    func cancelFinishedWaits() throws(SystemError) {
        guard !finishedWaits.isEmpty else { return }
        let waits = finishedWaits
        finishedWaits.removeAll(keepingCapacity: true)
        for id in waits { try handle(.cancelWait(id: id)) }
    }

    func fail(_ error: SystemError) {
        if failure == nil { failure = error }
        stopping = true
    }

    /// One io_uring_enter: submits what is prepared and, when `waiting`, sleeps until a completion.
    func submit(waiting: Bool) throws(SystemError) {
        let carriesWakes = submissionCarriesWakes
        submissionCarriesWakes = false
        if waiting { try ring.submitAndWait(1) } else { try ring.submit() }
        shared.counters.bump(.ringEnters)
        if carriesWakes { shared.counters.bump(.ringEntersWithWakes) }
    }

    func reap() {
        ring.drainCompletions { complete($0) }
    }

    /// Makes sure `count` submission entries are vacant, submitting what is prepared if not. A
    /// full completion queue (EBUSY) is drained and the submit retried, so preparing an entry
    /// only fails when the ring itself fails.
    func reserve(_ count: UInt32 = 2) throws(SystemError) {
        while ring.submissionSpace < count {
            do {
                try submit(waiting: false)
            } catch  where error.errno == EBUSY || error.errno == EAGAIN {
                // the kernel keeps the overflow until there is room: make room
            }
            reap()
        }
    }

    // MARK: Requests

    func handle(_ request: ReactorRequest) throws(SystemError) {
        switch request {
        case .wait(let id, let word, let expected, let completion):
            let wait = ReactorRegistry.Wait(word: word, expected: expected, completion: completion)
            registry.addWait(id: id, wait)
            shared.counters.bump(.waitsArmed)
            if usesFutexOperations {
                try reserve()
                let userData = OperationTag.futexWait.userData(id)
                try ring.prepareFutexWait(wait.address, expected: expected, userData: userData)
                inFlight[userData] = .futexWait
            } else {
                try armDoorbellWait(id: id, wait)
            }
        case .cancelWait(let id):
            guard let wait = registry.waits[id] else { return }
            registry.finishWait(id, .cancelled)
            if usesFutexOperations {
                try cancelOperation(OperationTag.futexWait.userData(id))
            } else {
                doorbellWords[wait.word]?.waiters.removeAll { $0 == id }
            }
        case .wake(let word):
            if usesFutexOperations {
                if pendingWakeSet.insert(word).inserted { pendingWakes.append(word) }
            } else {
                Reactor.wakeDirectly(word, shared: shared)
            }
        case .timer(let id, let deadline, let callback):
            registry.addTimer(id: id, deadline: deadline, callback)
        case .cancelTimer(let id):
            registry.cancelTimer(id)
        case .releaseDoorbells(let retired):
            releaseDoorbells(retired)
        case .watch(let id, let pidfd, let callback):
            try reserve()
            registry.addWatch(id: id, callback)
            shared.recordOpened(pidfd)
            let userData = OperationTag.processPoll.userData(id)
            inFlight[userData] = .processPoll(pidfd: pidfd)
            try ring.preparePoll(descriptor: pidfd, userData: userData)
        case .cancelWatch(let id):
            guard registry.finishWatch(id, .cancelled) else { return }
            try cancelOperation(OperationTag.processPoll.userData(id))  // the pidfd closes with its completion
        case .processExited:
            break  // only the futex-thread backend's poller sends these
        case .job(let job):
            duties.enqueueLocal(job)
        case .addPoller(let id, let poller):
            duties.add(id: id, poller)
        case .removePoller(let id):
            if let wait = duties.remove(id: id) { try handle(.cancelWait(id: wait)) }
        case .shutdown:
            stopping = true
        }
    }

    func cancelOperation(_ target: UInt64) throws(SystemError) {
        guard inFlight[target] != nil else { return }
        try reserve()
        try ring.prepareCancel(target: target, userData: OperationTag.cancel.userData(0))
    }

    func nextSequence() -> UInt64 {
        sequence += 1
        return sequence
    }

    // MARK: Arming

    func armNudgeRead() throws(SystemError) {
        let userData = OperationTag.nudge.userData(0)
        try reserve()
        try ring.prepareRead(descriptor: nudgeDescriptor, into: nudgeBuffer, length: 8, userData: userData)
        inFlight[userData] = .nudgeRead
    }

    /// Adds the FUTEX_WAKEs queued since the last submission; they go with the next io_uring_enter.
    /// Successful wakes post no completion (CQE_SKIP_SUCCESS).
    func flushWakes() throws(SystemError) {
        guard !pendingWakes.isEmpty else { return }
        for word in pendingWakes {
            try reserve()
            try ring.prepareFutexWake(
                UnsafeMutableRawPointer(bitPattern: word)!, userData: OperationTag.futexWake.userData(0), flags: .skipSuccess)
        }
        shared.counters.bump(.wakeSubmissions, by: UInt64(pendingWakes.count))
        submissionCarriesWakes = true
        pendingWakes.removeAll(keepingCapacity: true)
        pendingWakeSet.removeAll(keepingCapacity: true)
    }

    /// Keeps one TIMEOUT armed for the earliest timer; an earlier timer replaces it.
    func armTimeout() throws(SystemError) {
        guard let next = registry.nextDeadline() else { return }
        if let armed = armedTimeout {
            if armed.deadline <= next { return }
            try cancelOperation(armed.userData)
        }
        try reserve()
        let storage = UnsafeMutablePointer<__kernel_timespec>.allocate(capacity: 1)
        let userData = OperationTag.timeout.userData(nextSequence())
        inFlight[userData] = .timeout(storage)
        armedTimeout = (userData, next)
        try ring.prepareTimeout(.absolute(monotonicNanoseconds: next), storage: storage, userData: userData)
    }

    /// Eventfd backend: closes doorbells `Reactor.releaseDoorbells` took out of the registry. One
    /// with a READ armed on it is rung, so the READ completes (its waiters see `.changed` and
    /// re-check), and closed then; the others are closed now.
    func releaseDoorbells(_ retired: [ReactorRequest.RetiredDoorbell]) {
        for (word, descriptor) in retired.map({ ($0.word, $0.descriptor) }) {
            if let entry = doorbellWords[word], entry.descriptor == descriptor, entry.readArmed {
                retiringDoorbells.insert(descriptor)
                EventDescriptor.signal(descriptor)
            } else {
                close(descriptor)
            }
            if doorbellWords[word]?.descriptor == descriptor && doorbellWords[word]?.readArmed != true {
                doorbellWords[word] = nil
            }
        }
    }

    /// Eventfd backend: registers the wait under its word's doorbell, arms a READ on the doorbell
    /// if none is armed, and only then checks the word. A waker that changed the word before the
    /// doorbell existed found no doorbell to ring, but its change is what this check sees; a waker
    /// that changed it later rings the doorbell, and the eventfd counter keeps that until read.
    func armDoorbellWait(id: UInt64, _ wait: ReactorRegistry.Wait) throws(SystemError) {
        let found: Int32?
        do {
            found = try shared.doorbells?.descriptor(for: wait.word)
        } catch {
            registry.finishWait(id, .failed(error))  // e.g. EMFILE: this wait fails, the reactor goes on
            return
        }
        guard let descriptor = found else {
            registry.finishWait(id, .shutdown)
            return
        }
        if doorbellWords[wait.word] == nil { shared.recordOpened(descriptor) }
        var entry = doorbellWords[wait.word] ?? DoorbellWord(descriptor: descriptor)
        if entry.descriptor != descriptor {
            // The doorbell was replaced (adopted from the peer): a READ still armed on the old one
            // may never complete, so arm one on the new doorbell.
            entry.descriptor = descriptor
            entry.readArmed = false
        }
        entry.waiters.append(id)
        if !entry.readArmed {
            try reserve()
            let buffer = UnsafeMutableRawPointer.allocate(byteCount: 8, alignment: 8)
            let userData = OperationTag.doorbellRead.userData(nextSequence())
            inFlight[userData] = .doorbellRead(word: wait.word, descriptor: entry.descriptor, buffer: buffer)
            entry.readArmed = true
            doorbellWords[wait.word] = entry
            try ring.prepareRead(descriptor: entry.descriptor, into: buffer, length: 8, userData: userData)
        } else {
            doorbellWords[wait.word] = entry
        }
        if FutexWord.load(wait.address) != wait.expected {
            doorbellWords[wait.word]?.waiters.removeAll { $0 == id }
            registry.finishWait(id, .changed)
        }
    }
}
