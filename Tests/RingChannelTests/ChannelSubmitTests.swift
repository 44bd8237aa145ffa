// ChannelSubmitTests — `FunctionHost.submit` through real worker processes: closed loops driven from
// the completions themselves are byte-exact with their own contexts; each completion is called
// exactly once, whatever ends the invocation (answer, cancel, deadline, a dying worker); errors
// known before sending are thrown and call nothing.
#if canImport(Glibc)
import Glibc
#endif
import RingChannel
import RingCore
import RingLinux
import RingTestSupport
import Testing

extension ChannelProcessTests {
    @Suite(.serialized) struct ChannelSubmitTests {
        /// The outcomes of submitted invocations, gathered from any thread (read them with one
        /// iterator of `stream`).
        final class Outcomes: Sendable {
            let stream: AsyncStream<(UInt64, Result<InvocationResult, any Error>)>
            private let continuation: AsyncStream<(UInt64, Result<InvocationResult, any Error>)>.Continuation
            let calls = LockedBox<[UInt64: Int]>([:])

            init() { (stream, continuation) = AsyncStream.makeStream() }

            /// The completion of invocation `n`: counts its calls and passes the outcome on.
            func completion(_ n: UInt64) -> @Sendable (Result<InvocationResult, any Error>) -> Void {
                { outcome in
                    self.calls.withLock { $0[n, default: 0] += 1 }
                    self.continuation.yield((n, outcome))
                }
            }
        }

        /// 8 chains of 500 invocations, each started from the completion of the one before (no task
        /// per call), echoes of 0…4 KiB and requested failures mixed: 4000 outcomes, each exactly
        /// what its request asked for, with its own context, each completion called once.
        @Test(arguments: channelBackends)
        func closedLoopsFromCompletionsAreByteExact(backend: ReactorBackendKind?) async throws {
            try await withWatchdog(seconds: 120) {
                try await withHost(testConfiguration(backend)) { host in
                    try await host.addWorker(exampleLaunch())
                    let problems = LockedBox<[String]>([])
                    let checked = LockedBox(0)
                    let (ends, chainEnded) = AsyncStream<Void>.makeStream()
                    let calls = LockedBox<[UInt64: Int]>([:])
                    @Sendable func start(_ n: UInt64, last: UInt64) {
                        let function = n % 7 == 3 ? "fail" : "echo"
                        let request = payload(n, size: Int(n * 37 % 4097))
                        let ctx = context(n)
                        do {
                            try host.submit(function: function, payload: request, context: ctx) { outcome in
                                calls.withLock { $0[n, default: 0] += 1 }
                                let expected: InvocationStatus = function == "fail" ? .failure(message: "requested failure") : .success
                                switch outcome {
                                case .success(let result) where result.status == expected && result.payload == request && result.context == ctx:
                                    checked.withLock { $0 += 1 }
                                case .success(let result):
                                    problems.withLock { $0.append("\(n): \(result.status), \(result.payload.count) bytes, \(result.context.invocationId)") }
                                case .failure(let error):
                                    problems.withLock { $0.append("\(n): \(error)") }
                                }
                                if n < last { start(n + 1, last: last) } else { chainEnded.yield() }
                            }
                        } catch {
                            problems.withLock { $0.append("\(n): submit threw \(error)") }
                            chainEnded.yield()
                        }
                    }
                    for chain in 0..<8 as Range<UInt64> { start(chain * 500, last: chain * 500 + 499) }
                    await awaitChains(ends, count: 8)
                    #expect(problems.value == [])
                    #expect(checked.value == 4000)
                    #expect(calls.value.count == 4000 && calls.value.values.allSatisfy { $0 == 1 })
                    while host.workers.first?.inFlight != 0 { await Task.yield() }
                }
            }
        }

