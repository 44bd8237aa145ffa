// ChannelLivenessTests — the liveness watch: a worker that stays alive but stops (SIGSTOP) with
// invocations in flight is found stalled, killed, every invocation it held fails once with
// `workerStalled`, and the restart policy brings the slot back; a worker that is merely slow (an
// async handler that takes many timeouts) answers the watch's pings and is left alone.
#if canImport(Glibc)
import Glibc
#endif
import RingChannel
import RingCore
import RingLinux
import RingTestSupport
import Testing

extension ChannelProcessTests {
    @Suite(.serialized) struct ChannelLivenessTests {
        static func configuration(_ backend: ReactorBackendKind?, timeout: Duration) -> FunctionHostConfiguration {
            var configuration = testConfiguration(backend)
            configuration.livenessTimeout = timeout
            return configuration
        }

        @Test(arguments: channelBackends)
        func aStoppedWorkerIsFoundStalledKilledAndRestarted(backend: ReactorBackendKind?) async throws {
            try await withWatchdog(seconds: 120) {
                let timeout = Duration.milliseconds(400)
                try await withHost(Self.configuration(backend, timeout: timeout)) { host in
                    let events = host.events()
                    let victim = try await host.addWorker(exampleLaunch(name: "victim", restart: RestartPolicy(maxRestarts: 1, initialBackoff: .milliseconds(10))))
                    let pid = host.workers[0].pid
                    let held = (0..<20).map { n in Task { try await host.invoke(function: "hang", payload: [], context: context(UInt64(n))) } }
                    while try await host.status(of: victim, timeout: .seconds(30)).running < 20 { await Task.yield() }
                    kill(pid, SIGSTOP)
                    let expected = ChannelError.workerStalled(workerID: victim, pid: pid, silentFor: timeout)
                    for task in held { await #expect(throws: expected) { _ = try await task.value } }
                    let ended = await next(events) { if case .ended(victim, _, _) = $0 { true } else { false } }
                    #expect(ended == .ended(victim, pid: pid, error: expected))
                    let ready = await next(events) { if case .ready(let id, _) = $0, id.name == "victim" { true } else { false } }
                    guard case .ready(let replacement, _) = ready else {
                        Issue.record("no replacement")
                        return
                    }
                    #expect(replacement == WorkerID(name: "victim", generation: 1))
                    let result = try await host.invoke(function: "echo", payload: [7], context: context(99))
                    #expect(result.payload == [7] && result.workerID == replacement)
                }
            }
        }

        /// `slow` sleeps 3 s in an async handler — five liveness timeouts of 600 ms — while the
        /// worker's reader answers every ping: the invocation succeeds.
        @Test(arguments: channelBackends)
        func aSlowWorkerThatAnswersPingsIsLeftAlone(backend: ReactorBackendKind?) async throws {
            try await withWatchdog(seconds: 120) {
                try await withHost(Self.configuration(backend, timeout: .milliseconds(600))) { host in
                    let id = try await host.addWorker(exampleLaunch())
                    let result = try await host.invoke(function: "slow", payload: u32Payload(3000), context: context(1))
                    #expect(result.status == .success && result.payload == u32Payload(3000) && result.workerID == id)
                }
            }
        }
    }
}
