// ReactorExecutorTests — the reactor thread as a task executor, on every backend: tasks that prefer
// it run on the reactor's thread (and nowhere else), every job runs exactly once whether it was
// enqueued from another thread or from the reactor thread itself, and a task that prefers a reactor
// that has shut down still completes.
#if canImport(Glibc)
    import Glibc
#endif
import Atomics
import RingLinux
import RingTestSupport
import Synchronization
import Testing
import RingCore

@Suite struct ReactorExecutorTests {
    static let backends = ReactorBackendKind.allCases

    /// The reactor's thread, seen from one of its own callbacks.
    static func reactorThread(_ reactor: Reactor) -> pthread_t {
        let thread = Outcome<UInt>()
        reactor.schedule(at: 0) { _ in thread.callback(UInt(pthread_self())) }
        return pthread_t(thread.wait())
    }

    /// 1000 tasks started from the test's thread with the reactor as their preferred executor, each
    /// hopping through 10 suspension points (`Task.yield`, which re-enqueues the job from the
    /// reactor thread onto its local queue): every step runs on the reactor thread, and the exact
    /// number of steps ran.
    @Test(arguments: backends)
    func preferringTasksRunEveryStepOnTheReactorThread(kind: ReactorBackendKind) async throws {
        try await withWatchdog(seconds: 60) {
            let reactor = try ReactorFixture.start(kind)
            defer { reactor.shutdown() }
            let expected = Self.reactorThread(reactor)
            let steps = ManagedAtomic<Int>(0)
            let elsewhere = ManagedAtomic<Int>(0)
            await withTaskGroup(of: Void.self) { group in
                for _ in 0..<1000 {
                    group.addTask(executorPreference: reactor.executor) {
                        for _ in 0..<10 {
                            if pthread_equal(pthread_self(), expected) == 0 {
                                elsewhere.wrappingIncrement(ordering: .relaxed)
                            }
                            steps.wrappingIncrement(ordering: .relaxed)
                            await Task.yield()
                        }
                    }
                }
            }
            #expect(steps.load(ordering: .relaxed) == 10_000)
            #expect(elsewhere.load(ordering: .relaxed) == 0)
        }
    }

    /// A continuation resumed from another thread enqueues its (reactor-preferring) task through the
    /// request queue; 2000 such resumptions each run exactly once, on the reactor thread.
    @Test(arguments: backends)
    func resumptionsFromOtherThreadsRunOnTheReactorThread(kind: ReactorBackendKind) async throws {
        try await withWatchdog(seconds: 60) {
            let reactor = try ReactorFixture.start(kind)
            defer { reactor.shutdown() }
            let expected = Self.reactorThread(reactor)
            let total = try await Task(executorPreference: reactor.executor) {
                var sum = 0
                for value in 1...2_000 {
                    sum += await withCheckedContinuation { (continuation: CheckedContinuation<Int, Never>) in
                        Thread.start { continuation.resume(returning: value) }
                    }
                    try #require(pthread_equal(pthread_self(), expected) != 0)
                }
                return sum
            }.value
            #expect(total == 2_000 * 2_001 / 2)
        }
    }

    /// Jobs still queued when the reactor stops, and jobs enqueued after it stopped, run on the
    /// global executor: no task that prefers the reactor is stranded.
    @Test(arguments: backends)
    func tasksPreferringAStoppedReactorStillComplete(kind: ReactorBackendKind) async throws {
        try await withWatchdog(seconds: 60) {
            let reactor = try ReactorFixture.start(kind)
            let expected = Self.reactorThread(reactor)
            let gate = Gate()
            // Parked on a continuation that the test resumes only after the reactor has shut down.
            let waiting = Task(executorPreference: reactor.executor) {
                await gate.wait()
                return pthread_equal(pthread_self(), expected) != 0
            }
            await gate.untilWaiting()
            reactor.shutdown()
            gate.open()
            #expect(await waiting.value == false)
            let after = await Task(executorPreference: reactor.executor) { 42 }.value
            #expect(after == 42)
        }
    }
}

/// One waiter, resumed by `open()` (from any thread); `untilWaiting()` returns once it waits.
final class Gate: Sendable {
    private let state = RingMutex<(waiter: CheckedContinuation<Void, Never>?, arrived: CheckedContinuation<Void, Never>?, waiting: Bool)>((nil, nil, false))

    func wait() async {
        await withCheckedContinuation { continuation in
            let arrived = state.withLock { state -> CheckedContinuation<Void, Never>? in
                state.waiter = continuation
                state.waiting = true
                defer { state.arrived = nil }
                return state.arrived
            }
            arrived?.resume()
        }
    }

    func untilWaiting() async {
        await withCheckedContinuation { continuation in
            let already = state.withLock { state -> Bool in
                if state.waiting { return true }
                state.arrived = continuation
                return false
            }
            if already { continuation.resume() }
        }
    }

    func open() {
        state.withLock { state -> CheckedContinuation<Void, Never>? in
            defer { state.waiter = nil }
            return state.waiter
        }?.resume()
    }
}
