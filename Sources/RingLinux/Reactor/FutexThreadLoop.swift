// FutexThreadLoop — the backend for machines without io_uring: the reactor thread sleeps in
// futex_waitv(2) on its nudge word plus up to 127 waited words at once, with the earliest timer as
// the deadline. Process watches go to a PidfdPoller thread (poll(2) on pidfds), started on first use.
//
// futex_waitv reports one woken entry; a wake on another word in the same instant is seen only
// through that word's value. The waiter protocol always changes a word before waking it, so a
// wait whose word changed is found by the value check every iteration makes. Without futex_waitv
// (Linux < 5.16) the thread sleeps on its nudge word alone and re-checks the words every 1 ms.
#if canImport(Glibc)
    import Glibc
#endif
import CRingShim
import RingCore

final class FutexThreadLoop {
    private struct EntryKey: Hashable {
        let word: UInt
        let expected: UInt32
    }

    static let overflowRecheckNanoseconds: UInt64 = 1_000_000

    let shared: ReactorShared
    let duties: ReactorDuties
    let registry = ReactorRegistry()
    private var finishedWaits: [UInt64] = []
    let nudgeWord: UnsafeMutableRawPointer
    let waitvWorks: Bool
    private let entries = UnsafeMutablePointer<futex_waitv>.allocate(capacity: FutexWord.waitvLimit)
    private var poller: PidfdPoller?
    private var stopping = false
    private var failure: SystemError?

    init(shared: ReactorShared, duties: ReactorDuties) {
        self.shared = shared
        self.duties = duties
        guard case .futexWord(let address) = shared.queue.nudge.mechanism else {
            fatalError("the futex-thread backend is nudged through a futex word")
        }
        nudgeWord = UnsafeMutableRawPointer(bitPattern: address)!
        waitvWorks = if case .success = FutexWord.waitvAvailable() { true } else { false }
    }

    deinit { entries.deallocate() }

    var setupDescription: String {
        waitvWorks ? "futex_waitv on a dedicated thread" : "futex(2) on a dedicated thread, re-checking words every 1 ms"
    }

    // MARK: The loop

    func run() {
        while !stopping {
            if shared.queue.mayHaveRequests {
                for request in shared.queue.takeAll() { handle(request) }
            }
            if stopping { break }
            if registry.hasTimers { registry.fireDueTimers() }
            if !registry.waits.isEmpty { registry.finishChangedWaits() }
            let progress = duties.turn(finishedWaits: &finishedWaits)
            for id in finishedWaits { registry.finishWait(id, .cancelled) }
            finishedWaits.removeAll(keepingCapacity: true)
            if stopping { break }
            if progress || duties.hasJobs {
                duties.backoff.reset()
                continue
            }
            if duties.hasPollers && !duties.backoff.idle() { continue }
            defer { duties.backoff.reset() }
            guard duties.announceSleep(arm: armPollerWait) else { continue }
            // Loaded before parking: requests nudge (change the word) only while parked, so a nudge
            // after this load makes the sleep below return at once (pairs with ReactorNudge.ring).
            let nudgeSeen = FutexWord.load(nudgeWord)
            if shared.queue.park() {
                do {
                    try sleep(nudgeSeen: nudgeSeen)
                } catch {
                    failure = error
                    stopping = true
                }
                shared.queue.unpark()
            }
            duties.withdrawSleep()
        }
        shutDown()
    }

    /// Registers a wait on a poller's word; its completion marks the word unarmed.
    private func armPollerWait(_ entry: ReactorDuties.Entry, _ word: UInt, _ id: UInt64) {
        registry.addWait(
            id: id,
            ReactorRegistry.Wait(word: word, expected: RingWaiter.sleeping) { _ in
                if entry.armedWait == id { entry.armedWait = nil }
            })
    }

