// CompletionLoop — `ringbench invoke --callers completion`: the closed loop of `InvokeCommand`
// without a task per call. `chains` invocations are submitted with `FunctionHost.submit`; each
// completion checks its answer, records its latency and submits the next, until the end time. What
// it measures is the transport and the host's invocation bookkeeping without Swift Concurrency's
// cost per task resumption. With `inPlace` (`--callers completion-in-place`) each answer is read
// where it lies (`submit(…, readingReplyInPlace:)`): no array per reply.
import ArgumentParser
import RingChannel
import RingCore
import Synchronization

enum CompletionLoop {
    /// Latencies (ns) of the invocations that started at or after `start`; throws the first
    /// failure (a wrong answer, an error) after every chain has stopped.
    static func run(
        host: FunctionHost, chains: Int, payload: [UInt8], until end: UInt64, countingFrom start: UInt64, inPlace: Bool = false
    ) async throws -> [UInt64] {
        let state = LoopState()
        let (stopped, stop) = AsyncStream<Void>.makeStream()
        for chain in 0..<chains {
            submit(host: host, chain: UInt64(chain), n: 1, payload: payload, end: end, start: start, inPlace: inPlace, state: state, stop: stop)
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
        host: FunctionHost, chain: UInt64, n: UInt64, payload: [UInt8], end: UInt64, start: UInt64, inPlace: Bool,
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
        /// Records the answer (or the problem with it) and submits the next invocation of the chain.
        @Sendable func settle(_ problem: (any Error)?) {
            let after = MonotonicClock.now()
            let go = state.lock.withLock { state -> Bool in
                if let problem, state.failure == nil { state.failure = problem }
                if before >= start { state.samples.append(after - before) }
                return state.failure == nil
            }
            if go {
                submit(host: host, chain: chain, n: n + 1, payload: payload, end: end, start: start, inPlace: inPlace, state: state, stop: stop)
            } else {
                stop.yield()
            }
        }
        @Sendable func check(status: InvocationStatus, answeredFor id: ContextID, count: Int) -> (any Error)? {
            guard status == .success, id == invocationID, count == payload.count else {
                return ValidationError("echo answered \(status) with \(count) bytes for \(invocationID)")
            }
            return nil
        }
        do {
            if inPlace {
                try host.submit(function: "echo", payload: payload, context: context, readingReplyInPlace: { outcome in
                    switch outcome {
                    case .success(let view): settle(check(status: view.status, answeredFor: view.context.invocationId, count: view.payloadCount))
                    case .failure(let error): settle(error)
                    }
                })
            } else {
                try host.submit(function: "echo", payload: payload, context: context) { outcome in
                    switch outcome {
                    case .success(let result): settle(check(status: result.status, answeredFor: result.context.invocationId, count: result.payload.count))
                    case .failure(let error): settle(error)
                    }
                }
            }
        } catch {
            state.lock.withLock { if $0.failure == nil { $0.failure = error } }
            stop.yield()
        }
    }
}
