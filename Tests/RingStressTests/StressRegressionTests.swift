// Regressions found by `ringbench stress`, each reproduced deterministically.
#if canImport(Glibc)
import Glibc
#endif
import Logging
import RingChannel
import RingCore
import RingLinux
import RingTestSupport
import Testing

@Suite(.serialized) struct StressRegressionTests {
    /// Whether `pid` is stopped (state T in /proc/pid/stat).
    static func isStopped(_ pid: Int32) -> Bool {
        guard let file = fopen("/proc/\(pid)/stat", "r") else { return false }
        defer { fclose(file) }
        var buffer = [CChar](repeating: 0, count: 512)
        guard fgets(&buffer, Int32(buffer.count), file) != nil else { return false }
        let line = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        guard let close = line.lastIndex(of: ")") else { return false }
        return line[line.index(after: close)...].dropFirst().first == "T"
    }

    /// A worker killed while the host waits for room to send a request: the send fails, and the
    /// host used to trap ("Recursive call to lock Mutex" in WorkerConnection.transmitFailed). The
    /// invocation must fail with `workerExited` and the host stay up.
    @Test func workerKilledDuringABlockedSendFailsTheInvocation() async throws {
        // Generous: in the full suite, synchronous tests can hold both cooperative threads for minutes.
        try await withWatchdog(seconds: 600) {
            var configuration = FunctionHostConfiguration(
                segment: SegmentConfiguration(hostToWorkerCapacity: 64 << 10, workerToHostCapacity: 64 << 10, maxMessageSize: 4 << 20))
            configuration.killMargin = .milliseconds(200)
            // The full suite can starve this process's cooperative pool: a start may take long.
            configuration.startTimeout = .seconds(300)
            let host = try FunctionHost(configuration: configuration, logger: Logger(label: "host") { _ in SwiftLogNoOpLogHandler() })
            let id = try await host.addWorker(WorkerLaunch(executable: stressWorkerPath(), name: "blocked"))
            let pid = try #require(host.workers.first { $0.id == id }).pid
            kill(pid, SIGSTOP)
            // The worker is our child: waitid blocks until the stop is reported (WNOWAIT leaves it
            // for anyone else; returns at once, the SIGSTOP is already on its way).
            var info = siginfo_t()
            while waitid(P_PID, id_t(pid), &info, WSTOPPED | WNOWAIT) == -1 && errno == EINTR {}
            #expect(Self.isStopped(pid))
            // 1 MiB through a 64 KiB ring to a stopped worker: the send must wait for room.
            let invocation = Task {
                try await host.invoke(function: "echo", payload: [UInt8](repeating: 7, count: 1 << 20),
                                      context: ForwardingContext(invocationId: ContextID(high: 1, low: 2)))
            }
            // Until the invocation is dispatched (its send then blocks on the full ring).
            while host.workers.first(where: { $0.id == id })?.inFlight != 1 { await Task.yield() }
            kill(pid, SIGKILL)
            do {
                _ = try await invocation.value
                Issue.record("the invocation succeeded on a killed worker")
            } catch let error as ChannelError {
                guard case .workerExited(let worker, _, _) = error else {
                    Issue.record("expected workerExited, got \(error)")
                    return
                }
                #expect(worker == id)
            }
            // The aborted send fails on its own task after the invocation's waiter was resumed;
            // before the fix it trapped the whole test process when it ran (here or later).
            for _ in 0..<100 { await Task.yield() }
            await host.shutdown(gracePeriod: .zero)
        }
    }
}
