// ReactorShared — the part of a reactor that every thread may touch: the request queue and its
// nudge, the counters, the eventfd backend's doorbells, id allocation, and which thread is the
// reactor's. Everything else belongs to the reactor thread's backend loop.
#if canImport(Glibc)
    import Glibc
#endif
import Synchronization
import RingCore

final class ReactorShared: Sendable {
    let kind: ReactorBackendKind
    let options: ReactorOptions
    let counters = ReactorCounterStorage()
    let queue: RequestQueue
    /// Only for `.ioUringEventfd`.
    let doorbells: Doorbells?
    private let nextIdentifier = Atomic<UInt64>(1)
    private let reactorThread = Atomic<UInt>(0)
    /// The reactor thread's duty cycle (jobs and pollers): set and used on that thread only.
    nonisolated(unsafe) var duties: ReactorDuties?
    /// Descriptors the reactor opened, for leak checks in tests (they are all closed at shutdown).
    let openedDescriptors = RingMutex<[Int32]>([])

    init(kind: ReactorBackendKind, options: ReactorOptions) throws(SystemError) {
        self.kind = kind
        self.options = options
        let nudge = try ReactorNudge(for: kind)
        queue = RequestQueue(nudge: nudge, counters: counters)
        doorbells = kind == .ioUringEventfd ? Doorbells() : nil
        if case .eventfd(let descriptor) = nudge.mechanism { recordOpened(descriptor) }
    }

    /// A fresh id for a request (never reused: 2^56 ids, user_data keeps the top byte for a tag).
    func makeIdentifier() -> UInt64 {
        nextIdentifier.wrappingAdd(1, ordering: .relaxed).oldValue
    }

    func recordOpened(_ descriptor: Int32) {
        openedDescriptors.withLock { $0.append(descriptor) }
    }

    // MARK: The reactor thread

    /// Called by the reactor thread first thing. Release: pairs with the acquire in
    /// `isReactorThread`.
    func enterReactorThread() {
        reactorThread.store(UInt(pthread_self()), ordering: .releasing)
    }

    var isReactorThread: Bool {
        let owner = reactorThread.load(ordering: .acquiring)
        return owner != 0 && pthread_equal(pthread_t(owner), pthread_self()) != 0
    }

    /// Hands a request to the reactor thread (nudging it unless we are on it). A request arriving
    /// after shutdown is rejected at once, on this thread.
    func submit(_ request: ReactorRequest) {
        if !queue.enqueue(request, nudging: !isReactorThread) { request.reject() }
    }

    /// As `submit`, but tells the caller instead of rejecting.
    func trySubmit(_ request: ReactorRequest) -> Bool {
        queue.enqueue(request, nudging: !isReactorThread)
    }

    /// Releases what the reactor thread shares with callers. The thread's last act, after the
    /// queue was closed.
    func releaseSharedResources() {
        doorbells?.closeAll()
        queue.nudge.release()
    }
}

/// Knobs for a reactor.
public struct ReactorOptions: Sendable {
    /// Submission queue size of the io_uring backends.
    public var ringEntries: UInt32 = 256
    /// IORING_SETUP_SQPOLL with this idle time in milliseconds. Off by default: the kernel thread
    /// spins for the idle time after every submit.
    public var sqPollIdleMilliseconds: UInt32?
    /// How the loop waits when its pollers and jobs have nothing to do: spin, yield, then sleep
    /// (ReactorDuties.swift). Without pollers it sleeps at once.
    public var idleProfile: WaitProfile = .latency
    /// While the loop is busy (never sleeping), how often it still enters the kernel to collect
    /// completions (with DEFER_TASKRUN they are posted only then): process exits, timers, waits.
    public var busyKernelPollNanoseconds: UInt64 = 1_000_000

    public init(
        ringEntries: UInt32 = 256, sqPollIdleMilliseconds: UInt32? = nil, idleProfile: WaitProfile = .latency,
        busyKernelPollNanoseconds: UInt64 = 1_000_000
    ) {
        self.ringEntries = ringEntries
        self.sqPollIdleMilliseconds = sqPollIdleMilliseconds
        self.idleProfile = idleProfile
        self.busyKernelPollNanoseconds = busyKernelPollNanoseconds
    }
}
