// ReactorWaitTests — the conformance suite for waiting and waking, run against every backend
// (a backend unavailable here is skipped with its reason).
#if canImport(Glibc)
    import Glibc
#endif
import RingLinux
import RingTestSupport
import Testing

@Suite struct ReactorWaitTests {
    static let backends = ReactorBackendKind.allCases

    @Test(arguments: backends)
    func aChangeAndWakeFromAnotherThreadCompletesTheWait(kind: ReactorBackendKind) throws {
        try withWatchdog(seconds: 30) {
            let words = SharedWords()
            let reactor = try ReactorFixture.start(kind)
            defer {
                reactor.shutdown()
                withExtendedLifetime(words) {}  // queued wakes may still name its words
            }
            let outcome = Outcome<WaitResult>()
            reactor.waitForChange(of: words.word(0), from: 0, outcome.callback)
            ReactorFixture.barrier(reactor)  // the wait is armed (or already found the change)
            Thread.start {
                words.store(0, 1)
                reactor.wake(words.word(0))
            }
            #expect(outcome.wait() == .changed)
            #expect(outcome.calls == 1)
            #expect(reactor.counters.waitsArmed >= 1)
        }
    }

    /// Waiter and waker use two different mappings of the memfd page (and two reactors), as two
    /// processes would: this only works with shared (not FUTEX2_PRIVATE) futexes.
    @Test(arguments: backends)
    func aWakeThroughAnotherMappingAndReactorReachesTheWaiter(kind: ReactorBackendKind) throws {
        try withWatchdog(seconds: 30) {
            let words = SharedWords()
            let peerWords = words.secondMapping()
            let waiter = try ReactorFixture.start(kind)
            let peer = try ReactorFixture.start(kind)
            defer {
                waiter.shutdown()
                peer.shutdown()
                withExtendedLifetime((words, peerWords)) {}  // a batched wake may still be queued
            }
            if kind == .ioUringEventfd {
                // The doorbell exchange two processes would do over a Unix socket.
                let doorbell = try #require(try waiter.unsafeDoorbellDescriptor(for: words.word(3)))
                try peer.adoptDoorbell(descriptor: dup(doorbell), for: peerWords.word(3))
            }
            for round in UInt32(1)...50 {
                let outcome = Outcome<WaitResult>()
                waiter.waitForChange(of: words.word(3), from: round - 1, outcome.callback)
                peerWords.store(3, round)
                if round % 2 == 0 { peer.wake(peerWords.word(3)) } else { peer.wakeNow(peerWords.word(3)) }
                #expect(outcome.wait() == .changed)
            }
        }
    }

    @Test(arguments: backends)
    func aWrongExpectedValueCompletesImmediately(kind: ReactorBackendKind) throws {
        try withWatchdog(seconds: 30) {
            let words = SharedWords()
            let reactor = try ReactorFixture.start(kind)
            defer {
                reactor.shutdown()
                withExtendedLifetime(words) {}  // queued wakes may still name its words
            }
            words.store(1, 7)
            let outcome = Outcome<WaitResult>()
            reactor.waitForChange(of: words.word(1), from: 6, outcome.callback)
            #expect(outcome.wait() == .changed)  // nobody wakes: only the value check can end it
        }
    }

    @Test(arguments: backends)
    func cancellingAPendingWaitReportsCancelledOnce(kind: ReactorBackendKind) throws {
        try withWatchdog(seconds: 30) {
            let words = SharedWords()
            let reactor = try ReactorFixture.start(kind)
            defer {
                reactor.shutdown()
                withExtendedLifetime(words) {}  // queued wakes may still name its words
            }
            let outcome = Outcome<WaitResult>()
            let token = reactor.waitForChange(of: words.word(0), from: 0, outcome.callback)
            ReactorFixture.barrier(reactor)
            reactor.cancel(token)
            #expect(outcome.wait() == .cancelled)
            reactor.cancel(token)  // a second cancel, and a later wake, change nothing
            words.store(0, 1)
            reactor.wake(words.word(0))
            ReactorFixture.barrier(reactor)
            #expect(outcome.calls == 1)
            // The word still works for a new wait.
            let again = Outcome<WaitResult>()
            reactor.waitForChange(of: words.word(0), from: 1, again.callback)
            words.store(0, 2)
            reactor.wake(words.word(0))
            #expect(again.wait() == .changed)
        }
    }

