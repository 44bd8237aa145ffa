// StressRun — one stress run end to end: a host with W restartable workers, the event watcher, the
// fault loops, the load, the resource sampler; then drain, close the ledger, shut down, report.
package import Logging
import RingChannel
import RingBenchKit
import RingCore
import Synchronization

package struct StressRun: Sendable {
    package var plan: StressPlan
    /// Path of RingExampleWorker (it implements `digest` and `hostile`).
    package var workerExecutable: String
    package var logger: Logger
    /// Receives a progress line every `plan.progressInterval` seconds.
    package var progress: @Sendable (String) -> Void

    package init(plan: StressPlan, workerExecutable: String, logger: Logger, progress: @escaping @Sendable (String) -> Void = { _ in }) {
        self.plan = plan
        self.workerExecutable = workerExecutable
        self.logger = logger
        self.progress = progress
    }

    var hostConfiguration: FunctionHostConfiguration {
        var configuration = FunctionHostConfiguration()
        let maxMessage = max(plan.largestMessage + 4096, 1 << 20)
        configuration.segment = plan.tinyRing
            ? SegmentConfiguration(hostToWorkerCapacity: 64 << 10, workerToHostCapacity: 64 << 10, maxMessageSize: maxMessage)
            : SegmentConfiguration(maxMessageSize: maxMessage)
        configuration.killMargin = .milliseconds(500)
        configuration.segmentName = "ringstress"
        configuration.startTimeout = .milliseconds(Int64(plan.workerStartTimeout * 1000))
        if let timeout = plan.livenessTimeout { configuration.livenessTimeout = .nanoseconds(Int64(timeout * 1e9)) }
        return configuration
    }

    package func run() async throws -> StressReport {
        try plan.validate()
        let endClock = StressEndClock()
        let host = try FunctionHost(configuration: hostConfiguration, logger: logger, metricsFactory: endClock)
        let faults = StressFaultInjector(host: host, plan: plan, endClock: endClock)
        let watcher = Task { [events = host.events()] in await faults.watch(events) }
        let restart = plan.restartsWorkers
            ? RestartPolicy(maxRestarts: 1_000_000, initialBackoff: .milliseconds(10), maxBackoff: .milliseconds(500)) : nil
        do {
            for index in 0..<plan.workers {
                try await host.addWorker(WorkerLaunch(executable: workerExecutable, environment: plan.workerEnvironment, name: "stress\(index)", restart: restart))
            }
        } catch {
            await host.shutdown(gracePeriod: .zero)
            await watcher.value
            throw error
        }

        let ledger = StressLedger(limit: plan.invocationLimit)
        let sideTable = plan.negativeControl.map { _ in StressSideTable() }
        let tally = StressLoadTally()
        let invoker = StressInvoker(host: host, plan: plan, ledger: ledger, faults: faults, sideTable: sideTable, tally: tally)
        let samples = RingMutex((rss: [Double](), fds: [Double]()))
        let start = MonotonicClock.now()
        let end = start &+ UInt64(plan.duration * 1e9)

        var faultTasks: [Task<Void, Never>] = []
        if let every = plan.killEvery { faultTasks.append(Task { await faults.killLoop(every: every) }) }
        if let every = plan.stallEvery { faultTasks.append(Task { await faults.stallLoop(every: every) }) }
        if let every = plan.hostileEvery { faultTasks.append(Task { await faults.hostileLoop(every: every) }) }
        let sampler = Task { [plan, progress] in
            var nextProgress = start &+ UInt64(plan.progressInterval * 1e9)
            while await StressFaultInjector.pause(seconds: plan.sampleInterval) {
                let rss = ProcessResourceSample.residentBytes(), fds = ProcessResourceSample.openDescriptors()
                samples.withLock {
                    $0.rss.append(rss)
                    $0.fds.append(fds)
                }
                let now = MonotonicClock.now()
                if now >= nextProgress {
                    nextProgress = now &+ UInt64(plan.progressInterval * 1e9)
                    progress(Self.progressLine(ledger.counts, seconds: Double(now - start) / 1e9, kills: faults.kills, rss: rss, fds: fds))
                }
            }
        }
        let load = Task { await StressLoad.run(plan, invoker: invoker, ledger: ledger, end: end) }

        // Faults run while invocations are issued, then stop; in-flight invocations get the drain
        // timeout to finish; whatever is still open then is lost.
        _ = await Self.race(load, seconds: Double(end &- min(end, MonotonicClock.now())) / 1e9)
        while faults.kills < UInt64(plan.minimumKills), await StressFaultInjector.pause(seconds: 0.01) {}
        for task in faultTasks { task.cancel() }
        for task in faultTasks { await task.value }
        faults.resumeStopped()
        if await !Self.race(load, seconds: plan.drainTimeout) {
            _ = ledger.close()
            load.cancel()
        }
        let shed = await load.value
        let loadSeconds = Double(MonotonicClock.now() - start) / 1e9
        let counts = ledger.close()
        await faults.awaitDetections(timeoutSeconds: 5)
        sampler.cancel()
        await sampler.value
        faults.shutdownStarted()
        await host.shutdown(gracePeriod: .seconds(2))
        await watcher.value

        let snapshot = tally.snapshot
        let sampled = samples.withLock { $0 }
        var faultReports = faults.reports(counts: counts)
        if plan.tinyRing {
            faultReports.append(StressFaultReport(
                name: "tiny-ring", injected: counts.issued, detected: nil, detectionNanoseconds: nil, failedInvocations: [:],
                notes: ["ringCapacity": "64 KiB each way", "maxFrameLength": Format.bytes(hostConfiguration.segment.maxFrameLength)]))
        }
        if plan.cancelFraction > 0 {
            faultReports.append(StressFaultReport(
                name: "cancel", injected: snapshot.cancel, detected: nil, detectionNanoseconds: nil,
                failedInvocations: counts.expectedErrorsByKind.filter { $0.key == "cancelled" }, notes: ["fraction": "\(plan.cancelFraction)"]))
        }
        if plan.deadlineFraction > 0 {
            faultReports.append(StressFaultReport(
                name: "deadline", injected: snapshot.deadline, detected: nil, detectionNanoseconds: nil,
                failedInvocations: counts.expectedErrorsByKind.filter { ["deadlineExceeded", "cancelledByWorker"].contains($0.key) },
                notes: ["fraction": "\(plan.deadlineFraction)"]))
        }
        if plan.hugeFraction > 0 {
            faultReports.append(StressFaultReport(
                name: "huge", injected: snapshot.huge, detected: nil, detectionNanoseconds: nil, failedInvocations: [:],
                notes: ["sizes": "\(Format.bytes(StressSizeMix.hugeRange.lowerBound))…\(Format.bytes(StressSizeMix.hugeRange.upperBound))"]))
        }
        let negative = sideTable.map { table in
            let tally = table.tally
            return StressReport.NegativeControlReport(
                dropFraction: plan.negativeControl!.dropFraction, storesDropped: tally.dropped, storesTooLate: tally.late)
        }
        return StressReport(
            parameters: parameters, loadSeconds: loadSeconds, outcomesPerSecond: Double(counts.outcomes) / max(loadSeconds, 1e-9),
            payloadBytes: snapshot.bytes, counts: counts, latencyNanoseconds: ledger.latency, faults: faultReports,
            resources: StressResourceReport(rss: sampled.rss, descriptors: sampled.fds), negativeControl: negative,
            unexplainedWorkerEnds: faults.unexplainedWorkerEnds, uninjectedFaults: faults.uninjected, shed: shed, machine: .current())
    }

    var parameters: [String: String] {
        var p: [String: String] = ["workers": "\(plan.workers)", "sizes": plan.sizes.description, "duration": "\(plan.duration)s"]
        switch plan.load {
        case .closed(let c): p["load"] = "closed:\(c)"
        case .open(let rate, let cap): p["load"] = "open:\(rate)/s,cap \(cap)"
        }
        if let limit = plan.invocationLimit { p["invocations"] = "\(limit)" }
        p["faults"] = plan.faultNames.isEmpty ? "none" : plan.faultNames.joined(separator: ",")
        if let every = plan.killEvery { p["killEvery"] = "\(every)s" }
        if plan.minimumKills > 0 { p["minKills"] = "\(plan.minimumKills)" }
        if let every = plan.stallEvery { p["stallEvery"] = "\(every)s/\(plan.stallMilliseconds)ms" }
        if let timeout = plan.livenessTimeout { p["livenessTimeout"] = "\(timeout)s" }
        if let every = plan.hostileEvery { p["hostileEvery"] = "\(every)s" }
        if let control = plan.negativeControl { p["negativeControl"] = "late-store,drop=\(control.dropFraction)" }
        return p
    }

    static func progressLine(_ c: StressCounts, seconds: Double, kills: UInt64, rss: Double, fds: Double) -> String {
        "[\(Format.fixed(seconds, 0)) s] outcomes \(c.outcomes) (\(Format.rate(Double(c.outcomes) / max(seconds, 1e-9)))/s) "
            + "verified \(c.verified) expected errors \(c.expectedErrors) violations \(c.violations) kills \(kills) "
            + "rss \(Format.fixed(rss / 1_048_576, 1)) MiB fds \(Int(fds))"
    }

    /// Waits for `task` to finish or `seconds` to pass, whichever is first; true if the task finished.
    static func race<T: Sendable>(_ task: Task<T, Never>, seconds: Double) async -> Bool {
        let once = OnceContinuation()
        let timer = Task {
            _ = await StressFaultInjector.pause(seconds: seconds)
            once.resume(false)
        }
        let finished = await withCheckedContinuation { continuation in
            once.set(continuation)
            Task {
                _ = await task.value
                once.resume(true)
            }
        }
        timer.cancel()
        return finished
    }
}

/// A continuation resumed by the first of several racers.
final class OnceContinuation: Sendable {
    private let state = RingMutex<(continuation: CheckedContinuation<Bool, Never>?, early: Bool?)>((nil, nil))

    func set(_ continuation: CheckedContinuation<Bool, Never>) {
        let early = state.withLock { state -> Bool? in
            if let early = state.early { return early }
            state.continuation = continuation
            return nil
        }
        if let early { continuation.resume(returning: early) }
    }

    func resume(_ value: Bool) {
        let continuation = state.withLock { state -> CheckedContinuation<Bool, Never>? in
            if state.early != nil { return nil }
            state.early = value
            defer { state.continuation = nil }
            return state.continuation
        }
        continuation?.resume(returning: value)
    }
}
