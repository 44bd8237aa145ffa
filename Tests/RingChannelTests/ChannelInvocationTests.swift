// ChannelInvocationTests — invocations through real worker processes: volume with many in flight,
// byte-exact payloads from 0 B to 1 MiB (fragments both ways), each response carrying exactly its
// own context, statuses, logs and the status ping.
import Logging
import RingChannel
import RingCore
import RingLinux
import RingTestSupport
import Testing

extension ChannelProcessTests {
    @Suite(.serialized) struct ChannelInvocationTests {
        /// Runs `count` invocations keeping `inFlight` outstanding; returns the number of problems.
        static func load(
            _ host: FunctionHost, count: Int, inFlight: Int, function: String = "echo", size: @escaping @Sendable (UInt64) -> Int
        ) async throws -> (problems: Int, firstProblem: String?, byWorker: [String: Int]) {
            let tally = Tally()
            let firstProblem = LockedBox<String?>(nil)
            try await withThrowingTaskGroup(of: Void.self) { group in
                var next: UInt64 = 0
                func add() {
                    let n = next
                    next += 1
                    group.addTask {
                        let sent = payload(n, size: size(n))
                        let result = try await host.invoke(function: function, payload: sent, context: context(n))
                        tally.add("worker \(result.workerID)")
                        var problem: String?
                        if result.status != .success { problem = "invocation \(n): status \(result.status)" }
                        else if result.payload != sent { problem = "invocation \(n): payload differs (\(result.payload.count) of \(sent.count) bytes)" }
                        else if result.context != context(n) { problem = "invocation \(n): context \(result.context.invocationId)" }
                        if let problem {
                            tally.add("problem")
                            if firstProblem.value == nil { firstProblem.value = problem }
                        }
                    }
                }
                for _ in 0..<min(inFlight, count) { add() }
                while try await group.next() != nil {
                    if Int(next) < count { add() }
                }
            }
            var byWorker = tally.value
            let problems = byWorker.removeValue(forKey: "problem") ?? 0
            return (problems, firstProblem.value, byWorker)
        }

        @Test func hundredThousandInvocationsWith256InFlightAreByteExactAndCarryTheirOwnContext() async throws {
            try await withWatchdog(seconds: 300) {
                try await withHost { host in
                    try await host.addWorker(exampleLaunch())
                    let count = 100_000
                    let (problems, first, byWorker) = try await Self.load(host, count: count, inFlight: 256) { n in Int(n % 1025) }
                    #expect(problems == 0, "\(first ?? "")")
                    #expect(byWorker.values.reduce(0, +) == count)
                    #expect(host.workers.map(\.inFlight) == [0])
                }
            }
        }

        /// A worker limited to 2 invocations at a time, answering `echo` inline on its reader and
        /// `slow` (1 ms) in handler tasks, with 64 in flight from callers on the host's executor:
        /// invocations queue behind the slow ones and start as each ends (inline or in a task), and
        /// every one of 3000 comes back byte-exact with its own context.
        @Test(arguments: channelBackends)
        func inlineAndTaskHandlersShareTheConcurrencyLimit(backend: ReactorBackendKind?) async throws {
            try await withWatchdog(seconds: 120) {
                try await withHost(testConfiguration(backend)) { host in
                    try await host.addWorker(exampleLaunch(environment: ["RING_EXAMPLE_MAX_CONCURRENCY": "2"]))
                    let count: UInt64 = 3000
                    let problems = LockedBox<[String]>([])
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        var next: UInt64 = 0
                        func add() {
                            let n = next
                            next += 1
                            group.addTask(executorPreference: host.executor) {
                                let slow = n % 10 == 0
                                let sent = slow ? u32Payload(1) : payload(n, size: Int(n % 300))
                                let result = try await host.invoke(function: slow ? "slow" : "echo", payload: sent, context: context(n))
                                if result.status != .success || result.payload != sent || result.context != context(n) {
                                    problems.withLock { $0.append("invocation \(n): \(result.status), \(result.payload.count) bytes") }
                                }
                            }
                        }
                        for _ in 0..<64 { add() }
                        while try await group.next() != nil {
                            if next < count { add() }
                        }
                    }
                    #expect(problems.value == [])
                    #expect(host.workers.map(\.inFlight) == [0])
                }
            }
        }

