// WorkerHandle — what an `rt_worker *` points to: a ChannelWorker run in deferred mode (RingChannel's
// DeferredInvocationDelegate), the events queued for the foreign threads, and the invocation records
// they read until they answer.
#if canImport(Glibc)
import Glibc
#endif
import CRingWorker
import Dispatch
import Logging
import RingChannel
import RingCore
import Synchronization

final class WorkerHandle: DeferredInvocationDelegate {
    let worker: ChannelWorker
    let events = EventQueue()
    /// Records delivered and not yet answered, by invocation number.
    private let records = RingMutex<[UInt64: RecordAddress]>([:])
    /// The END event's detail, kept for C until `rt_worker_close`.
    private let endDetail = RingMutex<UnsafeMutablePointer<CChar>?>(nil)
    private let runEnded = DispatchSemaphore(value: 0)
    private let ended = Atomic<Bool>(false)

    init(worker: ChannelWorker) {
        self.worker = worker
    }

    /// Starts the channel (handshake, init, loads, then invocations) in a task of its own; the END
    /// event follows its end.
    func start() {
        Task { [self] in
            var detail: String?
            do { try await worker.run(delegate: self) } catch { detail = "\(error)" }
            ended.store(true, ordering: .releasing)
            events.push(.end(detail: detail))
            runEnded.signal()
        }
    }

    var hasEnded: Bool { ended.load(ordering: .acquiring) }

    /// Keeps `detail` as a C string until close.
    func retainDetail(_ detail: String) -> UnsafePointer<CChar> {
        endDetail.withLock { kept in
            if kept == nil { kept = strdup(detail) }
            return UnsafePointer(kept!)
        }
    }

    // MARK: DeferredInvocationDelegate

    func deliver(_ invocation: Invocation, contextBytes: [UInt8]) {
        let record = RecordAddress(pointer: UnsafeMutableRawPointer(InvocationRecord.make(invocation, contextBytes: contextBytes)))
        records.withLock { $0[invocation.number] = record }
        events.push(.invocation(number: invocation.number, record: record))
    }

    func cancelDeferred(_ number: UInt64) { events.push(.cancel(number: number)) }

    func terminating(gracePeriodNanoseconds: UInt64) { events.push(.terminate(graceNanoseconds: gracePeriodNanoseconds)) }

    func invoke(_ invocation: Invocation) async throws -> InvocationReply {
        // Never called: a deferred delegate's invocations are delivered, not run.
        .failure(message: "the C ABI worker runs no Swift handlers")
    }

    // MARK: Answers

    /// Answers `number`; false when no delivered invocation has it.
    func answer(_ number: UInt64, _ reply: InvocationReply) -> Bool {
        guard let record = records.withLock({ $0.removeValue(forKey: number) }) else { return false }
        // The reply's bytes were copied out of the caller's memory (which may be the record) already.
        _ = worker.answerDeferred(number, reply)
        InvocationRecord.free(record.pointer.assumingMemoryBound(to: rt_invocation.self))
        return true
    }

    /// Ends the channel if it runs (answering what is held `cancelled`), waits for its end, frees
    /// what is left.
    func close() {
        if !hasEnded {
            worker.abandonDeferred()
            // Records of invocations the abandon answered (their answers went through answerDeferred).
            let held = records.withLock { records in
                defer { records.removeAll() }
                return Array(records.values)
            }
            for record in held { InvocationRecord.free(record.pointer.assumingMemoryBound(to: rt_invocation.self)) }
        }
        runEnded.wait()
        let left = records.withLock { records in
            defer { records.removeAll() }
            return Array(records.values)
        }
        for record in left { InvocationRecord.free(record.pointer.assumingMemoryBound(to: rt_invocation.self)) }
        endDetail.withLock { kept in
            free(kept)
            kept = nil
        }
    }
}