    private func handle(_ request: ReactorRequest) {
        switch request {
        case .wait(let id, let word, let expected, let completion):
            registry.addWait(id: id, ReactorRegistry.Wait(word: word, expected: expected, completion: completion))
            shared.counters.bump(.waitsArmed)
        case .cancelWait(let id):
            registry.finishWait(id, .cancelled)
        case .wake(let word):
            Reactor.wakeDirectly(word, shared: shared)
        case .timer(let id, let deadline, let callback):
            registry.addTimer(id: id, deadline: deadline, callback)
        case .cancelTimer(let id):
            registry.cancelTimer(id)
        case .releaseDoorbells(let retired):
            for doorbell in retired { close(doorbell.descriptor) }  // (never sent: no doorbells here)
        case .watch(let id, let pidfd, let callback):
            registry.addWatch(id: id, callback)
            shared.recordOpened(pidfd)
            do {
                try startedPoller().add(id: id, pidfd: pidfd)
            } catch {
                close(pidfd)
                registry.finishWatch(id, .failed(error))
            }
        case .cancelWatch(let id):
            if registry.finishWatch(id, .cancelled) { poller?.remove(id: id) }
        case .processExited(let id, let status):
            registry.finishWatch(id, .exited(status))
        case .job(let job):
            duties.enqueueLocal(job)
        case .addPoller(let id, let poller):
            duties.add(id: id, poller)
        case .removePoller(let id):
            if let wait = duties.remove(id: id) { registry.finishWait(wait, .cancelled) }
        case .shutdown:
            stopping = true
        }
    }

    private func startedPoller() throws(SystemError) -> PidfdPoller {
        if let poller { return poller }
        let shared = self.shared
        let started = try PidfdPoller { id, status in
            _ = shared.trySubmit(.processExited(id: id, status: status))
        }
        shared.recordOpened(started.wakeDescriptor)
        poller = started
        return started
    }

    // MARK: Sleeping

    /// One sleep: futex_waitv on the nudge word and the distinct (word, expected) pairs waited on,
    /// until the earliest timer.
    private func sleep(nudgeSeen: UInt32) throws(SystemError) {
        entries[0] = FutexWord.entry(nudgeWord, expected: nudgeSeen)
        var count = 1
        var members: [[UInt64]] = [[]]
        var slots: [EntryKey: Int] = [:]
        var overflow = false
        for (id, wait) in registry.waits {
            let key = EntryKey(word: wait.word, expected: wait.expected)
            if let slot = slots[key] {
                members[slot].append(id)
            } else if waitvWorks && count < FutexWord.waitvLimit {
                entries[count] = FutexWord.entry(wait.address, expected: wait.expected)
                slots[key] = count
                members.append([id])
                count += 1
            } else {
                overflow = true
            }
        }
        var deadline = registry.nextDeadline()
        if overflow { deadline = min(deadline ?? .max, ReactorClock.now() + Self.overflowRecheckNanoseconds) }
        shared.counters.bump(.sleeps)
        if waitvWorks {
            if case .woken(let slot) = try FutexWord.waitv(entries, count: count, deadline: deadline), slot > 0 {
                for id in members[slot] { registry.finishWait(id, .changed) }
            }
        } else {
            try sleepOnNudge(expected: nudgeSeen, deadline: deadline)
        }
    }

    /// Without futex_waitv: futex(2) on the nudge word alone, with a relative timeout.
    private func sleepOnNudge(expected: UInt32, deadline: UInt64?) throws(SystemError) {
        let word = nudgeWord.assumingMemoryBound(to: UInt32.self)
        do {
            if let deadline {
                let now = ReactorClock.now()
                let remaining = deadline > now ? deadline - now : 0
                var timeout = timespec(tv_sec: Int(remaining / 1_000_000_000), tv_nsec: Int(remaining % 1_000_000_000))
                _ = try Syscall.callAllowingWouldBlock("futex(FUTEX_WAIT)") { crs_futex_wait(word, expected, &timeout) }
            } else {
                _ = try Syscall.callAllowingWouldBlock("futex(FUTEX_WAIT)") { crs_futex_wait(word, expected, nil) }
            }
        } catch  where error.errno == ETIMEDOUT {
            // the deadline passed
        }
    }

    // MARK: Shutdown

    private func shutDown() {
        for request in shared.queue.close() {
            switch request {
            case .cancelWait, .cancelTimer, .cancelWatch, .processExited, .removePoller: handle(request)
            case .wake(let word): Reactor.wakeDirectly(word, shared: shared)
            default: request.reject()
            }
        }
        if let failure {
            registry.finishAll(wait: .failed(failure), watch: .failed(failure))
        } else {
            registry.finishAll(wait: .shutdown, watch: .shutdown)
        }
        duties.stop()
        poller?.stop()
        poller = nil
    }
}