        @Test(arguments: channelBackends)
        func payloadsFrom0BytesTo1MiBBothWays(backend: ReactorBackendKind?) async throws {
            try await withWatchdog(seconds: 120) {
                try await withHost(testConfiguration(backend)) { host in
                    try await host.addWorker(exampleLaunch())
                    let sizes = [0, 1, 64, 1000, 4096, 65536, 200_000, 1 << 20]
                    for (index, size) in sizes.enumerated() {
                        let n = UInt64(index)
                        let sent = payload(n, size: size)
                        let echo = try await host.invoke(function: "echo", payload: sent, context: context(n))
                        #expect(echo.status == .success)
                        #expect(echo.payload == sent, "echo of \(size) bytes")
                        #expect(echo.context == context(n))
                        let huge = try await host.invoke(function: "huge", payload: u32Payload(UInt32(size)), context: context(n + 100))
                        #expect(huge.payload == (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }, "reply of \(size) bytes")
                        #expect(huge.context == context(n + 100))
                    }
                    // 32 concurrent 1 MiB round trips through 1 MiB rings: fragments of different
                    // invocations interleave in both directions.
                    let (problems, first, _) = try await Self.load(host, count: 32, inFlight: 32) { _ in 1 << 20 }
                    #expect(problems == 0, "\(first ?? "")")
                }
            }
        }

        /// Status requests sent while fragmented invocations are in flight: a stream id names one
        /// message at a time whatever its kind, so a control request numbered like an invocation
        /// whose fragments are still arriving poisoned the worker's ring ("stream 2 starts a message
        /// while one is in progress", found by the TSan run). Control requests are numbered from
        /// 2^63 + 1, invocations below 2^63: every invocation and every status answer arrives.
        @Test func controlRequestsNeverShareAStreamWithAFragmentedInvocation() async throws {
            try await withWatchdog(seconds: 120) {
                try await withHost(testConfiguration()) { host in
                    let id = try await host.addWorker(exampleLaunch())
                    for round in 0..<4 {
                        try await withThrowingTaskGroup(of: Int.self) { group in
                            for n in 0..<8 {
                                group.addTask {
                                    let sent = payload(UInt64(round * 8 + n), size: 1 << 20)  // 1 MiB through 1 MiB rings: fragments
                                    let result = try await host.invoke(function: "echo", payload: sent, context: context(UInt64(round * 8 + n)))
                                    return result.status == .success && result.payload == sent ? 1 : 0
                                }
                            }
                            group.addTask {
                                var answered = 0
                                for _ in 0..<8 { if (try? await host.status(of: id, timeout: .seconds(30))) != nil { answered += 1 } }
                                return answered == 8 ? 0 : -100
                            }
                            var total = 0
                            for try await value in group { total += value }
                            #expect(total == 8, "round \(round): \(total)")
                        }
                    }
                    #expect(host.workers.map(\.inFlight) == [0])
                }
            }
        }

        @Test func theFallbackBackendServesLoad() async throws {
            try await withWatchdog(seconds: 120) {
                try await withHost(testConfiguration(.futexThread)) { host in
                    try await host.addWorker(exampleLaunch())
                    let (problems, first, byWorker) = try await Self.load(host, count: 5000, inFlight: 64) { n in Int(n % 300) }
                    #expect(problems == 0, "\(first ?? "")")
                    #expect(byWorker.values.reduce(0, +) == 5000)
                }
            }
        }

        @Test func statusesLogsAndPing() async throws {
            let logs = LogCapture()
            try await withWatchdog(seconds: 60) {
                try await withHost(logs: logs) { host in
                    let id = try await host.addWorker(exampleLaunch())
                    let failed = try await host.invoke(function: "fail", payload: [1, 2, 3], context: context(1))
                    #expect(failed.status == .failure(message: "requested failure"))
                    #expect(failed.payload == [1, 2, 3])
                    let thrown = try await host.invoke(function: "throw", payload: [], context: context(2))
                    #expect(thrown.status == .failure(message: "thrown by the handler"))
                    let unknown = try await host.invoke(function: "nope", payload: [], context: context(3))
                    #expect(unknown.status == .failure(message: "unknown function nope"))

                    let logged = try await host.invoke(function: "log", payload: u32Payload(3), context: context(4))
                    #expect(logged.status == .success)
                    let expectedID = "\(context(4).invocationId)"
                    for index in 0..<3 {
                        let record = await logs.first { $0.message == "record \(index)" && $0.metadata["invocation.id"] == expectedID }
                        #expect(record.metadata["worker.id"] == "\(id)")
                        #expect(record.metadata["index"] == "\(index)")
                        #expect(record.level == .info)
                    }
                    // The worker frees a handler slot just after writing its answer.
                    var status = try await host.status(of: id, timeout: .seconds(30))
                    while status.running != 0 { status = try await host.status(of: id, timeout: .seconds(30)) }
                    #expect(status.queued == 0 && status.completed == 4)
                    await #expect(throws: ChannelError.invalidFunctionName("")) {
                        _ = try await host.invoke(function: "", payload: [], context: context(5))
                    }
                    let tooLarge = smallSegment().maxMessageSize + 1
                    await #expect(throws: ChannelError.self) {
                        _ = try await host.invoke(function: "echo", payload: [UInt8](repeating: 0, count: tooLarge), context: context(6))
                    }
                }
            }
        }
    }
}
