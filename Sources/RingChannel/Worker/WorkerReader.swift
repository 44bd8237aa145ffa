// WorkerReader — what the worker does with the host → worker ring, as the delegate of the link's
// reader (RingLinux's LinkReader, polled by the worker reactor's duty cycle): each message is
// dispatched inline on the reactor thread. An invocation whose delegate answers inline
// (`invokeInline`) is run and answered in the same turn, its reply written in place: no task, no
// thread hop, no wake-up while traffic flows. Other invocations start a task as before.
import RingCore
import RingLinux

final class WorkerReader<Delegate: ChannelWorkerDelegate>: LinkReaderDelegate {
    private let worker: ChannelWorker
    private let delegate: Delegate

    init(worker: ChannelWorker, delegate: Delegate) {
        self.worker = worker
        self.delegate = delegate
    }

    func linkReader(received message: MessageView) -> String? { worker.dispatch(message, delegate) }

    /// A large request is reassembled with its payload apart from the prefix (no copy of the whole
    /// message on the reactor thread when the invocation takes it).
    func linkReader(splitting kind: FrameKind, firstFragment: UnsafeRawBufferPointer) -> Int? {
        kind == .invocationRequest ? InvocationRequestPrefix.splitLength(firstFragment) : nil
    }

    func linkReader(ended end: LinkEnd) {
        switch end {
        case .closedByPeer: worker.terminate(gracePeriodNanoseconds: 0)  // the host will send nothing more: finish what runs, then end
        case .violation(let detail): worker.end(.failure(.protocolViolation(detail)))
        case .stopped: break
        }
    }
}
