// ReactorPollerTests — the reactor's duty cycle on every backend: a poller is polled on the reactor
// thread, sleeps through the announce/re-check protocol and loses no wake-up, and after it finishes,
// is removed or the reactor stops it gets exactly the calls its contract promises and no others.
#if canImport(Glibc)
    import Glibc
#endif
import Dispatch
import RingCore
import RingLinux
import RingTestSupport
import Synchronization
import Testing

/// A poller over two shared words: word `published` is a counter a producer thread raises; the
/// poller consumes each new value and announces its sleeps on word `waiter` (the RingWaiter
/// protocol, as a ring's consumer does). Counts every call it gets.
final class CountingPoller: ReactorPoller, @unchecked Sendable {
    // @unchecked: `consumed` is touched on the reactor thread only; the rest is synchronised.
    let words: SharedWords
    let published: Int
    let waiter: Int
    let finishAt: UInt32?
    private var consumed: UInt32 = 0
    let consumedValue = Atomic<UInt32>(0)
    let polls = Atomic<Int>(0)
    let callsAfterEnd = Atomic<Int>(0)
    let stoppedCalls = Atomic<Int>(0)
    let ended = Atomic<Bool>(false)
    let progress = DispatchSemaphore(value: 0)

    init(words: SharedWords, published: Int, waiter: Int, finishAt: UInt32? = nil) {
        self.words = words
        self.published = published
        self.waiter = waiter
        self.finishAt = finishAt
    }

    private func noteCall() {
        if ended.load(ordering: .sequentiallyConsistent) { callsAfterEnd.add(1, ordering: .relaxed) }
    }

    func poll() -> PollOutcome {
        noteCall()
        polls.add(1, ordering: .relaxed)
        let value = words.load(published)
        guard value != consumed else { return .idle }
        consumed = value
        consumedValue.store(value, ordering: .sequentiallyConsistent)
        progress.signal()
        if let finishAt, value >= finishAt {
            ended.store(true, ordering: .sequentiallyConsistent)
            return .finished
        }
        return .progress
    }

    func prepareToSleep() -> PollerSleep {
        noteCall()
        words.storeSequential(waiter, RingWaiter.sleeping)
        if words.loadSequential(published) != consumed {
            words.storeSequential(waiter, RingWaiter.awake)
            return .busy
        }
        return .on(word: UInt(bitPattern: words.word(waiter)))
    }

    func finishSleep() {
        noteCall()
        words.storeSequential(waiter, RingWaiter.awake)
    }

    func reactorStopped() {
        noteCall()
        stoppedCalls.add(1, ordering: .relaxed)
        ended.store(true, ordering: .sequentiallyConsistent)
    }

    /// The producer's half: publish, then claim and wake a sleeping poller.
    static func publish(_ value: UInt32, words: SharedWords, published: Int, waiter: Int, reactor: Reactor) {
        words.storeSequential(published, value)
        if words.compareExchange(waiter, expected: RingWaiter.sleeping, desired: RingWaiter.awake) {
            reactor.wakeNow(words.word(waiter))
        }
    }
}

@Suite struct ReactorPollerTests {
    static let backends = ReactorBackendKind.allCases

    /// 20 000 hand-offs, each waiting for the poller to take the value before the next: with the
    /// `alwaysSleep` idle profile the reactor sleeps whenever a turn finds nothing, so a lost wake-up
    /// hangs the test (the watchdog turns that into a failure). Every value is seen, in order.
    @Test(arguments: backends)
    func handOffsThroughSleepLoseNoWakeUp(kind: ReactorBackendKind) throws {
        try withWatchdog(seconds: 120) {
            let words = SharedWords()
            let reactor = try ReactorFixture.start(kind, options: ReactorOptions(idleProfile: .alwaysSleep))
            defer {
                reactor.shutdown()
                withExtendedLifetime(words) {}
            }
            let poller = CountingPoller(words: words, published: 0, waiter: 1)
            let token = reactor.addPoller(poller)
            for value in UInt32(1)...20_000 {
                CountingPoller.publish(value, words: words, published: 0, waiter: 1, reactor: reactor)
                poller.progress.wait()
                #expect(poller.consumedValue.load(ordering: .sequentiallyConsistent) == value)
            }
            reactor.removePoller(token)
            ReactorFixture.barrier(reactor)
            #expect(poller.stoppedCalls.load(ordering: .relaxed) == 0)
        }
    }

    /// A poller that returns `.finished` is never called again, and does not hear of the shutdown.
    @Test(arguments: backends)
    func aFinishedPollerIsNeverCalledAgain(kind: ReactorBackendKind) throws {
        try withWatchdog(seconds: 60) {
            let words = SharedWords()
            let reactor = try ReactorFixture.start(kind, options: ReactorOptions(idleProfile: .alwaysSleep))
            let poller = CountingPoller(words: words, published: 0, waiter: 1, finishAt: 3)
            _ = reactor.addPoller(poller)
            for value in UInt32(1)...3 {
                CountingPoller.publish(value, words: words, published: 0, waiter: 1, reactor: reactor)
                poller.progress.wait()
            }
            let pollsAtFinish = poller.polls.load(ordering: .relaxed)
            // More values and more turns: the finished poller must not see them.
            CountingPoller.publish(4, words: words, published: 0, waiter: 1, reactor: reactor)
            ReactorFixture.barrier(reactor)
            reactor.shutdown()
            withExtendedLifetime(words) {}
            #expect(poller.consumedValue.load(ordering: .sequentiallyConsistent) == 3)
            #expect(poller.polls.load(ordering: .relaxed) == pollsAtFinish)
            #expect(poller.callsAfterEnd.load(ordering: .relaxed) == 0)
            #expect(poller.stoppedCalls.load(ordering: .relaxed) == 0)
        }
    }

    /// A removed poller gets no call after the turn that handled the removal (not even the
    /// shutdown's); a poller still registered at shutdown hears `reactorStopped` exactly once and
    /// nothing after it.
    @Test(arguments: backends)
    func removalAndShutdownEndThePollersCalls(kind: ReactorBackendKind) throws {
        try withWatchdog(seconds: 60) {
            let words = SharedWords()
            let reactor = try ReactorFixture.start(kind)
            let removed = CountingPoller(words: words, published: 0, waiter: 1)
            let kept = CountingPoller(words: words, published: 2, waiter: 3)
            let removedToken = reactor.addPoller(removed)
            _ = reactor.addPoller(kept)
            CountingPoller.publish(1, words: words, published: 0, waiter: 1, reactor: reactor)
            CountingPoller.publish(1, words: words, published: 2, waiter: 3, reactor: reactor)
            removed.progress.wait()
            kept.progress.wait()
            reactor.removePoller(removedToken)
            ReactorFixture.barrier(reactor)
            removed.ended.store(true, ordering: .sequentiallyConsistent)
            CountingPoller.publish(2, words: words, published: 0, waiter: 1, reactor: reactor)
            CountingPoller.publish(2, words: words, published: 2, waiter: 3, reactor: reactor)
            kept.progress.wait()
            reactor.shutdown()
            withExtendedLifetime(words) {}
            #expect(removed.consumedValue.load(ordering: .sequentiallyConsistent) == 1)
            #expect(removed.callsAfterEnd.load(ordering: .relaxed) == 0)
            #expect(removed.stoppedCalls.load(ordering: .relaxed) == 0)
            #expect(kept.consumedValue.load(ordering: .sequentiallyConsistent) == 2)
            #expect(kept.stoppedCalls.load(ordering: .relaxed) == 1)
            #expect(kept.callsAfterEnd.load(ordering: .relaxed) == 0)
        }
    }
}
