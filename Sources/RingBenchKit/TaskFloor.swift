import RingLinux

/// The task floor: what waiting costs a caller that is a Swift task, with no transport at all.
/// `concurrency` tasks prefer a reactor's executor, as `ringbench invoke`'s callers prefer the
/// host's; each one waits the way `FunctionHost.invoke` waits (a cancellation handler around an
/// unsafe continuation), and a poller on that reactor resumes every waiting task once per duty turn,
/// as the host's link reader resumes a reply's caller. So each round is one suspension, one resume
/// from a poller, one job on the reactor's executor and the executor check after it — what an
/// invocation with a task caller pays in Swift Concurrency before any ring or channel code runs.
/// No invoke row with task callers can beat the floor at the same in-flight level.
enum TaskFloor {
    /// Resumes every waiting task once per turn. Reactor thread only: the tasks that append run on
    /// the reactor (they prefer its executor), and `poll` runs there.
    final class Resumer: ReactorPoller, @unchecked Sendable {
        private var waiting: [UnsafeContinuation<Void, Never>] = []
        private var resuming: [UnsafeContinuation<Void, Never>] = []

        func wait(_ continuation: UnsafeContinuation<Void, Never>) { waiting.append(continuation) }

        func poll() -> PollOutcome {
            guard !waiting.isEmpty else { return .idle }
            swap(&waiting, &resuming)
            for continuation in resuming { continuation.resume() }
            resuming.removeAll(keepingCapacity: true)
            return .progress
        }

        /// Nothing to sleep on: a task that waits runs on the reactor, so it registered before the
        /// reactor could decide to sleep.
        func prepareToSleep() -> PollerSleep { waiting.isEmpty ? .nothing : .busy }
        func finishSleep() {}

        func reactorStopped() {
            for continuation in waiting { continuation.resume() }
            waiting = []
        }
    }

    /// One measurement: round trips per second of all tasks and the percentiles of one round trip.
    static func measure(concurrency: Int, seconds: Double, profile: WaitProfile) async throws -> BenchResult {
        let reactor = try Reactor(options: ReactorOptions(idleProfile: profile))
        defer { reactor.shutdown() }
        let resumer = Resumer()
        let token = reactor.addPoller(resumer)
        defer { reactor.removePoller(token) }
        let start = MonotonicClock.now() + 100_000_000
        let end = start + UInt64(seconds * 1e9)
        let samples = try await withThrowingTaskGroup(of: [UInt64].self) { group in
            for _ in 0..<concurrency {
                group.addTask(executorPreference: reactor.executor) {
                    var latencies: [UInt64] = []
                    while true {
                        let before = MonotonicClock.now()
                        if before >= end { break }
                        await wait(on: resumer)
                        if before >= start { latencies.append(MonotonicClock.now() - before) }
                    }
                    return latencies
                }
            }
            var all: [UInt64] = []
            for try await part in group { all += part }
            return all
        }
        var result = BenchResult(
            scenario: "calibration", transport: "task-floor", messageSize: 0,
            rates: Summary([Double(samples.count) / (Double(end - start) / 1e9)]), repetitions: 1,
            parameters: ["what": "tasks on a reactor's executor waiting on continuations a poller resumes: no transport"],
            concurrency: concurrency, workers: 0)
        result.latencyNanoseconds = LatencyPercentiles(samples: samples)
        return result
    }

    /// Waits as `WorkerConnection.invoke` does: a cancellation handler around a continuation.
    private nonisolated(nonsending) static func wait(on resumer: Resumer) async {
        await withTaskCancellationHandler {
            await withUnsafeContinuation { resumer.wait($0) }
        } onCancel: {}
    }
}
