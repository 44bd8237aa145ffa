// StressFaults — the fault injectors of `ringbench stress` (SIGKILL, SIGSTOP/SIGCONT, hostile
// worker) and the watcher of the host's worker events that times how fast each fault is detected.
// Every fault is recorded *before* it is injected, so the audit can always tell an error a fault
// explains from one it does not.
#if canImport(Glibc)
import Glibc
#endif
import RingChannel
import RingBenchKit
import RingCore
import Synchronization

/// What one fault did during a run.
package struct StressFaultReport: Codable, Sendable, Equatable {
    package var name: String
    /// Faults injected (kills sent, stalls, hostile invocations; for per-invocation faults the
    /// invocations that carried it).
    package var injected: UInt64
    /// Faults whose effect the host reported (worker ended event, protocol violation).
    package var detected: UInt64?
    /// From injection to the host's detection, in nanoseconds.
    package var detectionNanoseconds: StressPercentiles?
    /// From injection to the load generator receiving the host's event (adds the generator's own
    /// queueing on a saturated cooperative pool).
    package var observedNanoseconds: StressPercentiles? = nil
    /// Invocations that failed because of it, by error kind.
    package var failedInvocations: [String: UInt64]
    package var notes: [String: String]
}

/// p50 / p99 / max of a small sample set (exact: sorted samples).
package struct StressPercentiles: Codable, Sendable, Equatable {
    package var count: Int
    package var p50: UInt64
    package var p99: UInt64
    package var max: UInt64

    init?(_ samples: [UInt64]) {
        guard !samples.isEmpty else { return nil }
        let sorted = samples.sorted()
        func at(_ q: Double) -> UInt64 { sorted[Swift.min(sorted.count - 1, Int((Double(sorted.count) * q).rounded(.up)) - 1)] }
        count = sorted.count
        p50 = at(0.5)
        p99 = at(0.99)
        max = sorted.last!
    }
}

final class StressFaultInjector: Sendable {
    private struct State {
        var expectations = StressExpectations()
        /// pid → when its SIGKILL was sent.
        var pendingKills: [Int32: UInt64] = [:]
        var kills: UInt64 = 0
        var killDetections: [UInt64] = []
        /// From SIGKILL to the host's own detection (its reactor thread; see StressEndClock).
        var killHostDetections: [UInt64] = []
        var stopped: Set<Int32> = []
        var stalls: UInt64 = 0
        var stalledNanoseconds: UInt64 = 0
        /// pid → when its SIGSTOP was sent (stalls the liveness watch is expected to catch).
        var pendingStalls: [Int32: UInt64] = [:]
        var stallDetections: [UInt64] = []
        var hostileSent: UInt64 = 0
        var hostileDetections: [UInt64] = []
        var hostileOutcomes: [String: UInt64] = [:]
        var readyEvents: UInt64 = 0
        var startFailures: UInt64 = 0
        var restartsExhausted: UInt64 = 0
        /// Workers that ended with an error no fault of ours explains.
        var unexplainedEnds: [String] = []
        var skipped: UInt64 = 0
        /// Ends after the run began shutting the host down are the shutdown's, not the audit's.
        var shuttingDown = false
        var endsDuringShutdown: UInt64 = 0
    }

    private let state = RingMutex(State())
    let host: FunctionHost
    let plan: StressPlan
    let endClock: StressEndClock

    init(host: FunctionHost, plan: StressPlan, endClock: StressEndClock) {
        self.host = host
        self.plan = plan
        self.endClock = endClock
        state.withLock { $0.expectations.poolMayBeEmpty = plan.restartsWorkers }
    }

    var expectations: StressExpectations { state.withLock { $0.expectations } }

    /// From now on worker ends belong to the host's shutdown.
    func shutdownStarted() { state.withLock { $0.shuttingDown = true } }
    var unexplainedWorkerEnds: [String] { state.withLock { $0.unexplainedEnds } }

