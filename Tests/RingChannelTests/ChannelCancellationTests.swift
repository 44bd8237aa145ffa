// ChannelCancellationTests — cancelling the invoking task, deadlines enforced by the host's reactor,
// and terminate with a grace period; the worker's handler sees the cancellation (its log record
// reaches the host), and every invocation ends exactly once.
#if canImport(Glibc)
import Glibc
#endif
import Logging
import RingChannel
import RingCore
import RingLinux
import RingTestSupport
import Testing

extension ChannelProcessTests {
    @Suite(.serialized) struct ChannelCancellationTests {
        @Test(arguments: channelBackends)
        func cancellingTheInvokingTaskCancelsTheHandler(backend: ReactorBackendKind?) async throws {
            let logs = LogCapture()
            try await withWatchdog(seconds: 60) {
                try await withHost(testConfiguration(backend), logs: logs) { host in
                    let id = try await host.addWorker(exampleLaunch())
                    let ctx = context(42)
                    let invocation = Task { try await host.invoke(function: "hang", payload: [], context: ctx) }
                    // The handler is running once the worker reports one running invocation.
                    while try await host.status(of: id, timeout: .seconds(30)).running != 1 { await Task.yield() }
                    invocation.cancel()
                    await #expect(throws: CancellationError.self) { _ = try await invocation.value }
                    let seen = await logs.first { $0.message == "handler saw cancellation" }
                    #expect(seen.metadata["invocation.id"] == "\(ctx.invocationId)")
                    // The worker still serves, and its table is empty once the cancelled answer arrived.
                    let echo = try await host.invoke(function: "echo", payload: [9], context: context(43))
                    #expect(echo.payload == [9])
                    while host.workers.first?.inFlight != 0 { await Task.yield() }
                }
            }
        }

        @Test func aTaskCancelledBeforeInvokingNeverReachesTheWorker() async throws {
            try await withWatchdog(seconds: 60) {
                try await withHost { host in
                    let id = try await host.addWorker(exampleLaunch())
                    let invocation = Task {
                        withUnsafeCurrentTask { $0?.cancel() }
                        return try await host.invoke(function: "hang", payload: [], context: context(1))
                    }
                    await #expect(throws: CancellationError.self) { _ = try await invocation.value }
                    let status = try await host.status(of: id, timeout: .seconds(30))
                    #expect(status.running == 0)
                }
            }
        }

        @Test(arguments: channelBackends)
        func deadlinesEndInDeadlineExceededAndCancelTheHandler(backend: ReactorBackendKind?) async throws {
            let logs = LogCapture()
            try await withWatchdog(seconds: 60) {
                try await withHost(testConfiguration(backend), logs: logs) { host in
                    let id = try await host.addWorker(exampleLaunch())
                    let ctx = context(7)
                    await #expect(throws: ChannelError.deadlineExceeded(workerID: id, invocationID: ctx.invocationId)) {
                        _ = try await host.invoke(function: "hang", payload: [], context: ctx, deadline: .after(.milliseconds(50)))
                    }
                    let seen = await logs.first { $0.message == "handler saw cancellation" }
                    #expect(seen.metadata["invocation.id"] == "\(ctx.invocationId)")
                    // A deadline in the context itself is enforced too, and reaches the worker.
                    var own = context(8)
                    own.deadlineNanoseconds = Reactor.now() + 20_000_000
                    await #expect(throws: ChannelError.deadlineExceeded(workerID: id, invocationID: own.invocationId)) {
                        _ = try await host.invoke(function: "hang", payload: [], context: own)
                    }
                    // A deadline that is not reached changes nothing, and the worker sees it.
                    let due = InvocationDeadline.after(.seconds(600))
                    let echo = try await host.invoke(function: "echo", payload: [1], context: context(9), deadline: due)
                    #expect(echo.context.deadlineNanoseconds == due.monotonicNanoseconds)
                    // 200 deadlines racing 200 answers: each invocation ends exactly once.
                    let tally = Tally()
                    await withTaskGroup(of: Void.self) { group in
                        for n in 0..<200 as Range<UInt64> {
                            group.addTask {
                                do {
                                    let result = try await host.invoke(
                                        function: "slow", payload: u32Payload(UInt32(n % 3)), context: context(1000 + n),
                                        deadline: .after(.milliseconds(Int64(n % 4))))
                                    // The context comes back with the effective deadline the host wrote into it.
                                    var expected = context(1000 + n)
                                    expected.deadlineNanoseconds = result.context.deadlineNanoseconds
                                    tally.add(result.status == .success && result.context == expected ? "answered" : "wrong \(result.status)")
                                } catch ChannelError.deadlineExceeded(_, let invocationID) where invocationID == context(1000 + n).invocationId {
                                    tally.add("deadline")
                                } catch {
                                    tally.add("other: \(error)")
                                }
                            }
                        }
                    }
                    #expect(tally.value.filter { $0.key != "answered" && $0.key != "deadline" }.isEmpty, "\(tally.value)")
                    #expect(tally.value.values.reduce(0, +) == 200)
                    while host.workers.first?.inFlight != 0 { await Task.yield() }
                }
            }
        }

        @Test func terminateLetsInFlightFinishThenCancelsTheRest() async throws {
            try await withWatchdog(seconds: 60) {
                try await withHost { host in
                    let events = host.events()
                    let id = try await host.addWorker(exampleLaunch())
                    let pid = host.workers[0].pid
                    // 50 quick invocations and 20 that only end when cancelled.
                    let quick = (0..<50).map { n in
                        Task { try await host.invoke(function: "slow", payload: u32Payload(1), context: context(UInt64(n))) }
                    }
                    let hanging = (0..<20).map { n in
                        Task { try await host.invoke(function: "hang", payload: [], context: context(UInt64(100 + n))) }
                    }
                    while try await host.status(of: id, timeout: .seconds(30)).running < 20 { await Task.yield() }
                    await host.removeWorker(id, gracePeriod: .milliseconds(300))
                    for (n, task) in quick.enumerated() {
                        let result = try await task.value
                        #expect(result.status == .success && result.context == context(UInt64(n)))
                    }
                    for (n, task) in hanging.enumerated() {
                        let result = try await task.value
                        #expect(result.status == .cancelled)
                        #expect(result.context == context(UInt64(100 + n)))
                    }
                    let ended = await next(events) { if case .ended = $0 { true } else { false } }
                    #expect(ended == .ended(id, pid: pid, error: nil))
                    #expect(host.workers.isEmpty)
                    await #expect(throws: ChannelError.noWorkerAvailable) { _ = try await host.invoke(function: "echo", payload: [], context: context(1)) }
                }
            }
        }

        @Test func aWorkerThatIgnoresTheGracePeriodIsKilled() async throws {
            try await withWatchdog(seconds: 60) {
                try await withHost { host in
                    let id = try await host.addWorker(exampleLaunch())
                    let pid = host.workers[0].pid
                    let stubborn = Task { try await host.invoke(function: "stubborn", payload: [], context: context(1)) }
                    while try await host.status(of: id, timeout: .seconds(30)).running != 1 { await Task.yield() }
                    await host.removeWorker(id, gracePeriod: .milliseconds(100))
                    await #expect(throws: ChannelError.workerExited(workerID: id, pid: pid, status: .signaled(SIGKILL))) {
                        _ = try await stubborn.value
                    }
                }
            }
        }
    }
}
