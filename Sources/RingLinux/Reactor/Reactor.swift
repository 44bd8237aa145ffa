// Reactor — the public face of the waiting mechanism: one dedicated OS thread that sleeps on futex
// words, timers and process exits at once, with the same thread-safe API on all three backends
// (WaitBackend.swift). Callbacks run on the reactor thread and must not block it.
#if canImport(Glibc)
    import Glibc
#endif
import CRingShim

/// Waits for futex words to change, wakes their sleepers, runs timers and watches processes, on a
/// thread of its own.
///
/// Every request's callback runs exactly once: on the reactor thread, or — for a request made after
/// `shutdown()` — at once on the caller's thread with `.shutdown`. Requests from any thread are
/// queued and the reactor is nudged (one eventfd write, or futex wake, per reactor iteration however
/// many requests arrive); requests made from a callback need no nudge.
public final class Reactor: Sendable {
    /// The backend in use and why it was chosen.
    public let backend: ReactorBackendChoice
    /// What the reactor thread set up (e.g. the io_uring flags in effect).
    public let setupDescription: String
    let shared: ReactorShared
    private let thread: ReactorThread
    /// The reactor thread as a task executor (ReactorExecutor.swift): tasks that prefer it run
    /// between the pollers' turns, and continuations resumed there cost no thread hop.
    public let executor: ReactorExecutor

    /// Starts a reactor on the process-wide backend choice (`WaitBackend.selected()`, which honours
    /// RINGTRANSPORT_BACKEND).
    public convenience init(options: ReactorOptions = ReactorOptions()) throws(ReactorError) {
        try self.init(choice: WaitBackend.selected(), options: options)
    }

    /// Starts a reactor on `kind`, failing if it cannot work here.
    public convenience init(backend kind: ReactorBackendKind, options: ReactorOptions = ReactorOptions()) throws(ReactorError) {
        let availability = WaitBackend.probe.availability(of: kind)
        guard case .available(let detail) = availability else { throw .backendUnavailable(kind, reason: availability.detail) }
        try self.init(choice: ReactorBackendChoice(kind: kind, reason: "requested; \(detail)"), options: options)
    }

    public init(choice: ReactorBackendChoice, options: ReactorOptions = ReactorOptions()) throws(ReactorError) {
        let shared: ReactorShared
        do {
            shared = try ReactorShared(kind: choice.kind, options: options)
        } catch {
            throw .system(error)
        }
        let handshake = StartupHandshake()
        let executor = ReactorExecutor(shared: shared)
        let thread: ReactorThread
        do {
            thread = try ReactorThread.start(name: "ring-reactor") { Reactor.runLoop(shared, executor, handshake) }
        } catch {
            _ = shared.queue.close()
            shared.releaseSharedResources()
            throw .system(error)
        }
        switch handshake.wait() {
        case .success(let description):
            setupDescription = description
        case .failure(let error):
            thread.join()
            throw error
        }
        self.backend = choice
        self.shared = shared
        self.thread = thread
        self.executor = executor
    }

    deinit { shutdown() }

    /// The reactor thread's body: set the backend up (on this thread: SINGLE_ISSUER binds the ring
    /// to it), report, run until shutdown, release.
    private static func runLoop(_ shared: ReactorShared, _ executor: ReactorExecutor, _ handshake: StartupHandshake) {
        shared.enterReactorThread()
        let duties = ReactorDuties(executor: executor, idleProfile: shared.options.idleProfile) { [shared] in shared.makeIdentifier() }
        shared.duties = duties
        defer { shared.duties = nil }
        switch shared.kind {
        case .ioUringFutex, .ioUringEventfd:
            let loop: IOUringReactorLoop
            do {
                loop = try IOUringReactorLoop(shared: shared, duties: duties)
            } catch {
                _ = shared.queue.close()
                shared.releaseSharedResources()
                handshake.report(.failure(.system(error)))
                return
            }
            handshake.report(.success(loop.setupDescription))
            loop.run()
        case .futexThread:
            let loop = FutexThreadLoop(shared: shared, duties: duties)
            handshake.report(.success(loop.setupDescription))
            loop.run()
        }
        shared.releaseSharedResources()
    }

    // MARK: Waiting

    /// Calls `completion` once the 32-bit word at `word` (4-byte aligned, typically in shared
    /// memory) no longer holds `expected`: `.changed` when woken or when it already differed at arm
    /// time (wakes may be spurious — re-check), `.cancelled`, `.shutdown`, or `.failed`. The word
    /// must stay mapped until the completion runs. Wakers change the word before waking: the
    /// futex-thread backend learns of only one woken word per sleep and finds the others by their
    /// changed values, so a wake that leaves a word at `expected` may go unnoticed there.
    @discardableResult
    package func waitForChange(
        of word: UnsafeMutableRawPointer, from expected: UInt32, _ completion: @escaping @Sendable (WaitResult) -> Void
    ) -> WaitToken {
        precondition(Int(bitPattern: word) % 4 == 0, "a futex word must be 4-byte aligned")
        let id = shared.makeIdentifier()
        shared.submit(.wait(id: id, word: UInt(bitPattern: word), expected: expected, completion: completion))
        return WaitToken(id: id)
    }

    /// Ends a pending wait with `.cancelled` (no effect once it has ended).
    public func cancel(_ token: WaitToken) { shared.submit(.cancelWait(id: token.id)) }

    // MARK: Waking