    /// Faults that were sent but could not take effect. A `hostile` invocation never answers from
    /// a worker that implements it (it scribbles over its ring, or is absorbed and hits its
    /// deadline); an answer means the worker does not implement `hostile`, and nothing was injected.
    var uninjected: [String] {
        state.withLock { state in
            guard let answered = state.hostileOutcomes["answered"], answered > 0 else { return [] }
            return ["fault hostile: \(answered) of \(state.hostileSent) `hostile` invocations were answered — the worker does not implement `hostile` (scribble over its own ring and never answer), so nothing was injected"]
        }
    }
    var kills: UInt64 { state.withLock { $0.kills } }

    /// Watches the host's events until the stream ends (at shutdown). Subscribe before the first
    /// fault.
    func watch(_ events: AsyncStream<WorkerEvent>) async {
        for await event in events {
            let now = MonotonicClock.now()
            let hostTime: UInt64? = if case .ended = event { endClock.takeOldest() } else { nil }
            state.withLock { state in
                switch event {
                case .ready: state.readyEvents += 1
                case .ended(let id, let pid, let error):
                    if let sent = state.pendingKills.removeValue(forKey: pid) {
                        state.killDetections.append(now &- sent)
                        if let hostTime { state.killHostDetections.append(hostTime &- min(hostTime, sent)) }
                    }
                    if case .workerStalled = error, let stopped = state.pendingStalls.removeValue(forKey: pid) {
                        state.stallDetections.append((hostTime ?? now) &- stopped)
                    }
                    let explained = error == nil || state.expectations.killed.contains(id) || state.expectations.hostile.contains(id)
                        || state.expectations.stalled.contains(id)
                    if state.shuttingDown {
                        state.endsDuringShutdown += 1
                    } else if !explained, state.unexplainedEnds.count < 8 {
                        state.unexplainedEnds.append("\(id) pid \(pid): \(error!)")
                    }
                case .startFailed: state.startFailures += 1
                case .restartsExhausted: state.restartsExhausted += 1
                case .restartScheduled, .peerRejected: break
                }
            }
        }
    }

    private func readyWorker() -> WorkerInfo? {
        host.workers.filter { $0.ready && $0.pid > 0 }.randomElement()
    }

    /// Every `every` seconds: SIGKILL a random ready worker (the host restarts it).
    func killLoop(every: Double) async {
        while await Self.pause(seconds: every) {
            guard let victim = readyWorker() else {
                state.withLock { $0.skipped += 1 }
                continue
            }
            state.withLock { state in
                state.expectations.killed.insert(victim.id)
                state.pendingKills[victim.pid] = MonotonicClock.now()
                state.kills += 1
            }
            kill(victim.pid, SIGKILL)
        }
    }

    /// Every `every` seconds: SIGSTOP a random worker for `plan.stallMilliseconds`, then SIGCONT. A
    /// stall longer than the host's liveness timeout must be detected (`workerStalled`): the time
    /// from SIGSTOP to the host's ended event is the detection time.
    func stallLoop(every: Double) async {
        while await Self.pause(seconds: every) {
            guard let victim = readyWorker() else { continue }
            let start = MonotonicClock.now()
            state.withLock { state in
                _ = state.stopped.insert(victim.pid)
                if plan.stallsEndWorkers {
                    state.expectations.stalled.insert(victim.id)
                    state.pendingStalls[victim.pid] = start
                }
            }
            kill(victim.pid, SIGSTOP)
            _ = await Self.pause(seconds: plan.stallMilliseconds / 1000)
            kill(victim.pid, SIGCONT)
            state.withLock { state in
                state.stopped.remove(victim.pid)
                state.stalls += 1
                state.stalledNanoseconds += MonotonicClock.now() &- start
            }
        }
    }

