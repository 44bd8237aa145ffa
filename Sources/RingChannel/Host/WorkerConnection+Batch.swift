// WorkerConnection+Batch — many invocations to one worker, registered under one lock, written back
// to back, attached under one lock and awaited with one suspension (InvocationBatch.swift). Every
// invocation still has its own table entry, so cancellation, deadlines, worker failure and the
// context check work exactly as for a single invocation.
import RingCore
import RingLinux

extension WorkerConnection {
    /// Sends every prepared item and returns one outcome per item, in order. Items that failed to
    /// prepare keep their failure. Cancelling the calling task abandons every invocation still
    /// waiting (each gets `CancellationError`, and the worker a cancel), like `invoke`.
    nonisolated(nonsending) func invoke(batch items: [Result<PreparedInvocation, any Error>]) async -> [Outcome] {
        let collector = BatchCollector(count: items.count)
        var numbers: [(index: Int, number: UInt64)] = []
        numbers.reserveCapacity(items.count)
        var rejected: [(Int, Outcome)] = []
        state.withLock { state in
            for (index, item) in items.enumerated() {
                guard case .success(let item) = item else { continue }
                if let error = state.endError {
                    rejected.append((index, .failure(error)))
                } else if state.lifecycle.acceptsInvocations, let number = state.table.register(invocationID: item.context.invocationId) {
                    numbers.append((index, number))
                } else {
                    rejected.append((index, .failure(ChannelError.workerNotReady(id))))
                }
            }
        }
        for (index, item) in items.enumerated() {
            if case .failure(let error) = item { collector.deliver(index, .failure(error)) }
        }
        for (index, outcome) in rejected { collector.deliver(index, outcome) }
        var timers: [TimerToken] = []
        var written: [Bool] = []
        written.reserveCapacity(numbers.count)
        for (index, number) in numbers {
            guard case .success(let item) = items[index] else { continue }
            if let deadline = item.deadline {
                let invocationID = item.context.invocationId
                timers.append(reactor.schedule(at: deadline) { [self] result in
                    guard result == .fired else { return }
                    abandon(number, .failure(ChannelError.deadlineExceeded(workerID: id, invocationID: invocationID)))
                })
            }
            // Each request is published as it is written (not once per batch): the worker starts on
            // the first while the rest are written — measured, Docs/Architecture.md "Batches are one
            // publish, not one reservation".
            written.append(transmit(number, item) == .written)
        }
        // Attached and marked sent under one lock, as `invoke` does for one.
        let (ready, cancels) = state.withLock { state -> ([(Int, Outcome)], [UInt64]) in
            var ready: [(Int, Outcome)] = []
            var cancels: [UInt64] = []
            for (position, (index, number)) in numbers.enumerated() {
                let attached = state.table.attach(number, .batch(collector, index: index), sent: written[position])
                if case .resume(let outcome) = attached.action { ready.append((index, outcome)) }
                if attached.sendCancel { cancels.append(number) }
            }
            return (ready, cancels)
        }
        for (index, outcome) in ready { collector.deliver(index, outcome) }
        for number in cancels { sendCancel(number) }
        let registered = numbers.map(\.number)
        let outcomes = await withTaskCancellationHandler {
            await collector.wait()
        } onCancel: {
            for number in registered { abandon(number, .failure(CancellationError())) }
        }
        for timer in timers { reactor.cancel(timer) }
        return outcomes
    }
}