        /// Cancel through the handle, a deadline, and a worker that crashes: each completion gets
        /// its typed error exactly once, a second cancel calls nothing, the handlers on the worker
        /// see their cancellation, and the worker serves on.
        @Test(arguments: channelBackends)
        func cancelDeadlineAndCrashEachCompleteOnce(backend: ReactorBackendKind?) async throws {
            let logs = LogCapture()
            try await withWatchdog(seconds: 60) {
                try await withHost(testConfiguration(backend), logs: logs) { host in
                    let id = try await host.addWorker(exampleLaunch())
                    let outcomes = Outcomes()
                    var arrived = outcomes.stream.makeAsyncIterator()

                    let handle = try host.submit(function: "hang", payload: [], context: context(1), completion: outcomes.completion(1))
                    #expect(handle.workerID == id)
                    while try await host.status(of: id, timeout: .seconds(30)).running != 1 { await Task.yield() }
                    handle.cancel()
                    let cancelled = await arrived.next()
                    #expect(cancelled?.0 == 1)
                    guard case .failure(let error) = cancelled?.1, error is CancellationError else {
                        Issue.record("expected CancellationError, got \(String(describing: cancelled))")
                        return
                    }
                    handle.cancel()
                    _ = await logs.first { $0.message == "handler saw cancellation" }

                    try host.submit(function: "hang", payload: [], context: context(2), deadline: .after(.milliseconds(50)), completion: outcomes.completion(2))
                    let expired = await arrived.next()
                    #expect(expired?.0 == 2)
                    guard case .failure(let deadline as ChannelError) = expired?.1 else {
                        Issue.record("expected deadlineExceeded, got \(String(describing: expired))")
                        return
                    }
                    #expect(deadline == .deadlineExceeded(workerID: id, invocationID: context(2).invocationId))

                    try host.submit(function: "echo", payload: [9, 8, 7], context: context(3), completion: outcomes.completion(3))
                    let echo = await arrived.next()
                    #expect(echo?.0 == 3)
                    #expect((try? echo?.1.get())?.payload == [9, 8, 7])

                    let pid = host.workers[0].pid
                    try host.submit(function: "crash", payload: [], context: context(4), completion: outcomes.completion(4))
                    let crashed = await arrived.next()
                    #expect(crashed?.0 == 4)
                    guard case .failure(let exit as ChannelError) = crashed?.1 else {
                        Issue.record("expected workerExited, got \(String(describing: crashed))")
                        return
                    }
                    #expect(exit == .workerExited(workerID: id, pid: pid, status: .signaled(SIGABRT)))
                    #expect(outcomes.calls.value == [1: 1, 2: 1, 3: 1, 4: 1])
                }
            }
        }

        /// What is known before anything is sent is thrown, and the completion is never called: an
        /// invalid function name, an oversized payload, no worker.
        @Test func errorsBeforeSendingAreThrownAndCallNothing() async throws {
            try await withWatchdog(seconds: 60) {
                try await withHost { host in
                    let outcomes = Outcomes()
                    #expect(throws: ChannelError.noWorkerAvailable) {
                        try host.submit(function: "echo", payload: [], context: context(1), completion: outcomes.completion(1))
                    }
                    let id = try await host.addWorker(exampleLaunch())
                    #expect(throws: ChannelError.invalidFunctionName("")) {
                        try host.submit(function: "", payload: [], context: context(2), completion: outcomes.completion(2))
                    }
                    let limit = smallSegment().maxMessageSize
                    #expect {
                        try host.submit(function: "echo", payload: [UInt8](repeating: 7, count: limit + 1), context: context(3), completion: outcomes.completion(3))
                    } throws: { error in
                        guard case ChannelError.messageTooLarge(_, let reported) = error else { return false }
                        return reported == limit
                    }
                    #expect(outcomes.calls.value.isEmpty)
                    #expect(try await host.status(of: id, timeout: .seconds(30)).running == 0)
                    #expect(host.workers.map(\.inFlight) == [0])
                }
            }
        }
    }
}
