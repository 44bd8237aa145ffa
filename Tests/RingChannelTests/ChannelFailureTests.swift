// ChannelFailureTests — workers that die or misbehave: SIGKILL mid-load (every in-flight invocation
// gets exactly one outcome, the typed error), crashes, restarts with backoff, and a hostile worker
// that writes garbage into its ring while another keeps serving.
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
    @Suite(.serialized) struct ChannelFailureTests {
        @Test(arguments: channelBackends)
        func sigkillMidLoadFailsEveryInFlightInvocationOnceAndARestartTakesOver(backend: ReactorBackendKind?) async throws {
            try await withWatchdog(seconds: 120) {
                try await withHost(testConfiguration(backend)) { host in
                    let events = host.events()
                    let policy = RestartPolicy(maxRestarts: 3, initialBackoff: .milliseconds(10))
                    let victim = try await host.addWorker(exampleLaunch(name: "victim", restart: policy))
                    let survivor = try await host.addWorker(exampleLaunch(name: "survivor"))
                    let victimPID = host.workers.first { $0.id == victim }!.pid

                    // 300 invocations pinned to the victim that cannot finish on their own, plus a
                    // stream of echoes to the survivor that runs across the kill.
                    let pinned = (0..<300).map { n in
                        Task { try await host.invoke(on: victim, function: n % 2 == 0 ? "hang" : "slow", payload: u32Payload(600_000), context: context(UInt64(n))) }
                    }
                    while true {
                        let status = try await host.status(of: victim, timeout: .seconds(30))
                        if status.running + status.queued == 300 { break }
                        await Task.yield()
                    }
                    let echoes = Task {
                        var answered = 0
                        for n in 0..<500 as Range<UInt64> {
                            let result = try await host.invoke(on: survivor, function: "echo", payload: payload(n, size: 100), context: context(10_000 + n))
                            if result.payload == payload(n, size: 100) && result.context == context(10_000 + n) { answered += 1 }
                        }
                        return answered
                    }
                    kill(victimPID, SIGKILL)
                    let expected = ChannelError.workerExited(workerID: victim, pid: victimPID, status: .signaled(SIGKILL))
                    var outcomes = 0
                    for task in pinned {
                        await #expect(throws: expected) { _ = try await task.value }
                        outcomes += 1
                    }
                    #expect(outcomes == 300)
                    #expect(try await echoes.value == 500)

                    // The restart policy brings a new generation of the slot.
                    let ended = await next(events) { if case .ended(victim, _, _) = $0 { true } else { false } }
                    #expect(ended == .ended(victim, pid: victimPID, error: expected))
                    let scheduled = await next(events) { if case .restartScheduled = $0 { true } else { false } }
                    #expect(scheduled == .restartScheduled(victim, attempt: 1, delay: .milliseconds(10)))
                    let ready = await next(events) { if case .ready(let id, _) = $0, id.name == "victim" { true } else { false } }
                    guard case .ready(let replacement, _) = ready else {
                        Issue.record("no replacement")
                        return
                    }
                    #expect(replacement == WorkerID(name: "victim", generation: 1))
                    let result = try await host.invoke(on: replacement, function: "echo", payload: [1, 2], context: context(5))
                    #expect(result.payload == [1, 2] && result.workerID == replacement)
                }
            }
        }

        @Test func aCrashingHandlerFailsItsInvocationWithTheExitStatusAndOthersWithIt() async throws {
            try await withWatchdog(seconds: 60) {
                try await withHost { host in
                    let id = try await host.addWorker(exampleLaunch())
                    let pid = host.workers[0].pid
                    let hanging = (0..<10).map { n in Task { try await host.invoke(function: "hang", payload: [], context: context(UInt64(n))) } }
                    while try await host.status(of: id, timeout: .seconds(30)).running < 10 { await Task.yield() }
                    let expected = ChannelError.workerExited(workerID: id, pid: pid, status: .signaled(SIGABRT))
                    await #expect(throws: expected) { _ = try await host.invoke(function: "crash", payload: [], context: context(99)) }
                    for task in hanging { await #expect(throws: expected) { _ = try await task.value } }
                    await #expect(throws: ChannelError.noWorkerAvailable) { _ = try await host.invoke(function: "echo", payload: [], context: context(1)) }
                    // Exit statuses are reported as they are.
                    let second = try await host.addWorker(exampleLaunch())
                    let secondPID = host.workers[0].pid
                    await #expect(throws: ChannelError.workerExited(workerID: second, pid: secondPID, status: .exited(9))) {
                        _ = try await host.invoke(function: "exit", payload: [9], context: context(2))
                    }
                }
            }
        }

        @Test(arguments: channelBackends)
        func aHostileWorkerIsIsolatedWhileAnotherKeepsServing(backend: ReactorBackendKind?) async throws {
            try await withWatchdog(seconds: 120) {
                try await withHost(testConfiguration(backend)) { host in
                    let events = host.events()
                    let hostile = try await host.addWorker(exampleLaunch(name: "hostile"))
                    let good = try await host.addWorker(exampleLaunch(name: "good"))
                    let hostilePID = host.workers.first { $0.id == hostile }!.pid
                    let pending = (0..<20).map { n in
                        Task { try await host.invoke(on: hostile, function: "hang", payload: [], context: context(UInt64(n))) }
                    }
                    while try await host.status(of: hostile, timeout: .seconds(30)).running < 20 { await Task.yield() }
                    let serving = Task {
                        var answered = 0
                        for n in 0..<300 as Range<UInt64> {
                            let result = try await host.invoke(on: good, function: "echo", payload: payload(n, size: 64), context: context(500 + n))
                            if result.payload == payload(n, size: 64) && result.context == context(500 + n) { answered += 1 }
                        }
                        return answered
                    }
                    let trigger = Task { try await host.invoke(on: hostile, function: "hostile", payload: [], context: context(99)) }

                    for task in pending + [trigger] {
                        do {
                            _ = try await task.value
                            Issue.record("an invocation on the hostile worker succeeded")
                        } catch ChannelError.protocolViolation(let workerID, let pid, _) {
                            #expect(workerID == hostile && pid == hostilePID)
                        } catch {
                            Issue.record("unexpected \(error)")
                        }
                    }
                    #expect(try await serving.value == 300)
                    let ended = await next(events) { if case .ended(hostile, _, _) = $0 { true } else { false } }
                    guard case .ended(_, _, .protocolViolation(hostile, hostilePID, _)) = ended else {
                        Issue.record("hostile worker ended with \(String(describing: ended))")
                        return
                    }
                    #expect(host.workers.map(\.id) == [good])
                    let after = try await host.invoke(function: "echo", payload: [7], context: context(1))
                    #expect(after.workerID == good)
                }
            }
        }
    }
}
