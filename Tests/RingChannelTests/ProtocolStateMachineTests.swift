// ProtocolStateMachineTests — the channel's state machines without I/O: the host's invocation table
// (every order of response, cancel, deadline, transmit failure and connection end gives each caller
// exactly one outcome), the worker lifecycle (one end, after the reader drained), and the worker's
// scheduler (concurrency limit, queue, cancels, drain).
@testable import RingChannel
import RingCore
import RingLinux
import Testing

@Suite struct InvocationTableTests {
    typealias Table = InvocationTable<String, String>
    let id = ContextID(high: 1, low: 2)

    @Test func aResponseResumesTheWaiterAndRemovesTheEntry() {
        var table = Table()
        let n = table.register(invocationID: id)!
        guard case .suspend = table.attach(n, "caller") else { Issue.record("attach"); return }
        do { let ok = !table.markSent(n); #expect(ok) }
        guard case .resume(let waiter, let outcome) = table.response(n, invocationID: id, "answer") else { Issue.record("response"); return }
        #expect(waiter == "caller" && outcome == "answer")
        #expect(!table.contains(n) && table.outstanding == 0)
    }

    @Test func aResponseBeforeTheCallerAttachesIsKeptForIt() {
        var table = Table()
        let n = table.register(invocationID: id)!
        guard case .stored = table.response(n, invocationID: id, "early") else { Issue.record("response"); return }
        #expect(table.outstanding == 0)
        guard case .resume(let outcome) = table.attach(n, "caller") else { Issue.record("attach"); return }
        #expect(outcome == "early" && !table.contains(n))
    }

    /// The reader's look at the waiter (answers read in place): only an attached waiter that still
    /// waits is seen; before attach, after the outcome, and for other numbers there is none.
    @Test func theAttachedWaiterIsSeenOnlyWhileItWaits() {
        var table = Table()
        let n = table.register(invocationID: id)!
        #expect(table.attachedWaiter(n) == nil)
        _ = table.attach(n, "caller")
        #expect(table.attachedWaiter(n) == "caller")
        #expect(table.attachedWaiter(n + 1) == nil && table.attachedWaiter(n ^ (1 << 32)) == nil)
        _ = table.markSent(n)
        _ = table.abandon(n, "cancelled")
        #expect(table.attachedWaiter(n) == nil)  // the worker still owes an answer: the entry lives
        let m = table.register(invocationID: id)!
        _ = table.attach(m, "second")
        guard case .resume("second", "answer") = table.response(m, invocationID: id, "answer") else { Issue.record("response"); return }
        #expect(table.attachedWaiter(m) == nil)
    }

    @Test func cancelAfterSendResumesAtOnceAndTheLateAnswerIsDropped() {
        var table = Table()
        let n = table.register(invocationID: id)!
        _ = table.attach(n, "caller")
        _ = table.markSent(n)
        let action = table.abandon(n, "cancelled")
        #expect(action.resume?.0 == "caller" && action.resume?.1 == "cancelled" && action.sendCancel)
        #expect(table.contains(n) && table.outstanding == 1)  // the worker still owes its answer
        do { let ok = table.abandon(n, "again").resume == nil; #expect(ok) }
        guard case .late = table.response(n, invocationID: id, "answer") else { Issue.record("late"); return }
        #expect(!table.contains(n) && table.lateResponses == 1)
    }

    @Test func cancelBeforeTheRequestIsWrittenOwesTheCancelUntilItIs() {
        var table = Table()
        let n = table.register(invocationID: id)!
        let action = table.abandon(n, "cancelled")
        #expect(action.resume == nil && !action.sendCancel)
        guard case .resume(let outcome) = table.attach(n, "caller") else { Issue.record("attach"); return }
        #expect(outcome == "cancelled")
        do { let ok = table.markSent(n); #expect(ok) }  // now the cancel goes out
        do { let ok = !table.markSent(n); #expect(ok) }
    }

    @Test func closeGivesEveryCallerWithoutAnOutcomeTheErrorOnce() {
        var table = Table()
        let a = table.register(invocationID: id)!
        let b = table.register(invocationID: id)!
        let c = table.register(invocationID: id)!
        _ = table.attach(a, "a")
        _ = table.attach(c, "c")
        _ = table.markSent(c)
        _ = table.abandon(c, "cancelled")
        let resumed = table.close("exited")
        #expect(resumed.map(\.0) == ["a"] && resumed.map(\.1) == ["exited"])
        guard case .resume(let outcome) = table.attach(b, "b") else { Issue.record("b"); return }
        #expect(outcome == "exited")
        #expect(table.isEmpty && table.outstanding == 0)
        do { let ok = table.register(invocationID: id) == nil && table.closedWith == "exited"; #expect(ok) }
        do { let ok = table.close("again").isEmpty; #expect(ok) }
    }

    @Test func violationsAreNamed() {
        var table = Table()
        let n = table.register(invocationID: id)!
        _ = table.attach(n, "caller")
        guard case .violation(let unknown) = table.response(99, invocationID: id, "x") else { Issue.record("unknown"); return }
        #expect(unknown.contains("unknown invocation 99"))
        guard case .violation(let other) = table.response(n, invocationID: ContextID(high: 9, low: 9), "x") else { Issue.record("id"); return }
        #expect(other.contains("carries the context of invocation"))
        table = Table()
        let m = table.register(invocationID: id)!
        _ = table.response(m, invocationID: id, "first")
        guard case .violation(let twice) = table.response(m, invocationID: id, "second") else { Issue.record("twice"); return }
        #expect(twice.contains("second response"))
    }

    /// Numbers name reused slots: 1, 2, 3… first; a freed slot comes back under a new generation, and
    /// the old number (a late or replayed response) or a made-up one finds no entry.
    @Test func numbersNameSlotsAndStaleNumbersFindNothing() {
        var table = Table()
        let first = (0..<3).map { _ in table.register(invocationID: id)! }
        #expect(first == [1, 2, 3])
        _ = table.attach(2, "caller")
        guard case .resume = table.response(2, invocationID: id, "answer") else { Issue.record("response"); return }
        #expect(table.count == 2 && !table.contains(2))
        let reused = table.register(invocationID: ContextID(high: 7, low: 7))!
        #expect(reused == 1 << 32 | 2)
        guard case .violation(let stale) = table.response(2, invocationID: id, "late") else { Issue.record("stale"); return }
        #expect(stale == "response to unknown invocation 2")
        for hostile: UInt64 in [0, 4, 1 << 32 | 1, 2 << 32 | 2, UInt64.max, 0xFFFF_FFFF] {
            guard case .violation(let detail) = table.response(hostile, invocationID: id, "x") else { Issue.record("\(hostile)"); return }
            #expect(detail == "response to unknown invocation \(hostile)")
        }
        _ = table.attach(reused, "caller")
        guard case .resume(let waiter, let outcome) = table.response(reused, invocationID: ContextID(high: 7, low: 7), "mine") else {
            Issue.record("reused"); return
        }
        #expect(waiter == "caller" && outcome == "mine" && table.count == 2 && table.outstanding == 2)
        let resumed = table.close("exited")
        #expect(resumed.isEmpty && table.count == 2 && table.outstanding == 0)
        for number: UInt64 in [1, 3] {
            guard case .resume(let outcome) = table.attach(number, "late caller") else { Issue.record("\(number)"); return }
            #expect(outcome == "exited")
        }
        #expect(table.isEmpty)
    }

    /// Generations have 31 bits: a slot at the last generation comes back as generation 0, so no
    /// number ever reaches 2^63, where the host's control requests are numbered.
    @Test func numbersStayBelowTheControlIDs() {
        var table = Table(firstGeneration: Table.generationLimit - 1)
        let last = table.register(invocationID: id)!
        #expect(last == UInt64(Table.generationLimit - 1) << 32 | 1 && last < ChannelProtocol.firstControlID)
        _ = table.attach(last, "caller")
        _ = table.response(last, invocationID: id, "answer")
        let wrapped = table.register(invocationID: id)!
        #expect(wrapped == 1)
        guard case .violation = table.response(ChannelProtocol.firstControlID, invocationID: id, "x") else { Issue.record("control id"); return }
        #expect(table.contains(wrapped) && !table.contains(last))
    }

    @Test func transmitFailureEndsBothHalves() {
        var table = Table()
        let n = table.register(invocationID: id)!
        _ = table.attach(n, "caller")
        let resumed = table.transmitFailed(n, "ring gone")
        #expect(resumed?.0 == "caller" && resumed?.1 == "ring gone")
        #expect(!table.contains(n) && table.outstanding == 0)
    }

    /// Every interleaving of the five events on one invocation yields exactly one outcome.
    @Test func everyOrderOfEventsGivesExactlyOneOutcome() {
        enum Event: CaseIterable { case attach, sent, response, abandon, close }
        func permutations(_ items: [Event]) -> [[Event]] {
            items.count <= 1 ? [items] : items.indices.flatMap { i in
                permutations(Array(items[..<i] + items[(i + 1)...])).map { [items[i]] + $0 }
            }
        }
        for order in permutations(Event.allCases) {
            var table = Table()
            let n = table.register(invocationID: id)!
            var outcomes: [String] = []
            var attached = false
            for event in order {
                switch event {
                case .attach:
                    attached = true
                    if case .resume(let outcome) = table.attach(n, "caller") { outcomes.append(outcome) }
                case .sent: _ = table.markSent(n)
                case .response:
                    if case .resume(_, let outcome) = table.response(n, invocationID: id, "answer") { outcomes.append(outcome) }
                case .abandon:
                    if let (_, outcome) = table.abandon(n, "cancelled").resume { outcomes.append(outcome) }
                case .close:
                    outcomes += table.close("exited").map(\.1)
                }
            }
            #expect(attached && outcomes.count == 1, "\(order): \(outcomes)")
            #expect(table.isEmpty, "\(order) leaves an entry")
        }
    }
}

@Suite struct WorkerLifecycleTests {
    @Test func anExitWaitsForTheReaderToDrain() {
        var lifecycle = WorkerLifecycle()
        do { let ok = lifecycle.handshakeSucceeded() && lifecycle.initialized() && lifecycle.acceptsInvocations; #expect(ok) }
        let exit = lifecycle.processExited(.signaled(9))
        #expect(exit == .stopReader)
        let drained = lifecycle.readerFinished(.stopped)
        #expect(drained == .end(.exited(.signaled(9))))
        #expect(lifecycle.phase == .ended && !lifecycle.acceptsInvocations)
        do { let ok = lifecycle.violation("late") == .none; #expect(ok) }
    }

    @Test func aClosedRingThenAnExitEndsOnce() {
        var lifecycle = WorkerLifecycle()
        _ = lifecycle.handshakeSucceeded()
        _ = lifecycle.initialized()
        do { let ok = lifecycle.beginDrain() && !lifecycle.beginDrain(); #expect(ok) }
        do { let ok = lifecycle.readerFinished(.closedByPeer) == .none; #expect(ok) }
        do { let ok = lifecycle.processExited(.exited(0)) == .end(.exited(.exited(0))); #expect(ok) }
        do { let ok = lifecycle.processExited(.exited(0)) == .none; #expect(ok) }
    }

    @Test func aViolationEndsAtOnceAndKills() {
        var lifecycle = WorkerLifecycle()
        _ = lifecycle.handshakeSucceeded()
        do { let ok = lifecycle.readerFinished(.violation("garbage")) == .endAndKill(.violation("garbage")); #expect(ok) }
        do { let ok = lifecycle.processExited(.signaled(9)) == .none; #expect(ok) }
        #expect(lifecycle.end == .violation("garbage"))
    }

    @Test func aStartFailureEndsOnce() {
        var lifecycle = WorkerLifecycle()
        do { let ok = lifecycle.startFailed("timeout") == .endAndKill(.startFailed("timeout")); #expect(ok) }
        do { let ok = lifecycle.startFailed("again") == .none; #expect(ok) }
        do { let ok = !lifecycle.handshakeSucceeded(); #expect(ok) }
    }
}

@Suite struct WorkerSchedulerTests {
    @Test func runsUpToTheLimitThenQueuesInOrder() {
        var scheduler = WorkerScheduler<String>(maxConcurrency: 2)
        guard case .start("a") = scheduler.receive(1, "a"), case .start("b") = scheduler.receive(2, "b"),
            case .queued = scheduler.receive(3, "c"), case .queued = scheduler.receive(4, "d")
        else { Issue.record("admission"); return }
        guard case .duplicate = scheduler.receive(3, "again") else { Issue.record("duplicate"); return }
        #expect(scheduler.status() == WorkerStatus(running: 2, queued: 2, completed: 0))
        let next = scheduler.finished(1)
        #expect(next! == (3, "c"))
        guard case .removedFromQueue("d") = scheduler.cancel(4), case .cancelRunning = scheduler.cancel(2), case .unknown = scheduler.cancel(9)
        else { Issue.record("cancel"); return }
        let afterTwo = scheduler.finished(2)
        let afterThree = scheduler.finished(3)
        #expect(afterTwo == nil && afterThree == nil)
        #expect(scheduler.isIdle && scheduler.completed == 4)
    }

    /// An invocation may run outside the books only with a free slot, an empty queue, no drain and
    /// a number not already running; one that needs a task enters the books and holds its slot.
    @Test func runningOutsideTheBooksNeedsAFreeSlotAndAnEmptyQueue() {
        var scheduler = WorkerScheduler<String>(maxConcurrency: 2)
        #expect(scheduler.mayRunOutside(1))
        scheduler.enterRunning(1)  // it needed a task
        #expect(!scheduler.mayRunOutside(1), "a duplicate of a running invocation")
        #expect(scheduler.mayRunOutside(2))
        guard case .start = scheduler.receive(2, "b") else { Issue.record("b"); return }
        #expect(!scheduler.mayRunOutside(3), "no free slot")
        guard case .queued = scheduler.receive(3, "c") else { Issue.record("c"); return }
        let next = scheduler.finished(1)
        #expect(next! == (3, "c"))
        #expect(!scheduler.mayRunOutside(4), "still no free slot")
        _ = scheduler.finished(2)
        #expect(scheduler.mayRunOutside(4))
        guard case .start = scheduler.receive(4, "d") else { Issue.record("d"); return }
        _ = scheduler.finished(3)
        #expect(scheduler.status(completedOutside: 5) == WorkerStatus(running: 1, queued: 0, completed: 3 + 5))
        scheduler.beginDrain()
        _ = scheduler.finished(4)
        #expect(!scheduler.mayRunOutside(5), "draining")
    }

    @Test func drainRefusesNewWorkAndCancelAllEmptiesTheQueue() {
        var scheduler = WorkerScheduler<Int>(maxConcurrency: 1)
        _ = scheduler.receive(1, 1)
        _ = scheduler.receive(2, 2)
        scheduler.beginDrain()
        guard case .refused(3) = scheduler.receive(3, 3) else { Issue.record("refused"); return }
        let (running, queued) = scheduler.cancelAll()
        #expect(running == [1] && queued.map(\.0) == [2])
        let after = scheduler.finished(1)
        #expect(after == nil && scheduler.isIdle)
    }
}

/// The liveness watch's decision: one ping when work is pending and nothing arrived since the last
/// look, never two at once; the lifecycle's stall ends the connection once and kills the worker.
@Suite struct LivenessWatchTests {
    @Test func aPingOnlyWhenSilentWithWorkPending() {
        var watch = LivenessWatch()
        let looks = [
            watch.look(frames: 0, pending: false),  // idle: never
            watch.look(frames: 0, pending: true),  // silent since the last look, work pending
            watch.look(frames: 0, pending: true),  // a ping is already out
        ]
        #expect(looks == [false, true, false])
        watch.pingEnded()
        let after = [watch.look(frames: 3, pending: true), watch.look(frames: 3, pending: true)]  // frames arrived, then silence
        #expect(after == [false, true])
    }

    @Test func aStallEndsTheConnectionOnceAndKills() {
        var lifecycle = WorkerLifecycle()
        let started = lifecycle.handshakeSucceeded() && lifecycle.initialized()
        let actions = [lifecycle.stalled(.seconds(10)), lifecycle.stalled(.seconds(10)), lifecycle.processExited(.signaled(9))]
        #expect(started)
        #expect(actions == [.endAndKill(.stalled(.seconds(10))), .none, .none])
        var exited = WorkerLifecycle()
        let gone = [exited.processExited(.exited(0)), exited.stalled(.seconds(1))]
        #expect(gone == [.stopReader, .end(.stalled(.seconds(1)))])  // already gone: nothing to kill
    }
}
