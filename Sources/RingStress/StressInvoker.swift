// StressInvoker — one audited invocation: build it from its id, send it (the normal way, or the
// negative control's broken way), apply the caller's cancellation, and hand the verdict to the
// ledger. Exactly one `record` per `issue`.
import RingChannel
import RingBenchKit
import RingCore
import Synchronization

struct StressInvoker: Sendable {
    let host: FunctionHost
    let plan: StressPlan
    let ledger: StressLedger
    let faults: StressFaultInjector
    let sideTable: StressSideTable?
    let tally: StressLoadTally

    /// Runs invocation `id` to its outcome. Returns false if the ledger is closed (run over).
    @discardableResult
    func run(_ id: UInt64) async -> Bool {
        let invocation = StressInvocation(id: id, plan: plan, now: MonotonicClock.now())
        guard ledger.issue(id) else { return false }
        tally.count(invocation)
        let start = MonotonicClock.now()
        let verdict: StressVerdict
        if let delay = invocation.cancelAfterNanoseconds {
            let task = Task { await self.attempt(invocation, cancelled: true) }
            try? await Task.sleep(nanoseconds: delay)
            task.cancel()
            verdict = await task.value
        } else {
            verdict = await attempt(invocation, cancelled: false)
        }
        ledger.record(id, verdict, latencyNanoseconds: MonotonicClock.now() &- start)
        if case .expectedError(kind: "noWorkerAvailable") = verdict {
            // Every worker is down (kill/hostile faults): do not spin; the restart is ms away.
            try? await Task.sleep(nanoseconds: 1_000_000)
        }
        return true
    }

    private func attempt(_ invocation: StressInvocation, cancelled: Bool) async -> StressVerdict {
        do {
            if let sideTable {
                return try await brokenAttempt(invocation, sideTable: sideTable, cancelled: cancelled)
            }
            let result = try await host.invoke(function: "digest", payload: invocation.request, context: invocation.context)
            // The reply path uses the context decoded from the response frame.
            let verdict = StressAudit.verdict(
                on: result, invocation: invocation, frameContext: invocation.context, replyContext: result.context, cancelled: cancelled)
            if case .verified = verdict { return verdict }
            return StressAudit.attributing(verdict, to: result.workerID, expectations: faults.expectations)
        } catch {
            return StressAudit.verdict(on: error, invocation: invocation, cancelled: cancelled, expectations: faults.expectations)
        }
    }

    /// The negative control: the original host's order. The request goes out with a stripped
    /// context; only then does the sender store the forwarding context in a side table, which the
    /// reply path reads when the answer arrives.
    private func brokenAttempt(_ invocation: StressInvocation, sideTable: StressSideTable, cancelled: Bool) async throws -> StressVerdict {
        let id = invocation.id
        defer { sideTable.forget(id) }
        async let answer = Self.replyPath(host: host, invocation: invocation, sideTable: sideTable)
        await Task.yield()
        sideTable.store(id, invocation.context, drop: plan.negativeControl?.drops(id) ?? false)
        let (result, seen) = try await answer
        return StressAudit.verdict(
            on: result, invocation: invocation, frameContext: invocation.strippedContext, replyContext: seen, cancelled: cancelled)
    }

    private static func replyPath(
        host: FunctionHost, invocation: StressInvocation, sideTable: StressSideTable
    ) async throws -> (InvocationResult, ForwardingContext?) {
        let result = try await host.invoke(function: "digest", payload: invocation.request, context: invocation.strippedContext)
        return (result, sideTable.take(invocation.id))
    }
}

/// Invocations that carried a per-invocation fault (for the fault report).
final class StressLoadTally: Sendable {
    private let state = RingMutex((cancel: UInt64(0), deadline: UInt64(0), huge: UInt64(0), bytes: UInt64(0)))

    func count(_ invocation: StressInvocation) {
        state.withLock { state in
            if invocation.cancelAfterNanoseconds != nil { state.cancel += 1 }
            if invocation.hasDeadline { state.deadline += 1 }
            if invocation.isHuge { state.huge += 1 }
            state.bytes += UInt64(invocation.request.count + invocation.replySize)
        }
    }

    var snapshot: (cancel: UInt64, deadline: UInt64, huge: UInt64, bytes: UInt64) { state.withLock { $0 } }
}
