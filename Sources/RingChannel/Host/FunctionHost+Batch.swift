// FunctionHost+Batch — `invoke(batch:)`: many invocations to one worker with one suspension of the
// caller (InvocationBatch.swift, WorkerConnection+Batch.swift).
extension FunctionHost {
    /// Runs every request on one worker (the least loaded, as `invoke` chooses) and returns one
    /// outcome per request, in order: what `invoke` would have returned or thrown for it. The
    /// caller's task suspends once and is resumed when the last answer arrived, which is what makes
    /// a batch cheaper than the same invocations awaited one by one.
    ///
    /// Each invocation is its own: its own number, context (checked on the reply), deadline (the
    /// earliest of `deadline`, its context's and `defaultInvocationTimeout`), worker cancel and
    /// outcome. Cancelling the calling task gives every invocation still waiting
    /// `CancellationError` (and the worker a cancel for each); the call still returns every outcome.
    /// - Throws: `ChannelError` only when the batch cannot start at all (`shuttingDown`,
    ///   `noWorkerAvailable`, an invalid function name), and `CancellationError` if the task was
    ///   cancelled before anything was sent.
    public nonisolated(nonsending) func invoke(batch requests: [InvocationRequest], deadline: InvocationDeadline? = nil) async throws -> [Result<InvocationResult, any Error>] {
        try Task.checkCancellation()
        guard !requests.isEmpty else { return [] }
        for request in requests { try Self.validate(function: request.function) }
        let worker = try dispatch(weight: requests.count)
        defer { finishDispatch(worker, weight: requests.count) }
        let items = requests.map { request -> Result<WorkerConnection.PreparedInvocation, any Error> in
            let (effective, due) = effectiveContext(request.context, deadline: deadline)
            do { return .success(try worker.prepare(function: request.function, payload: .bytes(request.payload), context: effective, deadline: due)) } catch {
                return .failure(error)
            }
        }
        let metrics = context.metrics
        metrics.inFlight.increment(by: Double(requests.count))
        defer { metrics.inFlight.decrement(by: Double(requests.count)) }
        let outcomes = await worker.invoke(batch: items)
        for outcome in outcomes { record(outcome) }
        return outcomes
    }
}
