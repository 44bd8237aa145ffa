// WorkerLifecycle — the host's view of one worker connection, as a plain state machine (no I/O).
//
// starting ──handshake ok──▶ initializing ──init + loads ok──▶ ready ──terminate──▶ draining
//     │                           │                              │                      │
//     └───────────────────────────┴──── ended (exactly once: exit, violation, start failure)
//
// The end is decided once. A process exit is not final until the reader has drained what the worker
// published before it died (those responses are real); so an exit first stops the reader, and the
// connection ends when both the exit and the reader's end are known. A protocol violation or a stall
// (the liveness watch) ends it at once (and the worker is killed).
import RingLinux

struct WorkerLifecycle {
    enum Phase: Equatable, Sendable {
        case starting
        case initializing
        case ready
        case draining
        case ended
    }

    /// How the connection ended.
    enum End: Equatable, Sendable {
        case exited(ChildProcess.ExitStatus?)
        case violation(String)
        case startFailed(String)
        /// Silent for this long with work pending (the liveness watch).
        case stalled(Duration)
    }

    /// How the worker → host reader ended (RingLinux's LinkEnd: `closedByPeer` is the worker
    /// closing its ring as it exits in order; `stopped` is the host stopping it after an exit or at
    /// shutdown).
    typealias ReaderEnd = LinkEnd

    enum Action: Equatable {
        case none
        /// Stop the reader; it drains what is published and reports `readerFinished`.
        case stopReader
        /// End every invocation with this end.
        case end(End)
        /// End every invocation and kill the worker.
        case endAndKill(End)
    }

    private(set) var phase: Phase = .starting
    private(set) var exitStatus: ChildProcess.ExitStatus??
    private(set) var readerDone = false
    private(set) var end: End?

    var acceptsInvocations: Bool { phase == .ready }
    var hasExited: Bool { exitStatus != nil }

    mutating func handshakeSucceeded() -> Bool {
        guard phase == .starting else { return false }
        phase = .initializing
        return true
    }

    mutating func initialized() -> Bool {
        guard phase == .initializing else { return false }
        phase = .ready
        return true
    }

    /// No new invocations from now on. False when already draining or ended.
    mutating func beginDrain() -> Bool {
        switch phase {
        case .starting, .initializing, .ready:
            phase = .draining
            return true
        case .draining, .ended:
            return false
        }
    }

    mutating func processExited(_ status: ChildProcess.ExitStatus?) -> Action {
        guard exitStatus == nil else { return .none }
        exitStatus = .some(status)
        guard end == nil else { return .none }
        if readerDone { return decide(.exited(status), kill: false) }
        return .stopReader
    }

    mutating func readerFinished(_ how: ReaderEnd) -> Action {
        readerDone = true
        guard end == nil else { return .none }
        if case .violation(let detail) = how { return decide(.violation(detail), kill: true) }
        if let status = exitStatus { return decide(.exited(status), kill: false) }
        // Closed by the worker or stopped by us: the exit (which will come) ends the connection.
        return .none
    }

    /// A violation noticed outside the reader (e.g. a handshake answer that does not decode).
    mutating func violation(_ detail: String) -> Action {
        guard end == nil else { return .none }
        return decide(.violation(detail), kill: exitStatus == nil)
    }

    /// The liveness watch found the worker silent for `silence` with work pending.
    mutating func stalled(_ silence: Duration) -> Action {
        guard end == nil else { return .none }
        return decide(.stalled(silence), kill: exitStatus == nil)
    }

    mutating func startFailed(_ reason: String) -> Action {
        guard end == nil else { return .none }
        return decide(.startFailed(reason), kill: exitStatus == nil)
    }

    private mutating func decide(_ end: End, kill: Bool) -> Action {
        self.end = end
        phase = .ended
        return kill ? .endAndKill(end) : .end(end)
    }
}
