// EventQueue — the events a foreign thread pulls with `rt_worker_next`: filled by the worker's
// reader thread (invocations, cancels, terminate) and by the run's end, drained by any number of
// foreign threads, which sleep on a semaphore (one signal per event) when it is empty. The end is
// sticky: once taken, every later pull returns it again at once.
import Dispatch
import Synchronization
import RingCore

enum WorkerEvent: Sendable {
    case invocation(number: UInt64, record: RecordAddress)
    case cancel(number: UInt64)
    case terminate(graceNanoseconds: UInt64)
    /// nil: orderly; else why the channel ended.
    case end(detail: String?)
}

/// An invocation record's address, handed between threads (its memory is owned by the handle).
struct RecordAddress: @unchecked Sendable {
    let pointer: UnsafeMutableRawPointer
}

final class EventQueue: Sendable {
    private struct Items {
        var events: [WorkerEvent] = []
        var head = 0
        var end: WorkerEvent?
    }

    private let items = RingMutex(Items())
    private let available = DispatchSemaphore(value: 0)

    func push(_ event: WorkerEvent) {
        items.withLock { $0.events.append(event) }
        available.signal()
    }

    /// The next event, waiting up to `timeoutNanoseconds` (negative: without limit); nil on timeout.
    func pop(timeoutNanoseconds: Int64) -> WorkerEvent? {
        if let end = items.withLock({ $0.head == $0.events.count ? $0.end : nil }) { return end }
        let outcome: DispatchTimeoutResult
        if timeoutNanoseconds < 0 {
            available.wait()
            outcome = .success
        } else {
            outcome = available.wait(timeout: .now() + .nanoseconds(Int(clamping: timeoutNanoseconds)))
        }
        guard outcome == .success else {
            return items.withLock { $0.head == $0.events.count ? $0.end : nil }
        }
        return items.withLock { items in
            let event = items.events[items.head]
            items.head += 1
            if items.head == items.events.count {
                items.events.removeAll(keepingCapacity: true)
                items.head = 0
            }
            if case .end = event { items.end = event }
            return event
        }
    }
}