    @Test(arguments: backends)
    func manySleepersOnOneWordAllWake(kind: ReactorBackendKind) throws {
        try withWatchdog(seconds: 30) {
            let words = SharedWords()
            let reactor = try ReactorFixture.start(kind)
            defer {
                reactor.shutdown()
                withExtendedLifetime(words) {}  // queued wakes may still name its words
            }
            let outcomes = (0..<20).map { _ in Outcome<WaitResult>() }
            for outcome in outcomes { reactor.waitForChange(of: words.word(5), from: 0, outcome.callback) }
            ReactorFixture.barrier(reactor)
            words.store(5, 1)
            reactor.wake(words.word(5))
            for outcome in outcomes { #expect(outcome.wait() == .changed) }
        }
    }

    /// Far more requests in one batch than the submission queue (8 entries here) and the
    /// completion queue (4096) hold: the reactor submits mid-batch and drains completions to make
    /// room, and every callback still runs exactly once.
    @Test(arguments: backends)
    func thousandsOfWaitsInOneBurstAllCompleteOnce(kind: ReactorBackendKind) throws {
        try withWatchdog(seconds: 60) {
            let words = SharedWords()
            let reactor = try ReactorFixture.start(kind, options: ReactorOptions(ringEntries: 8))
            defer {
                reactor.shutdown()
                withExtendedLifetime(words) {}
            }
            // 5000 waits that complete at once (the value already differs), 1000 that sleep.
            let immediate = (0..<5000).map { _ in Outcome<WaitResult>() }
            let sleeping = (0..<1000).map { _ in Outcome<WaitResult>() }
            for (index, outcome) in immediate.enumerated() {
                reactor.waitForChange(of: words.word(index % 500), from: 1, outcome.callback)
            }
            for (index, outcome) in sleeping.enumerated() {
                reactor.waitForChange(of: words.word(500 + index % 500), from: 0, outcome.callback)
            }
            for outcome in immediate { #expect(outcome.wait() == .changed) }
            ReactorFixture.barrier(reactor)
            for index in 500..<1000 {
                words.store(index, 1)
                reactor.wake(words.word(index))
            }
            for outcome in sleeping { #expect(outcome.wait() == .changed) }
            ReactorFixture.barrier(reactor)
            #expect((immediate + sleeping).allSatisfy { $0.calls == 1 })
        }
    }

    /// 10^5 ping-pong hand-offs between two threads through one reactor: the waker changes the
    /// value, then wakes; the waiter re-checks the value after every wake. A lost wake-up hangs,
    /// and the watchdog turns the hang into a failure.
    @Test(.serialized, arguments: backends)  // one backend at a time: 3 × 3 busy threads would starve 2 vCPUs
    func oneHundredThousandHandOffsLoseNoWakeUp(kind: ReactorBackendKind) throws {
        let rounds: UInt32 = 100_000
        try withWatchdog(seconds: 300) {
            let words = SharedWords()
            let reactor = try ReactorFixture.start(kind)
            defer {
                reactor.shutdown()
                withExtendedLifetime(words) {}  // queued wakes may still name its words
            }
            let ping = 0
            let pong = 16  // another cache line
            let finished = Outcome<Bool>()
            Thread.start {
                for round in 1...rounds {
                    ReactorFixture.waitUntil(reactor, words, ping, equals: round)
                    words.store(pong, round)
                    reactor.wake(words.word(pong))
                }
                finished.callback(true)
            }
            for round in 1...rounds {
                words.store(ping, round)
                reactor.wake(words.word(ping))
                ReactorFixture.waitUntil(reactor, words, pong, equals: round)
            }
            #expect(finished.wait())
            let counters = reactor.counters
            print("\(kind): \(rounds) hand-offs, \(counters)")
            #expect(counters.wakesRequested == 2 * UInt64(rounds))
        }
    }

    @Test(arguments: backends)
    func shutdownEndsEverythingPendingAndLaterRequests(kind: ReactorBackendKind) throws {
        try withWatchdog(seconds: 30) {
            let reactor = try ReactorFixture.start(kind)
            let words = SharedWords()
            let waits = (0..<3).map { _ in Outcome<WaitResult>() }
            for (index, outcome) in waits.enumerated() { reactor.waitForChange(of: words.word(index), from: 0, outcome.callback) }
            let timer = Outcome<TimerResult>()
            reactor.schedule(at: Reactor.now() + 3_600_000_000_000, timer.callback)
            let child = try ChildProcess(executable: "/bin/sleep", arguments: ["1000"])
            let watch = Outcome<ProcessWatchResult>()
            try reactor.watchProcess(pid: child.pid, watch.callback)
            ReactorFixture.barrier(reactor)

            reactor.shutdown()
            for outcome in waits {
                #expect(outcome.value == .shutdown)
                #expect(outcome.calls == 1)
            }
            #expect(timer.value == .shutdown)
            #expect(watch.value == .shutdown)

            // After shutdown: answered at once on this thread, and shutdown is idempotent.
            let late = Outcome<WaitResult>()
            reactor.waitForChange(of: words.word(0), from: 0, late.callback)
            #expect(late.value == .shutdown)
            #expect(throws: Never.self) { reactor.shutdown() }
            child.kill(SIGKILL)
            #expect(try child.wait() == .signaled(SIGKILL))
        }
    }

    @Test(arguments: backends)
    func shutdownFromACallbackEndsTheOtherPendingWaits(kind: ReactorBackendKind) throws {
        try withWatchdog(seconds: 30) {
            let reactor = try ReactorFixture.start(kind)
            let words = SharedWords()
            let pending = Outcome<WaitResult>()
            reactor.waitForChange(of: words.word(0), from: 0, pending.callback)
            let onThread = Outcome<Bool>()
            reactor.schedule(at: 0) { _ in
                onThread.callback(reactor.isReactorThread)
                reactor.shutdown()  // starts the shutdown; cannot join its own thread
            }
            #expect(onThread.wait())
            #expect(pending.wait() == .shutdown)
        }
    }
}
