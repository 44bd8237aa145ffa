// ChannelInPlacePayloadTests — payloads where they lie, through real worker processes: requests
// written into the ring (`invoke`/`submit` with `payloadCount:writingPayload:`) and answers read
// from it (`submit(…, readingReplyInPlace:)`). Echoes are byte-exact at every size (one frame,
// fragments); the writer runs exactly once per invocation that is sent and never for one that fails
// before its request is written; every in-place completion is called exactly once, whatever ends
// the invocation (answer, failure status, cancel, deadline, a dying worker).
#if canImport(Glibc)
import Glibc
#endif
import RingChannel
import RingCore
import RingLinux
import RingTestSupport
import Testing

extension ChannelProcessTests {
    @Suite(.serialized) struct ChannelInPlacePayloadTests {
        /// A writer that appends `bytes` one at a time and counts its calls.
        static func writer(_ bytes: [UInt8], calls: LockedBox<Int>) -> (inout OutputRawSpan) -> Void {
            { span in
                calls.withLock { $0 += 1 }
                for byte in bytes { span.append(byte) }
            }
        }

        /// Sizes from empty to a request that needs fragments (over the 1 MiB ring's frame limit),
        /// through `invoke`: each echo is the written bytes exactly, with its own context.
        @Test(arguments: channelBackends)
        func invokeWritesTheRequestInPlace(backend: ReactorBackendKind?) async throws {
            try await withWatchdog(seconds: 120) {
                try await withHost(testConfiguration(backend)) { host in
                    try await host.addWorker(exampleLaunch())
                    let calls = LockedBox(0)
                    let sizes = [0, 1, 63, 64, 4096, 65_537, 600_000]
                    for (index, size) in sizes.enumerated() {
                        let n = UInt64(index + 1)
                        let bytes = payload(n, size: size)
                        let result = try await host.invoke(
                            function: "echo", payloadCount: size, context: context(n), writingPayload: Self.writer(bytes, calls: calls))
                        #expect(result.status == .success)
                        #expect(result.payload == bytes, "size \(size)")
                        #expect(result.context == context(n))
                    }
                    #expect(calls.value == sizes.count)
                }
            }
        }

