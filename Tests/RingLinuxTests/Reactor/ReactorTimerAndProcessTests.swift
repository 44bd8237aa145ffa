// ReactorTimerAndProcessTests — timers and process watches, run against every backend. No
// assertion depends on timing: order is the timer queue's guarantee, and the cancelled timer's
// deadline is an hour away.
#if canImport(Glibc)
    import Glibc
#endif
import RingLinux
import RingTestSupport
import Synchronization
import Testing
import RingCore

@Suite struct ReactorTimerAndProcessTests {
    static let backends = ReactorBackendKind.allCases

    @Test(arguments: backends)
    func timersFireInDeadlineOrderAndACancelledTimerNeverFires(kind: ReactorBackendKind) throws {
        try withWatchdog(seconds: 30) {
            let reactor = try ReactorFixture.start(kind)
            defer { reactor.shutdown() }
            let order = RingMutex<[Int]>([])
            let now = Reactor.now()
            let ms: UInt64 = 1_000_000
            // A far timer first (it arms the kernel timeout), then nearer ones replace it; some
            // deadlines are already past, some a few ms ahead.
            let cancelled = Outcome<TimerResult>()
            let farToken = reactor.schedule(at: now + 3_600_000 * ms, cancelled.callback)
            let offsets: [(label: Int, deadline: UInt64)] = [
                (5, now + 30 * ms), (1, now - 2 * ms), (3, now + 10 * ms), (2, now - 1 * ms), (4, now + 20 * ms),
            ]
            let fired = offsets.map { _ in Outcome<TimerResult>() }
            for (index, timer) in offsets.enumerated() {
                let outcome = fired[index]
                reactor.schedule(at: timer.deadline) { result in
                    order.withLock { $0.append(timer.label) }
                    outcome.callback(result)
                }
            }
            reactor.cancel(farToken)
            for outcome in fired { #expect(outcome.wait() == .fired) }
            #expect(order.withLock { $0 } == [1, 2, 3, 4, 5])
            #expect(cancelled.wait() == .cancelled)
            #expect(cancelled.calls == 1)
        }
    }

    @Test(arguments: backends)
    func aTimerCancelledFromTheReactorThreadDoesNotFire(kind: ReactorBackendKind) throws {
        try withWatchdog(seconds: 30) {
            let reactor = try ReactorFixture.start(kind)
            defer { reactor.shutdown() }
            let victim = Outcome<TimerResult>()
            let token = reactor.schedule(at: Reactor.now() + 5_000_000, victim.callback)
            let canceller = Outcome<TimerResult>()
            reactor.schedule(at: 0) { result in
                reactor.cancel(token)
                canceller.callback(result)
            }
            #expect(canceller.wait() == .fired)
            #expect(victim.wait() == .cancelled)
        }
    }

    @Test(arguments: backends)
    func aChildKilledWithSIGKILLIsReportedAsSignalNineAndStaysReapable(kind: ReactorBackendKind) throws {
        try withWatchdog(seconds: 30) {
            let reactor = try ReactorFixture.start(kind)
            defer { reactor.shutdown() }
            let child = try ChildProcess(executable: "/bin/sleep", arguments: ["1000"])
            let outcome = Outcome<ProcessWatchResult>()
            try reactor.watchProcess(pid: child.pid, outcome.callback)
            child.kill(SIGKILL)
            #expect(outcome.wait() == .exited(.signaled(9)))
            // The watch read the status without reaping: ChildProcess still reaps it.
            #expect(try child.wait() == .signaled(9))
        }
    }

    @Test(arguments: backends)
    func aChildThatExitsReportsItsExitCode(kind: ReactorBackendKind) throws {
        try withWatchdog(seconds: 30) {
            let reactor = try ReactorFixture.start(kind)
            defer { reactor.shutdown() }
            let child = try ChildProcess(executable: "/bin/sh", arguments: ["-c", "exit 7"])
            let outcome = Outcome<ProcessWatchResult>()
            try reactor.watchProcess(pid: child.pid, outcome.callback)
            #expect(outcome.wait() == .exited(.exited(7)))
            #expect(try child.wait() == .exited(7))
        }
    }

    @Test(arguments: backends)
    func cancellingAWatchReportsCancelled(kind: ReactorBackendKind) throws {
        try withWatchdog(seconds: 30) {
            let reactor = try ReactorFixture.start(kind)
            defer { reactor.shutdown() }
            let child = try ChildProcess(executable: "/bin/sleep", arguments: ["1000"])
            let outcome = Outcome<ProcessWatchResult>()
            let token = try reactor.watchProcess(pid: child.pid, outcome.callback)
            ReactorFixture.barrier(reactor)
            reactor.cancel(token)
            #expect(outcome.wait() == .cancelled)
            child.kill(SIGKILL)
            #expect(try child.wait() == .signaled(9))
            ReactorFixture.barrier(reactor)
            #expect(outcome.calls == 1)
        }
    }

    @Test func watchingAProcessThatDoesNotExistThrows() throws {
        let reactor = try ReactorFixture.start(.futexThread)
        defer { reactor.shutdown() }
        // A reaped child's pid is free (until reused, which a just-reaped pid is not this quickly).
        let child = try ChildProcess(executable: "/bin/true")
        _ = try child.wait()
        #expect(throws: SystemError(call: "pidfd_open(\(child.pid))", errno: ESRCH)) {
            try reactor.watchProcess(pid: child.pid) { _ in }
        }
    }
}
