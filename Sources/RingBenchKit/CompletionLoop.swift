// CompletionLoop — `ringbench invoke --callers completion`: the closed loop of `InvokeCommand`
// without a task per call. `chains` invocations are submitted with `FunctionHost.submit`; each
// completion checks its answer, records its latency and submits the next, until the end time. What
// it measures is the transport and the host's invocation bookkeeping without Swift Concurrency's
// cost per task resumption.
import ArgumentParser
import RingChannel
import RingCore
import Synchronization

enum CompletionLoop {
    /// Latencies (ns) of the invocations that started at or after `start`; throws the first
    /// failure (a wrong answer, an error) after every chain has stopped.
    static func run(host: FunctionHost, chains: Int, payload: [UInt8], until end: UInt64, countingFrom start: UInt64) async throws -> [UInt64] {
        let state = LoopState()
        let (stopped, stop) = AsyncStream<Void>.makeStream()
        for chain in 0..<chains {
            submit(host: host, chain: UInt64(chain), n: 1, payload: payload, end: end, start: start, state: state, stop: stop)
        }
        var remaining = chains
        for await _ in stopped {
            remaining -= 1
            if remaining == 0 { break }
        }
        let (samples, failure) = state.lock.withLock { ($0.samples, $0.failure) }
        if let failure { throw failure }
        return samples
    }

    private struct State {
        var samples: [UInt64] = []
        var failure: (any Error)?
    }

    /// Shared by every chain's completions (on the host reactor's thread: the lock is uncontended).
    private final class LoopState: Sendable {
        let lock = Mutex(State())
    }

    private static func submit(
        host: FunctionHost, chain: UInt64, n: UInt64, payload: [UInt8], end: UInt64, start: UInt64,
        state: LoopState, stop: AsyncStream<Void>.Continuation
    ) {
        let before = MonotonicClock.now()
        guard before < end else {
            stop.yield()
            return
        }
        let id = chain << 40 | n
        let invocationID = ContextID(high: id, low: ~id)
        let context = ForwardingContext(invocationId: invocationID)
        do {
            try host.submit(function: "echo", payload: payload, context: context) { outcome in
                let after = MonotonicClock.now()
                let problem: (any Error)?
                switch outcome {
                case .success(let result) where result.status == .success && result.context.invocationId == invocationID
                    && result.payload.count == payload.count:
                    problem = nil
                case .success(let result):
                    problem = ValidationError("echo answered \(result.status) with \(result.payload.count) bytes for \(invocationID)")
                case .failure(let error):
                    problem = error
                }
                let go = state.lock.withLock { state -> Bool in
                    if let problem, state.failure == nil { state.failure = problem }
                    if before >= start { state.samples.append(after - before) }
                    return state.failure == nil
                }
                if go {
                    submit(host: host, chain: chain, n: n + 1, payload: payload, end: end, start: start, state: state, stop: stop)
                } else {
                    stop.yield()
                }
            }
        } catch {
            state.lock.withLock { if $0.failure == nil { $0.failure = error } }
            stop.yield()
        }
    }
}