    /// Wakes every sleeper on `word` (in this or any process sharing it); change the word first.
    ///
    /// On `ioUringFutex` the wake is batched: queued for the reactor, which submits all wakes queued
    /// since its last iteration (one FUTEX_WAKE per distinct word) with its next io_uring_enter.
    /// From the reactor thread that costs no extra syscall; from another thread it costs at most one
    /// nudge per reactor iteration. The other backends wake at once on the caller's thread (futex(2),
    /// or write(2) on the word's doorbell).
    ///
    /// A batched wake is delivered later, through the caller's mapping of the word: keep the word
    /// mapped until then, or use `wakeNow` right before unmapping it.
    ///
    /// Which is cheaper (release build, 2-vCPU VM, no sleeper, medians of noisy runs): futex(2)
    /// FUTEX_WAKE ≈ 370 ns; an io_uring_enter carrying 1 FUTEX_WAKE ≈ 650–740 ns, 4 ≈ 390–480 ns
    /// each, 16 ≈ 290–310 ns each. So batching pays only when the enter is one the reactor makes
    /// anyway (it sleeps with the same call) or carries ≳ 8 words. From another thread `wake` costs
    /// the caller ≈ 50–130 ns when wakes are frequent (nudges coalesce), but when the reactor is
    /// asleep each one costs a nudge plus a thread hop: for a single latency-critical wake from
    /// another thread use `wakeNow` (RingLinux's `ReactorWaker` does exactly this).
    package func wake(_ word: UnsafeMutableRawPointer) {
        shared.counters.bump(.wakesRequested)
        if shared.kind == .ioUringFutex {
            precondition(Int(bitPattern: word) % 4 == 0, "a futex word must be 4-byte aligned")
            // After shutdown there is no ring to carry it: deliver it here.
            if !shared.trySubmit(.wake(word: UInt(bitPattern: word))) {
                Reactor.wakeDirectly(UInt(bitPattern: word), shared: shared)
            }
        } else {
            Reactor.wakeDirectly(UInt(bitPattern: word), shared: shared)
        }
    }

    /// Wakes every sleeper on `word` now, with one syscall on the caller's thread (futex(2), or
    /// write(2) on the word's doorbell on `ioUringEventfd`).
    package func wakeNow(_ word: UnsafeMutableRawPointer) {
        shared.counters.bump(.wakesRequested)
        Reactor.wakeDirectly(UInt(bitPattern: word), shared: shared)
    }

    static func wakeDirectly(_ word: UInt, shared: ReactorShared) {
        shared.counters.bump(.directWakeCalls)
        if let doorbells = shared.doorbells, doorbells.ring(word) { return }
        FutexWord.wakeAll(UnsafeMutableRawPointer(bitPattern: word)!)
    }

    // MARK: Timers

    /// Calls `callback` with `.fired` once CLOCK_MONOTONIC reaches `deadlineNanoseconds`. Timers
    /// due together fire in deadline order (ties: scheduling order). A cancelled timer gets
    /// `.cancelled` and never fires.
    @discardableResult
    public func schedule(at deadlineNanoseconds: UInt64, _ callback: @escaping @Sendable (TimerResult) -> Void) -> TimerToken {
        let id = shared.makeIdentifier()
        shared.submit(.timer(id: id, deadline: deadlineNanoseconds, callback: callback))
        return TimerToken(id: id)
    }

    /// Cancels a pending timer (no effect once it has fired).
    public func cancel(_ token: TimerToken) { shared.submit(.cancelTimer(id: token.id)) }

    /// CLOCK_MONOTONIC now, in nanoseconds (the clock of `schedule(at:)`).
    public static func now() -> UInt64 { ReactorClock.now() }

    // MARK: Processes

    /// Calls `onExit` when process `pid` ends (pidfd_open + poll). For an unreaped child of this
    /// process the status is reported without reaping it (`waitid(WNOWAIT)`): `ChildProcess.wait()`
    /// still works. Throws if `pid` does not exist.
    @discardableResult
    public func watchProcess(
        pid: Int32, _ onExit: @escaping @Sendable (ProcessWatchResult) -> Void
    ) throws(SystemError) -> WatchToken {
        let pidfd = try Syscall.call("pidfd_open(\(pid))") { crs_pidfd_open(pid, 0) }
        let id = shared.makeIdentifier()
        shared.submit(.watch(id: id, pidfd: pidfd, callback: onExit))
        return WatchToken(id: id)
    }

    /// Stops watching (the callback gets `.cancelled` unless the process already ended).
    public func cancel(_ token: WatchToken) { shared.submit(.cancelWatch(id: token.id)) }

    // MARK: Pollers

    /// Registers `poller` with the loop's duty cycle (ReactorPoller.swift): from the next turn on it
    /// is polled on the reactor thread until it returns `.finished`, is removed, or the reactor
    /// stops (`reactorStopped()`, also at once if the reactor has already shut down).
    package func addPoller(_ poller: any ReactorPoller) -> PollerToken {
        let id = shared.makeIdentifier()
        shared.submit(.addPoller(id: id, poller))
        return PollerToken(id: id)
    }

    /// Stops polling a poller (no effect once it finished). It gets no further call after the turn
    /// in which the reactor handles this request.
    package func removePoller(_ token: PollerToken) { shared.submit(.removePoller(id: token.id)) }

    // MARK: Shutting down

    /// Ends every pending wait, timer and watch with `.shutdown`, stops the thread and releases the
    /// ring and every descriptor. Idempotent. Called on the reactor thread (from a callback), it
    /// only starts the shutdown, which completes once the callback returns.
    public func shutdown() {
        _ = shared.trySubmit(.shutdown)
        if shared.isReactorThread {
            thread.detach()
        } else {
            thread.join()
        }
    }

    /// What this reactor has asked of the kernel so far.
    public var counters: ReactorCounters { shared.counters.snapshot() }

    /// Whether the caller runs on this reactor's thread (i.e. inside one of its callbacks).
    public var isReactorThread: Bool { shared.isReactorThread }
}
