// InvocationBatch — many invocations sent together and awaited with one suspension
// (`FunctionHost.invoke(batch:)`): the caller's task is resumed once, when the last answer of its
// batch arrived, instead of once per invocation. Each invocation keeps its own number, context,
// deadline and outcome; a batch is a way to wait, not a new kind of message.
public import RingCore
import Synchronization

/// One invocation of a batch.
public struct InvocationRequest: Sendable {
    /// The function id (1…`ChannelProtocol.Limits.maxFunctionNameBytes` bytes of UTF-8).
    public var function: String
    public var payload: [UInt8]
    /// Carried in the request frame and echoed in the response frame.
    public var context: ForwardingContext

    public init(function: String, payload: [UInt8], context: ForwardingContext) {
        self.function = function
        self.payload = payload
        self.context = context
    }
}

/// What a single caller's task waits on. Debug builds check it (a continuation never resumed or
/// resumed twice traps with a message); release builds use the unchecked one, which costs no
/// allocation — the invocation table's state machine is what guarantees exactly one resume, and it
/// is tested in debug builds through the checked type.
#if DEBUG
typealias InvocationContinuation = CheckedContinuation<InvocationResult, any Error>
#else
typealias InvocationContinuation = UnsafeContinuation<InvocationResult, any Error>
#endif

/// How a caller waits for an invocation's outcome: alone, as one slot of a batch, or not at all (a
/// completion handler, `FunctionHost.submit`).
enum InvocationWaiter: Sendable {
    case single(InvocationContinuation)
    case batch(BatchCollector, index: Int)
    case completion(@Sendable (Result<InvocationResult, any Error>) -> Void)
    /// A completion that reads the answer in place (`submit(…, readingReplyInPlace:)`): the reader
    /// hands it a view of the response frame; any other outcome is viewed in its array. `counted`
    /// is the connection whose `inPlaceWaiting` counts it until it runs.
    case inPlace(InvocationReplyCompletion, counted: WorkerConnection)

    func resume(with outcome: Result<InvocationResult, any Error>) {
        switch self {
        case .single(let continuation): continuation.resume(with: outcome)
        case .batch(let collector, let index): collector.deliver(index, outcome)
        case .completion(let handler): handler(outcome)
        case .inPlace(let handler, let connection):
            connection.inPlaceWaiting.wrappingSubtract(1, ordering: .relaxed)
            InvocationReplyView.deliver(outcome, to: handler)
        }
    }
}

/// Collects the outcomes of a batch; resumes its one waiter when every slot has one. Each slot is
/// delivered exactly once (the invocation table guarantees one outcome per invocation; slots that
/// never reached the table are delivered by the batch itself).
final class BatchCollector: Sendable {
    private struct State {
        var outcomes: [Result<InvocationResult, any Error>?]
        var remaining: Int
        var waiter: CheckedContinuation<[Result<InvocationResult, any Error>], Never>?
    }

    private let state: RingMutex<State>

    init(count: Int) {
        state = RingMutex(State(outcomes: Array(repeating: nil, count: count), remaining: count))
    }

    func deliver(_ index: Int, _ outcome: Result<InvocationResult, any Error>) {
        let done = state.withLock { state -> (CheckedContinuation<[Result<InvocationResult, any Error>], Never>, [Result<InvocationResult, any Error>])? in
            precondition(state.outcomes[index] == nil, "batch slot \(index) delivered twice")
            state.outcomes[index] = outcome
            state.remaining -= 1
            guard state.remaining == 0, let waiter = state.waiter else { return nil }
            state.waiter = nil
            return (waiter, state.outcomes.map { $0! })
        }
        if let (waiter, outcomes) = done { waiter.resume(returning: outcomes) }
    }

    /// Every slot's outcome, in order, once all arrived.
    nonisolated(nonsending) func wait() async -> [Result<InvocationResult, any Error>] {
        await withCheckedContinuation { continuation in
            let ready = state.withLock { state -> [Result<InvocationResult, any Error>]? in
                if state.remaining == 0 { return state.outcomes.map { $0! } }
                state.waiter = continuation
                return nil
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }
}
