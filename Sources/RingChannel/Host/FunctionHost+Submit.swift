// FunctionHost+Submit — `submit`: an invocation whose outcome goes to a completion handler instead
// of resuming a task. A host that keeps many invocations in flight (a pipeline, a stream of
// requests from a front end) pays no task resumption, cancellation record or executor check per
// invocation: the handler runs where the outcome is settled, usually the host's reactor thread as
// it reads the answer. Everything else is `invoke`'s: dispatch, context, deadline, exactly one
// outcome, metrics.
public import RingCore

/// An invocation started by `FunctionHost.submit`: cancel it, or ignore it.
public struct InvocationHandle: Sendable {
    private let worker: WorkerConnection
    /// The invocation's number on its worker (the frame stream id).
    public let number: UInt64

    init(worker: WorkerConnection, number: UInt64) {
        self.worker = worker
        self.number = number
    }

    /// The worker that runs it.
    public var workerID: WorkerID { worker.id }

    /// Gives up on the invocation: unless it already has an outcome, its completion gets
    /// `CancellationError` (on this thread) and the worker is told to cancel. A no-op after the
    /// outcome; a number names one invocation for the connection's life (its table slot would have
    /// to be reused 2^31 times to repeat it), so a stale handle cancels nothing else.
    public func cancel() {
        worker.abandon(number, .failure(CancellationError()))
    }
}

extension FunctionHost {
    /// Starts `function` on the least busy ready worker and returns at once; `completion` receives
    /// the outcome `invoke` would have returned or thrown — exactly once, if and only if `submit`
    /// returned.
    ///
    /// The completion runs on the thread that settles the invocation: the host's reactor thread for
    /// an answer, a deadline or a worker's failure; the calling thread of `InvocationHandle.cancel`;
    /// the calling thread of `submit` itself when the outcome is known at once. Keep it short and
    /// never block in it: on the reactor thread it holds up every worker's answers. Starting the
    /// next invocation from it is fine (that is how a closed loop runs without a task per call).
    ///
    /// - Throws: before anything is sent, what `invoke` would throw then: `ChannelError`
    ///   `.invalidFunctionName`, `.shuttingDown`, `.noWorkerAvailable`, `.workerNotReady`,
    ///   `.workerExited`, `.messageTooLarge`, `.invalidContext`. `completion` is not called then.
    @discardableResult
    public func submit(
        function: String, payload: [UInt8], context: ForwardingContext, deadline: InvocationDeadline? = nil,
        completion: @escaping @Sendable (Result<InvocationResult, any Error>) -> Void
    ) throws -> InvocationHandle {
        try submit(function: function, payload: .bytes(payload), context: context, deadline: deadline, completion: completion)
    }

    /// `submit` with the request's payload written where it goes, as `invoke(function:payloadCount:
    /// context:deadline:writingPayload:)` writes it: `fill` writes exactly `payloadCount` bytes into
    /// the ring's frame (or into an array first, for a request that does not fit one frame or finds
    /// the ring full), at most once, before `submit` returns.
    @discardableResult
    public func submit(
        function: String, payloadCount: Int, context: ForwardingContext, deadline: InvocationDeadline? = nil,
        writingPayload fill: @escaping (inout OutputRawSpan) -> Void,
        completion: @escaping @Sendable (Result<InvocationResult, any Error>) -> Void
    ) throws -> InvocationHandle {
        precondition(payloadCount >= 0, "payloadCount must not be negative")
        return try submit(
            function: function, payload: .writer(count: payloadCount, fill: fill), context: context, deadline: deadline,
            completion: completion)
    }

    private func submit(
        function: String, payload: RequestPayload, context: ForwardingContext, deadline: InvocationDeadline?,
        completion: @escaping @Sendable (Result<InvocationResult, any Error>) -> Void
    ) throws -> InvocationHandle {
        try submitting(function: function, context: context, deadline: deadline) { worker, effective, due in
            // Captures three references (the host, the worker, the caller's completion), each
            // retained and released once per invocation; the metrics are reached through the host.
            try worker.submit(function: function, payload: payload, context: effective, deadline: due) { [self] outcome in
                finishDispatch(worker, weight: 1)
                self.context.metrics.inFlight.decrement()
                record(outcome)
                completion(outcome)
            }
        }
    }

    /// What every `submit` does around starting its invocation: checks the name, chooses the worker,
    /// computes the effective context and deadline, counts the invocation in flight — and undoes
    /// the counts and records the error when `start` throws (its completion is then never called).
    private func submitting(
        function: String, context: ForwardingContext, deadline: InvocationDeadline?,
        _ start: (WorkerConnection, ForwardingContext, UInt64?) throws -> UInt64
    ) throws -> InvocationHandle {
        try Self.validate(function: function)
        let worker = try dispatch(weight: 1)
        let (effective, due) = effectiveContext(context, deadline: deadline)
        self.context.metrics.inFlight.increment()
        do {
            return InvocationHandle(worker: worker, number: try start(worker, effective, due))
        } catch {
            finishDispatch(worker, weight: 1)
            self.context.metrics.inFlight.decrement()
            record(.failure(error))
            throw error
        }
    }

    /// `submit` whose completion reads the answer where it lies: it gets an
    /// `InvocationReplyView` of the response frame's payload in the ring (or of the array a large
    /// answer was reassembled into) — no array is made for the reply — or the error `submit`'s
    /// completion would get. The view is borrowed for the call: read it (`withPayload`) or copy it
    /// (`copyPayload()`) there. Everything else is `submit`'s: where the completion runs, exactly
    /// once, cancel through the handle, deadlines, metrics. An answer that came before the
    /// completion was attached (possible when `submit` is called off the host's reactor thread) is
    /// viewed in the array it was stored in.
    @discardableResult
    public func submit(
        function: String, payload: [UInt8], context: ForwardingContext, deadline: InvocationDeadline? = nil,
        readingReplyInPlace completion: @escaping InvocationReplyCompletion
    ) throws -> InvocationHandle {
        try submitReadingInPlace(function: function, payload: .bytes(payload), context: context, deadline: deadline, completion: completion)
    }

    /// `submit` with the request written in place and the answer read in place: no array on either
    /// side for an invocation whose request and answer each fit one frame.
    @discardableResult
    public func submit(
        function: String, payloadCount: Int, context: ForwardingContext, deadline: InvocationDeadline? = nil,
        writingPayload fill: @escaping (inout OutputRawSpan) -> Void,
        readingReplyInPlace completion: @escaping InvocationReplyCompletion
    ) throws -> InvocationHandle {
        precondition(payloadCount >= 0, "payloadCount must not be negative")
        return try submitReadingInPlace(
            function: function, payload: .writer(count: payloadCount, fill: fill), context: context, deadline: deadline,
            completion: completion)
    }

    private func submitReadingInPlace(
        function: String, payload: RequestPayload, context: ForwardingContext, deadline: InvocationDeadline?,
        completion: @escaping InvocationReplyCompletion
    ) throws -> InvocationHandle {
        try submitting(function: function, context: context, deadline: deadline) { worker, effective, due in
            try worker.submitReadingInPlace(function: function, payload: payload, context: effective, deadline: due) { [self] outcome in
                finishDispatch(worker, weight: 1)
                self.context.metrics.inFlight.decrement()
                switch outcome {
                case .success(let view): record(status: view.status)
                case .failure(let error): record(.failure(error))
                }
                completion(outcome)
            }
        }
    }
}
