// WorkerABITests — the C ABI (ringtransport/worker.h, RingWorkerABI) from C: RingABIFixture is a
// worker written in C that reports what it sees through its replies and logs. Every field of an
// invocation arrives exactly; misuse gets the documented result codes; a cancel, a terminate and the
// end reach the C side as events; rt_worker_close answers what is held; answers are exactly once.
#if canImport(Glibc)
import Glibc
#endif
import RingChannel
import RingCore
import RingLinux
import RingTestSupport
import Testing

func abiFixtureLaunch() -> WorkerLaunch {
    let path = exampleWorkerPath()
    return WorkerLaunch(executable: "\(path[..<path.lastIndex(of: "/")!])/RingABIFixture", name: "abi")
}

private func hex(_ bytes: [UInt8]) -> String { bytes.map { String(($0 >> 4) & 0xF, radix: 16) + String($0 & 0xF, radix: 16) }.joined() }

extension ChannelProcessTests {
    @Suite struct WorkerABITests {
        @Test(arguments: channelBackends)
        func everyFieldOfAnInvocationReachesTheCSide(backend: ReactorBackendKind?) async throws {
            try await withWatchdog(seconds: 60) {
                try await withHost(testConfiguration(backend)) { host in
                    _ = try await host.addWorker(abiFixtureLaunch())
                    let sent = ForwardingContext(
                        invocationId: ContextID(high: 0x0102_0304_0506_0708, low: 0x1112_1314_1516_1718),
                        forwardingId: ContextID(high: 0xAA, low: 0xBB), traceparent: "00-abc-01", tracestate: "s=1",
                        deadlineNanoseconds: Reactor.now() + 60_000_000_000, retryCount: 2, maxRetries: 5,
                        attributes: [.init(key: "k", value: "v"), .init(key: "key2", value: "välue")])
                    let body = payload(7, size: 300)
                    let result = try await host.invoke(function: "inspect", payload: body, context: sent)
                    #expect(result.status == .success && result.context == sent)
                    let expected = "function=inspect;payload=\(hex(body));context=\(hex(try sent.encoded()))"
                        + ";invocation=01020304050607081112131415161718;forwarding=00000000000000aa00000000000000bb"
                        + ";retry=2/5;deadline=1:\(sent.deadlineNanoseconds!);traceparent=00-abc-01;tracestate=s=1"
                        + ";attributes=k=v,key2=välue;terminated=1"
                    #expect(String(decoding: result.payload, as: UTF8.self) == expected)
                    // An empty payload and no deadline.
                    let bare = try await host.invoke(function: "inspect", payload: [], context: ForwardingContext(invocationId: ContextID(high: 0, low: 9)))
                    #expect(String(decoding: bare.payload, as: UTF8.self).contains(";payload=;") == true)
                    #expect(String(decoding: bare.payload, as: UTF8.self).contains(";deadline=0:0;traceparent=;tracestate=;attributes=;") == true)
                }
            }
        }

        @Test func misuseGetsTheDocumentedResultCodesAndAnswersAreExactlyOnce() async throws {
            try await withWatchdog(seconds: 60) {
                let logs = LogCapture()
                try await withHost(logs: logs) { host in
                    _ = try await host.addWorker(abiFixtureLaunch())
                    let result = try await host.invoke(function: "errors", payload: [], context: context(1))
                    #expect(result.status == .success)
                    #expect(
                        String(decoding: result.payload, as: UTF8.self)
                            == "next-null=-1 worker-null=-1 unknown=-2 status=-1 null-payload=-1 level=-1 null-message=-1 | rt_worker_reply: no invocation 999999 is waiting for an answer")
                    let second = await logs.first { $0.message.hasPrefix("first=") }
                    #expect(second.message == "first=0 second=-2")
                    // The worker is healthy afterwards, and the host saw exactly one answer.
                    let logged = try await host.invoke(function: "log", payload: [], context: context(2))
                    #expect(logged.payload == Array("logged".utf8))
                    let hello = await logs.first { $0.message.hasPrefix("hello ") }
                    #expect(hello.message == "hello \(logged.number)" && hello.level == .warning)
                    #expect(hello.metadata["invocation.id"] == "\(context(2).invocationId)" && hello.metadata["log.category"] == "fixture")
                }
            }
        }

        @Test func cancelTerminateAndTheEndReachTheCSide() async throws {
            try await withWatchdog(seconds: 60) {
                let logs = LogCapture()
                // The orderly end is asserted: give the fixture all the time it needs to exit (a
                // sanitizer build exits slower than the suite's 500 ms kill margin).
                var configuration = testConfiguration()
                configuration.killMargin = .seconds(30)
                try await withHost(configuration, logs: logs) { host in
                    let events = host.events()
                    let id = try await host.addWorker(abiFixtureLaunch())
                    // A cancel of a held invocation arrives as RT_EVENT_CANCEL; the C side answers it.
                    let cancelled = Task { try await host.invoke(function: "hold", payload: [], context: context(3)) }
                    _ = await firstStatus(host, id) { $0.running == 1 }
                    cancelled.cancel()
                    await #expect(throws: CancellationError.self) { try await cancelled.value }
                    let cancelLine = await logs.first { $0.message.hasPrefix("cancel ") }
                    #expect(cancelLine.message == "cancel 1")
                    // Terminate with one held: RT_EVENT_TERMINATE (grace in ns), then the grace runs
                    // out, RT_EVENT_CANCEL, the answer, and an orderly end (the fixture exits 0 only
                    // if END is sticky and a reply after it gets RT_E_ENDED).
                    let held = Task { try await host.invoke(function: "hold", payload: [], context: context(4)) }
                    _ = await firstStatus(host, id) { $0.running == 1 }
                    await host.removeWorker(id, gracePeriod: .milliseconds(300))
                    let answer = try await held.value
                    #expect(answer.status == .cancelled && answer.context == context(4))
                    #expect(await logs.first { $0.message.hasPrefix("terminate ") }.message == "terminate 300000000")
                    let end = await next(events) { if case .ended(id, _, _) = $0 { true } else { false } }
                    #expect(end == .ended(id, pid: end.flatMap { if case .ended(_, let pid, _) = $0 { pid } else { nil } } ?? 0, error: nil))
                }
            }
        }

        @Test func closingAnswersWhatIsHeldCancelled() async throws {
            try await withWatchdog(seconds: 60) {
                try await withHost { host in
                    let id = try await host.addWorker(abiFixtureLaunch())
                    let held = (0..<3).map { n in Task { try await host.invoke(function: "hold", payload: [], context: context(10 + UInt64(n))) } }
                    _ = await firstStatus(host, id) { $0.running == 3 }
                    // `close` is held too when the fixture calls rt_worker_close: all four are answered.
                    let closing = try await host.invoke(function: "close", payload: [], context: context(20))
                    #expect(closing.status == .cancelled && closing.context == context(20))
                    for (n, task) in held.enumerated() {
                        let answer = try await task.value
                        #expect(answer.status == .cancelled && answer.context == context(10 + UInt64(n)))
                    }
                }
            }
        }
    }
}

/// Polls the worker's status until `predicate` holds (bounded by the test's watchdog).
private func firstStatus(_ host: FunctionHost, _ id: WorkerID, _ predicate: (WorkerStatus) -> Bool) async -> WorkerStatus {
    while true {
        if let status = try? await host.status(of: id, timeout: .seconds(5)), predicate(status) { return status }
        await Task.yield()
    }
}