        /// 4 chains of 250 submits, each started from the completion before it, requests written in
        /// place: 1000 byte-exact echoes, one writer call and one completion each.
        @Test(arguments: channelBackends)
        func submitWritesTheRequestInPlace(backend: ReactorBackendKind?) async throws {
            try await withWatchdog(seconds: 120) {
                try await withHost(testConfiguration(backend)) { host in
                    try await host.addWorker(exampleLaunch())
                    let problems = LockedBox<[String]>([])
                    let checked = LockedBox(0)
                    let writes = LockedBox(0)
                    let (ends, chainEnded) = AsyncStream<Void>.makeStream()
                    @Sendable func start(_ n: UInt64, last: UInt64) {
                        let bytes = payload(n, size: Int(n * 53 % 5000))
                        do {
                            try host.submit(
                                function: "echo", payloadCount: bytes.count, context: context(n),
                                writingPayload: Self.writer(bytes, calls: writes)
                            ) { outcome in
                                switch outcome {
                                case .success(let result) where result.payload == bytes && result.context == context(n):
                                    checked.withLock { $0 += 1 }
                                case .success(let result):
                                    problems.withLock { $0.append("\(n): \(result.status), \(result.payload.count) bytes") }
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
                    for chain in 0..<4 as Range<UInt64> { start(chain * 250 + 1, last: chain * 250 + 250) }
                    await awaitChains(ends, count: 4)
                    #expect(problems.value == [])
                    #expect(checked.value == 1000)
                    #expect(writes.value == 1000)
                }
            }
        }

        /// What fails before the request is written never runs the writer: an invalid name, no
        /// worker, a payload over the message limit (the writer's bytes are never asked for).
        @Test func failuresBeforeWritingNeverCallTheWriter() async throws {
            try await withWatchdog(seconds: 60) {
                try await withHost { host in
                    let calls = LockedBox(0)
                    let write = Self.writer([1, 2, 3], calls: calls)
                    await #expect(throws: ChannelError.noWorkerAvailable) {
                        _ = try await host.invoke(function: "echo", payloadCount: 3, context: context(1), writingPayload: write)
                    }
                    try await host.addWorker(exampleLaunch())
                    await #expect(throws: ChannelError.invalidFunctionName("")) {
                        _ = try await host.invoke(function: "", payloadCount: 3, context: context(2), writingPayload: write)
                    }
                    let limit = smallSegment().maxMessageSize
                    #expect {
                        try host.submit(
                            function: "echo", payloadCount: limit + 1, context: context(3), writingPayload: write, completion: { _ in })
                    } throws: { error in
                        guard case ChannelError.messageTooLarge(_, let reported) = error else { return false }
                        return reported == limit
                    }
                    #expect(calls.value == 0)
                    #expect(host.workers.map(\.inFlight) == [0])
                }
            }
        }

        /// Chains of submits whose answers are read in place, sizes 0…5000 and one answer over the
        /// frame limit (reassembled): each completion sees exactly its request's bytes, status and
        /// context, once; with the request written in place too for every other chain.
        @Test(arguments: channelBackends)
        func answersReadInPlaceAreByteExact(backend: ReactorBackendKind?) async throws {
            try await withWatchdog(seconds: 120) {
                try await withHost(testConfiguration(backend)) { host in
                    try await host.addWorker(exampleLaunch())
                    let problems = LockedBox<[String]>([])
                    let checked = LockedBox(0)
                    let calls = LockedBox<[UInt64: Int]>([:])
                    let writes = LockedBox(0)
                    let (ends, chainEnded) = AsyncStream<Void>.makeStream()
                    @Sendable func start(_ n: UInt64, last: UInt64) {
                        let bytes = payload(n, size: n % 100 == 50 ? 600_000 : Int(n * 29 % 5001))
                        let completion: InvocationReplyCompletion = { outcome in
                            calls.withLock { $0[n, default: 0] += 1 }
                            switch outcome {
                            case .success(let view):
                                let seen = n % 2 == 0 ? view.copyPayload() : view.withPayload { span in span.withUnsafeBytes { [UInt8]($0) } }
                                if view.status == .success && seen == bytes && view.payloadCount == bytes.count && view.context == context(n) {
                                    checked.withLock { $0 += 1 }
                                } else {
                                    problems.withLock { $0.append("\(n): \(view.status), \(view.payloadCount) bytes, \(view.context.invocationId)") }
                                }
                            case .failure(let error):
                                problems.withLock { $0.append("\(n): \(error)") }
                            }
                            if n < last { start(n + 1, last: last) } else { chainEnded.yield() }
                        }
                        do {
                            if n % 200 < 100 {
                                try host.submit(function: "echo", payload: bytes, context: context(n), readingReplyInPlace: completion)
                            } else {
                                try host.submit(
                                    function: "echo", payloadCount: bytes.count, context: context(n),
                                    writingPayload: ChannelInPlacePayloadTests.writer(bytes, calls: writes), readingReplyInPlace: completion)
                            }
                        } catch {
                            problems.withLock { $0.append("\(n): submit threw \(error)") }
                            chainEnded.yield()
                        }
                    }
                    for chain in 0..<4 as Range<UInt64> { start(chain * 200 + 1, last: chain * 200 + 200) }
                    await awaitChains(ends, count: 4)
                    #expect(problems.value == [])
                    #expect(checked.value == 800)
                    #expect(calls.value.count == 800 && calls.value.values.allSatisfy { $0 == 1 })
                    #expect(writes.value == 400)
                    #expect(host.workers.map(\.inFlight) == [0])
                }
            }
        }

        /// Outcomes that are not an answer read from the ring reach an in-place completion too, once
        /// each: a failure status (an empty payload), a cancel through the handle, a deadline, a
        /// worker that crashes.
        @Test func inPlaceCompletionsGetEveryKindOfOutcome() async throws {
            try await withWatchdog(seconds: 60) {
                try await withHost(testConfiguration()) { host in
                    let id = try await host.addWorker(exampleLaunch())
                    let (arrivals, arrived) = AsyncStream<(UInt64, String)>.makeStream()
                    var next = arrivals.makeAsyncIterator()
                    let calls = LockedBox<[UInt64: Int]>([:])
                    func completion(_ n: UInt64) -> InvocationReplyCompletion {
                        { outcome in
                            calls.withLock { $0[n, default: 0] += 1 }
                            switch outcome {
                            case .success(let view): arrived.yield((n, "\(view.status) \(view.payloadCount)"))
                            case .failure(let error): arrived.yield((n, "\(error)"))
                            }
                        }
                    }
                    try host.submit(function: "fail", payload: [1, 2], context: context(1), readingReplyInPlace: completion(1))
                    let failed = await next.next()
                    #expect(failed?.0 == 1)
                    #expect(failed?.1 == "\(InvocationStatus.failure(message: "requested failure")) 2")  // the example worker echoes it

                    let handle = try host.submit(function: "hang", payload: [], context: context(2), readingReplyInPlace: completion(2))
                    while try await host.status(of: id, timeout: .seconds(30)).running != 1 { await Task.yield() }
                    handle.cancel()
                    let cancelled = await next.next()
                    #expect(cancelled?.0 == 2)
                    #expect(cancelled?.1 == "\(CancellationError())")

                    try host.submit(
                        function: "hang", payload: [], context: context(3), deadline: .after(.milliseconds(50)), readingReplyInPlace: completion(3))
                    let expired = await next.next()
                    #expect(expired?.0 == 3)
                    #expect(expired?.1 == "\(ChannelError.deadlineExceeded(workerID: id, invocationID: context(3).invocationId))")

                    let pid = host.workers[0].pid
                    try host.submit(function: "crash", payload: [], context: context(4), readingReplyInPlace: completion(4))
                    let crashed = await next.next()
                    #expect(crashed?.0 == 4)
                    #expect(crashed?.1 == "\(ChannelError.workerExited(workerID: id, pid: pid, status: .signaled(SIGABRT)))")
                    #expect(calls.value == [1: 1, 2: 1, 3: 1, 4: 1])
                }
            }
        }
    }
}
