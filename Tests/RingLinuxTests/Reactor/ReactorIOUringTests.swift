// ReactorIOUringTests — the IOUring wrapper's submission helpers against the real kernel, one
// operation at a time, on the test's own thread (skipped where io_uring is unavailable).
#if canImport(Glibc)
    import Glibc
#endif
import CRingShim
@testable import RingLinux
import RingTestSupport
import Testing

@Suite struct ReactorIOUringTests {
    private func makeRing() throws -> IOUring {
        guard WaitBackend.probe.ioUring.isAvailable else {
            print("SKIP io_uring: \(WaitBackend.probe.ioUring.detail)")
            try Test.cancel("io_uring unavailable here: \(WaitBackend.probe.ioUring.detail)")
        }
        return try IOUring(IOUring.Options(entries: 16, completionEntries: 64))
    }

    private func requireFutexOps() throws {
        guard WaitBackend.probe.futexOpcodes.isAvailable else {
            print("SKIP io_uring futex ops: \(WaitBackend.probe.futexOpcodes.detail)")
            try Test.cancel("io_uring futex ops unavailable here: \(WaitBackend.probe.futexOpcodes.detail)")
        }
    }

    /// Submits what is prepared and collects `count` completions by user_data (a missing one
    /// trips the watchdog instead of hanging).
    private func complete(_ ring: borrowing IOUring, _ count: Int, _ name: String = #function) throws -> [UInt64: Int32] {
        let dog = Watchdog(seconds: 30, name)
        defer { dog.cancel() }
        var results: [UInt64: Int32] = [:]
        while results.count < count {
            try ring.submitAndWait(1)
            ring.drainCompletions { results[$0.userData] = $0.result }
        }
        return results
    }

    @Test func setupUsesSingleIssuerAndDeferredTaskRunWhereSupported() throws {
        let ring = try makeRing()
        print("io_uring set up with \(ring.setupDescription)")
        #expect(ring.descriptor >= 0)
    }

    @Test func futexWaitWithAWrongValueFailsWithEAGAIN() throws {
        let ring = try makeRing()
        try requireFutexOps()
        let words = SharedWords()
        words.store(0, 5)
        try ring.prepareFutexWait(words.word(0), expected: 4, userData: 7)
        #expect(try complete(ring, 1) == [7: -EAGAIN])
    }

    /// The wait is armed through one mapping and woken through another (as a peer process would):
    /// futex(2) FUTEX_WAKE reports it woke exactly that waiter, so the futex is shared, not private.
    @Test func futexWaitIsWokenThroughAnotherMapping() throws {
        let ring = try makeRing()
        try requireFutexOps()
        let words = SharedWords()
        let other = words.secondMapping()
        try ring.prepareFutexWait(words.word(2), expected: 0, userData: 1)
        try ring.submit()  // the wait is queued on the futex by the time submit returns
        other.store(2, 1)
        #expect(FutexWord.wakeAll(other.word(2)) == 1)
        #expect(try complete(ring, 1) == [1: 0])
    }

    @Test func futexWakeSubmissionWakesAFutexWait() throws {
        let ring = try makeRing()
        try requireFutexOps()
        let words = SharedWords()
        try ring.prepareFutexWait(words.word(1), expected: 0, userData: 1)
        try ring.submit()
        words.store(1, 1)
        let other = words.secondMapping()
        try ring.prepareFutexWake(other.word(1), userData: 2)
        let results = try complete(ring, 2)
        #expect(results == [1: 0, 2: 1])  // the WAKE reports one waiter woken
    }

    @Test func asyncCancelByUserDataEndsAFutexWait() throws {
        let ring = try makeRing()
        try requireFutexOps()
        let words = SharedWords()
        try ring.prepareFutexWait(words.word(0), expected: 0, userData: 10)
        try ring.submit()
        try ring.prepareCancel(target: 10, userData: 11)
        let results = try complete(ring, 2)
        #expect(results[10] == -ECANCELED)
        #expect(results[11].map { $0 >= 0 } == true)  // how many were cancelled (1) on recent kernels, 0 on older ones
    }

    @Test func relativeAndAbsoluteTimeoutsExpire() throws {
        let ring = try makeRing()
        let relative = UnsafeMutablePointer<__kernel_timespec>.allocate(capacity: 1)
        let absolute = UnsafeMutablePointer<__kernel_timespec>.allocate(capacity: 1)
        defer {
            relative.deallocate()
            absolute.deallocate()
        }
        try ring.prepareTimeout(.relative(nanoseconds: 1_000_000), storage: relative, userData: 1)
        try ring.prepareTimeout(.absolute(monotonicNanoseconds: Reactor.now() + 1_000_000), storage: absolute, userData: 2)
        #expect(try complete(ring, 2) == [1: -ETIME, 2: -ETIME])
    }

    @Test func readOfAnEventfdCompletesAfterAWrite() throws {
        let ring = try makeRing()
        let descriptor = try EventDescriptor.create()
        defer { close(descriptor) }
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: 8, alignment: 8)
        defer { buffer.deallocate() }
        try ring.prepareRead(descriptor: descriptor, into: buffer, length: 8, userData: 3)
        try ring.submit()
        EventDescriptor.signal(descriptor)
        EventDescriptor.signal(descriptor)
        #expect(try complete(ring, 1) == [3: 8])
        #expect(buffer.load(as: UInt64.self) == 2)
    }

    @Test func pollOnAPidfdCompletesWhenTheChildIsKilled() throws {
        let ring = try makeRing()
        let child = try ChildProcess(executable: "/bin/sleep", arguments: ["1000"])
        let pidfd = crs_pidfd_open(child.pid, 0)
        try #require(pidfd >= 0)
        defer { close(pidfd) }
        try ring.preparePoll(descriptor: pidfd, userData: 4)
        try ring.submit()
        child.kill(SIGKILL)
        let results = try complete(ring, 1)
        #expect(results[4].map { $0 & Int32(POLLIN) != 0 } == true)
        #expect(ProcessExitQuery.status(pidfd: pidfd) == .signaled(SIGKILL))
        #expect(try child.wait() == .signaled(SIGKILL))
    }

    /// SQPOLL is opt-in; a reactor with it still waits, wakes and shuts down.
    @Test func aReactorWithSQPOLLWaitsAndWakes() throws {
        try withWatchdog(seconds: 30) {
            let words = SharedWords()
            let reactor = try ReactorFixture.start(.ioUringFutex, options: ReactorOptions(sqPollIdleMilliseconds: 10))
            defer {
                reactor.shutdown()
                withExtendedLifetime(words) {}
            }
            #expect(reactor.setupDescription.contains("SQPOLL"))
            for round in UInt32(1)...20 {
                let outcome = Outcome<WaitResult>()
                reactor.waitForChange(of: words.word(0), from: round - 1, outcome.callback)
                words.store(0, round)
                reactor.wake(words.word(0))
                #expect(outcome.wait() == .changed)
            }
        }
    }
}