    /// Every `every` seconds: has a random worker scribble over its own ring (function `hostile`);
    /// the host must isolate it with `protocolViolation`, and restarts it. A busy worker's own
    /// writer may overwrite the garbage (tail and data) before the host reads it: then the worker
    /// keeps serving, the hostile invocation never answers, and its 2 s deadline ends it
    /// ("absorbed"). The worker stays in the hostile set: garbage found later is explained.
    func hostileLoop(every: Double) async {
        var n: UInt64 = 0
        while await Self.pause(seconds: every) {
            guard let victim = readyWorker() else { continue }
            n += 1
            state.withLock { state in
                state.expectations.hostile.insert(victim.id)
                state.hostileSent += 1
            }
            let start = MonotonicClock.now()
            let context = ForwardingContext(invocationId: ContextID(high: 0x4057_11E0_0000_0000, low: n))
            var kind = "answered"
            do {
                _ = try await host.invoke(on: victim.id, function: "hostile", payload: [], context: context, deadline: .after(.seconds(2)))
            } catch let error as ChannelError {
                kind = error.kind
            } catch {
                kind = "other"
            }
            let elapsed = MonotonicClock.now() &- start
            state.withLock { state in
                state.hostileOutcomes[kind, default: 0] += 1
                if kind == "protocolViolation" || kind == "workerExited" { state.hostileDetections.append(elapsed) }
            }
        }
    }

    /// Resumes every worker a stall left stopped (called when the loops are cancelled).
    func resumeStopped() {
        for pid in state.withLock({ $0.stopped }) { kill(pid, SIGCONT) }
    }

    /// Sleeps; false once the task is cancelled.
    static func pause(seconds: Double) async -> Bool {
        do {
            try await Task.sleep(nanoseconds: UInt64(seconds * 1e9))
            return true
        } catch {
            return false
        }
    }

    /// One report per process-level fault of the plan.
    func reports(counts: StressCounts) -> [StressFaultReport] {
        state.withLock { state in
            var reports: [StressFaultReport] = []
            let restarts = state.readyEvents > UInt64(plan.workers) ? state.readyEvents - UInt64(plan.workers) : 0
            if plan.killEvery != nil {
                reports.append(StressFaultReport(
                    name: "kill", injected: state.kills, detected: UInt64(state.killDetections.count),
                    detectionNanoseconds: StressPercentiles(state.killHostDetections),
                    observedNanoseconds: StressPercentiles(state.killDetections),
                    failedInvocations: counts.expectedErrorsByKind.filter { ["workerExited", "noWorkerAvailable"].contains($0.key) },
                    notes: ["restarts": "\(restarts)", "startFailures": "\(state.startFailures)",
                            "restartsExhausted": "\(state.restartsExhausted)", "noReadyWorkerAtTick": "\(state.skipped)"]))
            }
            if plan.stallEvery != nil {
                let restartsNote = plan.stallsEndWorkers ? ["restarts": "\(restarts)"] : [:]
                reports.append(StressFaultReport(
                    name: "stall", injected: state.stalls, detected: plan.stallsEndWorkers ? UInt64(state.stallDetections.count) : nil,
                    detectionNanoseconds: StressPercentiles(state.stallDetections),
                    failedInvocations: counts.expectedErrorsByKind.filter { ["workerStalled", "workerNotReady", "noWorkerAvailable"].contains($0.key) },
                    notes: ["stalledMilliseconds": Format.fixed(Double(state.stalledNanoseconds) / 1e6, 1),
                            "livenessTimeoutSeconds": "\(plan.livenessTimeout ?? 10)"].merging(restartsNote) { $1 }))
            }
            if plan.hostileEvery != nil {
                reports.append(StressFaultReport(
                    name: "hostile", injected: state.hostileSent, detected: UInt64(state.hostileDetections.count),
                    detectionNanoseconds: StressPercentiles(state.hostileDetections),
                    failedInvocations: counts.expectedErrorsByKind.filter { ["protocolViolation", "workerExited"].contains($0.key) },
                    notes: ["hostileInvocationOutcomes": state.hostileOutcomes.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ","),
                            "restarts": "\(restarts)"]))
            }
            return reports
        }
    }
}

extension StressFaultInjector {
    /// Waits (bounded) until every kill sent has been reported by the host.
    func awaitDetections(timeoutSeconds: Double) async {
        let deadline = MonotonicClock.now() &+ UInt64(timeoutSeconds * 1e9)
        while MonotonicClock.now() < deadline, state.withLock({ !$0.pendingKills.isEmpty }) {
            guard await Self.pause(seconds: 0.005) else { return }
        }
    }
}
