// ChannelBatchTests — `FunctionHost.invoke(batch:)` through real worker processes: every outcome
// byte-exact with its own context, in order; per-invocation errors stay per invocation; cancelling
// the caller and a worker dying mid-batch end every invocation exactly once with the typed error.
#if canImport(Glibc)
import Glibc
#endif
import RingChannel
import RingCore
import RingLinux
import RingTestSupport
import Testing

extension ChannelProcessTests {
    @Suite(.serialized) struct ChannelBatchTests {
        /// 200 batches of 50 — echoes of 0…4 KiB and requested failures mixed, callers on the
        /// host's executor and on the global pool: 10 000 outcomes, each exactly what its request
        /// asked for, with its own context, in request order.
        @Test(arguments: channelBackends)
        func batchesAreByteExactInOrderWithTheirOwnContexts(backend: ReactorBackendKind?) async throws {
            try await withWatchdog(seconds: 120) {
                try await withHost(testConfiguration(backend)) { host in
                    try await host.addWorker(exampleLaunch())
                    let problems = LockedBox<[String]>([])
                    let checked = LockedBox(0)
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        for caller in 0..<4 as Range<UInt64> {
                            group.addTask(executorPreference: caller % 2 == 0 ? host.executor : nil) {
                                for round in 0..<50 as Range<UInt64> {
                                    let base = (caller * 50 + round) * 50
                                    let requests = (base..<base + 50).map { n in
                                        InvocationRequest(function: n % 7 == 3 ? "fail" : "echo", payload: payload(n, size: Int(n * 37 % 4097)), context: context(n))
                                    }
                                    let outcomes = try await host.invoke(batch: requests)
                                    guard outcomes.count == requests.count else {
                                        problems.withLock { $0.append("batch \(base): \(outcomes.count) outcomes") }
                                        continue
                                    }
                                    for (request, outcome) in zip(requests, outcomes) {
                                        let n = request.context.invocationId
                                        let expectedStatus: InvocationStatus = request.function == "fail" ? .failure(message: "requested failure") : .success
                                        switch outcome {
                                        case .success(let result)
                                            where result.status == expectedStatus && result.payload == request.payload && result.context == request.context:
                                            checked.withLock { $0 += 1 }
                                        case .success(let result):
                                            problems.withLock { $0.append("\(n): \(result.status), \(result.payload.count) bytes, \(result.context.invocationId)") }
                                        case .failure(let error):
                                            problems.withLock { $0.append("\(n): \(error)") }
                                        }
                                    }
                                }
                            }
                        }
                        try await group.waitForAll()
                    }
                    #expect(problems.value == [])
                    #expect(checked.value == 10_000)
                    #expect(host.workers.map(\.inFlight) == [0])
                }
            }
        }

        /// An oversized request and an invalid function name: the first fails alone (the rest of its
        /// batch is answered), the second refuses the whole batch before anything is sent; an empty
        /// batch is answered with nothing.
        @Test func errorsStayWithTheirInvocation() async throws {
            try await withWatchdog(seconds: 60) {
                try await withHost { host in
                    let id = try await host.addWorker(exampleLaunch())
                    let limit = smallSegment().maxMessageSize
                    let requests = [
                        InvocationRequest(function: "echo", payload: [1], context: context(1)),
                        InvocationRequest(function: "echo", payload: [UInt8](repeating: 7, count: limit + 1), context: context(2)),
                        InvocationRequest(function: "echo", payload: [3], context: context(3)),
                    ]
                    let outcomes = try await host.invoke(batch: requests)
                    #expect(outcomes.count == 3)
                    #expect((try? outcomes[0].get())?.payload == [1])
                    #expect((try? outcomes[2].get())?.payload == [3])
                    guard case .failure(let error as ChannelError) = outcomes[1], case .messageTooLarge(_, let reported) = error else {
                        Issue.record("expected messageTooLarge, got \(outcomes[1])")
                        return
                    }
                    #expect(reported == limit)
                    await #expect(throws: ChannelError.invalidFunctionName("")) {
                        _ = try await host.invoke(batch: [InvocationRequest(function: "", payload: [], context: context(4))])
                    }
                    #expect(try await host.invoke(batch: []).isEmpty)
                    #expect(try await host.status(of: id, timeout: .seconds(30)).running == 0)
                }
            }
        }

        /// Cancelling the task waiting for a batch of handlers that never finish: every invocation
        /// ends with `CancellationError`, every handler is cancelled on the worker, and the worker
        /// serves on.
        @Test(arguments: channelBackends)
        func cancellingTheCallerCancelsEveryInvocation(backend: ReactorBackendKind?) async throws {
            let logs = LogCapture()
            try await withWatchdog(seconds: 60) {
                try await withHost(testConfiguration(backend), logs: logs) { host in
                    let id = try await host.addWorker(exampleLaunch())
                    let requests = (1...4 as ClosedRange<UInt64>).map { InvocationRequest(function: "hang", payload: [], context: context($0)) }
                    let batch = Task { try await host.invoke(batch: requests) }
                    while try await host.status(of: id, timeout: .seconds(30)).running != 4 { await Task.yield() }
                    batch.cancel()
                    let outcomes = try await batch.value
                    #expect(outcomes.count == 4)
                    for outcome in outcomes {
                        guard case .failure(let error) = outcome, error is CancellationError else {
                            Issue.record("expected CancellationError, got \(outcome)")
                            continue
                        }
                    }
                    for _ in 0..<4 { _ = await logs.first { $0.message == "handler saw cancellation" } }
                    while host.workers.first?.inFlight != 0 { await Task.yield() }
                    let echo = try await host.invoke(batch: [InvocationRequest(function: "echo", payload: [5], context: context(5))])
                    #expect((try? echo[0].get())?.payload == [5])
                }
            }
        }

        /// A batch whose worker crashes: the invocations it had not answered fail with the exit
        /// status; the ones answered before keep their answers; every invocation has one outcome.
        @Test func aWorkerDyingMidBatchFailsWhatItHeld() async throws {
            try await withWatchdog(seconds: 60) {
                try await withHost { host in
                    let id = try await host.addWorker(exampleLaunch(environment: ["RING_EXAMPLE_MAX_CONCURRENCY": "1"]))
                    let pid = host.workers[0].pid
                    var requests = (1...10 as ClosedRange<UInt64>).map { InvocationRequest(function: "echo", payload: [UInt8($0)], context: context($0)) }
                    requests.append(InvocationRequest(function: "crash", payload: [], context: context(11)))
                    requests += (12...20 as ClosedRange<UInt64>).map { InvocationRequest(function: "hang", payload: [], context: context($0)) }
                    let outcomes = try await host.invoke(batch: requests)
                    let exited = ChannelError.workerExited(workerID: id, pid: pid, status: .signaled(SIGABRT))
                    #expect(outcomes.count == 20)
                    for (index, outcome) in outcomes.enumerated() {
                        switch outcome {
                        case .success(let result):
                            #expect(index < 10 && result.payload == requests[index].payload && result.context == requests[index].context)
                        case .failure(let error):
                            #expect(error as? ChannelError == exited, "invocation \(index + 1): \(error)")
                        }
                    }
                    // With one handler at a time, the echoes before the crash were answered first.
                    #expect(outcomes[..<10].allSatisfy { (try? $0.get()) != nil })
                    #expect(outcomes[10...].allSatisfy { (try? $0.get()) == nil })
                }
            }
        }
    }
}
