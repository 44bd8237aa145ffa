// ChannelPayloadWriterTests — requests written where they go (`invoke`/`submit` with
// `payloadCount:writingPayload:`) through real worker processes: echoes are byte-exact at every
// size (in one frame, in fragments), the writer runs exactly once per invocation that is sent, and
// never for one that fails before its request is written.
import RingChannel
import RingCore
import RingLinux
import RingTestSupport
import Testing

extension ChannelProcessTests {
    @Suite(.serialized) struct ChannelPayloadWriterTests {
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
                    var ended = 0
                    for await _ in ends {
                        ended += 1
                        if ended == 4 { break }
                    }
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
    }
}
