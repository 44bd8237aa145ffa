// ChannelTypes — the values the host API hands out: worker identities, deadlines, invocation
// results, typed errors and events.
public import RingCore
public import RingLinux

#if canImport(Glibc)
import Glibc
#endif

/// Names one worker process of a host: a stable name (the pool slot) and a generation that grows
/// with every restart of that slot.
public struct WorkerID: Hashable, Sendable, CustomStringConvertible {
    public let name: String
    public let generation: Int

    public init(name: String, generation: Int = 0) {
        self.name = name
        self.generation = generation
    }

    /// `name#generation`, as the worker sees it in its environment and echoes in its handshake.
    public var description: String { "\(name)#\(generation)" }
}

/// An absolute deadline on CLOCK_MONOTONIC (the clock of the reactor's timers and of
/// `ForwardingContext.deadlineNanoseconds`).
public struct InvocationDeadline: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let monotonicNanoseconds: UInt64

    public init(monotonicNanoseconds: UInt64) { self.monotonicNanoseconds = monotonicNanoseconds }

    /// `duration` from now.
    public static func after(_ duration: Duration) -> InvocationDeadline {
        InvocationDeadline(monotonicNanoseconds: Reactor.now() &+ duration.nanosecondsClamped)
    }

    public static func < (a: Self, b: Self) -> Bool { a.monotonicNanoseconds < b.monotonicNanoseconds }

    public var description: String { "monotonic \(monotonicNanoseconds) ns" }
}

extension Duration {
    /// Whole nanoseconds, clamped to `0...UInt64.max`.
    var nanosecondsClamped: UInt64 {
        let (seconds, attoseconds) = components
        if seconds < 0 { return 0 }
        let (whole, overflow) = UInt64(seconds).multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return .max }
        return whole &+ UInt64(attoseconds / 1_000_000_000)
    }
}

/// The answer to one invocation.
public struct InvocationResult: Sendable {
    /// success, failure (with the handler's message) or cancelled (by the worker).
    public let status: InvocationStatus
    /// The handler's reply payload, byte for byte.
    public let payload: [UInt8]
    /// The forwarding context decoded from the **response** frame (the worker echoes the request's
    /// context in it), never a copy the host kept.
    public let context: ForwardingContext
    /// The worker that answered.
    public let workerID: WorkerID
    /// The host-assigned invocation number (the frames' stream id).
    public let number: UInt64

    public init(status: InvocationStatus, payload: [UInt8], context: ForwardingContext, workerID: WorkerID, number: UInt64) {
        self.status = status
        self.payload = payload
        self.context = context
        self.workerID = workerID
        self.number = number
    }
}

/// Errors of the host/worker channel. Every worker-related case names the worker and its pid.
public enum ChannelError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The worker process ended (exited, crashed, was killed) with the invocation in flight.
    /// `status` is nil for a worker that is not this process's child (attached over a socket).
    case workerExited(workerID: WorkerID, pid: Int32, status: ChildProcess.ExitStatus?)
    /// The worker held invocations but sent nothing and answered no status request for
    /// `silentFor` (`FunctionHostConfiguration.livenessTimeout`) while its process was alive —
    /// stopped, or its reader stuck; it was killed.
    case workerStalled(workerID: WorkerID, pid: Int32, silentFor: Duration)
    /// The worker broke the protocol (garbage in its ring, an impossible length, an answer to an
    /// invocation it never got); it was isolated and killed.
    case protocolViolation(workerID: WorkerID, pid: Int32, detail: String)
    /// The handshake found a difference; the worker was killed.
    case handshakeRejected(workerID: WorkerID, pid: Int32, mismatch: HandshakeMismatch)
    /// The worker did not complete its start (handshake, init, function loads) in time.
    case startTimedOut(workerID: WorkerID, pid: Int32)
    /// The worker's init handler reported a failure.
    case workerInitFailed(workerID: WorkerID, pid: Int32, message: String)
    /// The worker could not load a function.
    case functionLoadFailed(workerID: WorkerID, pid: Int32, function: String, message: String)
    /// The worker process could not be started.
    case spawnFailed(executable: String, error: SystemError)
    /// The invocation's deadline passed first; the worker was sent a cancel.
    case deadlineExceeded(workerID: WorkerID, invocationID: ContextID)
    /// A status request was not answered in time.
    case statusTimedOut(workerID: WorkerID)
    /// No worker is ready to take the invocation.
    case noWorkerAvailable
    /// The worker is not (or no longer) accepting invocations: starting, draining or gone.
    case workerNotReady(WorkerID)
    /// The host is shutting down.
    case shuttingDown
    /// The request payload exceeds the segment's maximum message size.
    case messageTooLarge(size: Int, limit: Int)
    /// The forwarding context cannot be encoded (a field exceeds its bound).
    case invalidContext(ContextCodecError)
    /// The function name is empty or longer than `ChannelProtocol.Limits.maxFunctionNameBytes`.
    case invalidFunctionName(String)
    /// A process connected to the host's socket and was refused (SO_PEERCRED).
    case peerRejected(pid: Int32, uid: UInt32, reason: String)
    /// A system call failed.
    case system(SystemError)

    public var description: String {
        switch self {
        case .workerExited(let id, let pid, let status):
            "worker \(id) (pid \(pid)) \(status.map { "\($0)" } ?? "exited (status unknown: not our child)")"
        case .workerStalled(let id, let pid, let silence):
            "worker \(id) (pid \(pid)) stalled: no frame and no status answer for \(silence) with invocations in flight; it was killed"
        case .protocolViolation(let id, let pid, let detail): "worker \(id) (pid \(pid)) violated the protocol: \(detail)"
        case .handshakeRejected(let id, let pid, let mismatch): "worker \(id) (pid \(pid)) rejected at handshake: \(mismatch)"
        case .startTimedOut(let id, let pid): "worker \(id) (pid \(pid)) did not start in time"
        case .workerInitFailed(let id, let pid, let message): "worker \(id) (pid \(pid)) failed to initialise: \(message)"
        case .functionLoadFailed(let id, let pid, let function, let message):
            "worker \(id) (pid \(pid)) failed to load \(function): \(message)"
        case .spawnFailed(let executable, let error): "cannot start worker \(executable): \(error)"
        case .deadlineExceeded(let id, let invocationID): "invocation \(invocationID) on worker \(id) exceeded its deadline"
        case .statusTimedOut(let id): "worker \(id) did not answer a status request in time"
        case .noWorkerAvailable: "no worker is ready"
        case .workerNotReady(let id): "worker \(id) is not accepting invocations"
        case .shuttingDown: "the host is shutting down"
        case .messageTooLarge(let size, let limit): "message of \(size) bytes exceeds the limit of \(limit) bytes"
        case .invalidContext(let error): "invalid forwarding context: \(error)"
        case .invalidFunctionName(let name): "invalid function name '\(name.prefix(64))'"
        case .peerRejected(let pid, let uid, let reason): "refused socket peer pid \(pid) uid \(uid): \(reason)"
        case .system(let error): "\(error)"
        }
    }

    /// A short label for metrics (`ringchannel_invocation_failures{kind=…}`).
    public var kind: String {
        switch self {
        case .workerExited: "workerExited"
        case .workerStalled: "workerStalled"
        case .protocolViolation: "protocolViolation"
        case .handshakeRejected: "handshakeRejected"
        case .startTimedOut: "startTimedOut"
        case .workerInitFailed: "workerInitFailed"
        case .functionLoadFailed: "functionLoadFailed"
        case .spawnFailed: "spawnFailed"
        case .deadlineExceeded: "deadlineExceeded"
        case .statusTimedOut: "statusTimedOut"
        case .noWorkerAvailable: "noWorkerAvailable"
        case .workerNotReady: "workerNotReady"
        case .shuttingDown: "shuttingDown"
        case .messageTooLarge: "messageTooLarge"
        case .invalidContext: "invalidContext"
        case .invalidFunctionName: "invalidFunctionName"
        case .peerRejected: "peerRejected"
        case .system: "system"
        }
    }
}

/// What happened to the host's workers (see `FunctionHost.events()`).
public enum WorkerEvent: Sendable, Equatable {
    /// The worker completed handshake, init and function loads and takes invocations.
    case ready(WorkerID, pid: Int32)
    /// The worker's connection ended; `error` is what its in-flight invocations got (nil after an
    /// orderly terminate).
    case ended(WorkerID, pid: Int32, error: ChannelError?)
    /// A replacement for `WorkerID` starts after `delay` (attempt `attempt` of the restart policy).
    case restartScheduled(WorkerID, attempt: Int, delay: Duration)
    /// The restart policy's maximum was reached: the slot stays empty.
    case restartsExhausted(WorkerID)
    /// A replacement could not start.
    case startFailed(name: String, error: ChannelError)
    /// A process connected to the host's socket and was refused.
    case peerRejected(ChannelError)
}

/// A snapshot of one worker of the pool.
public struct WorkerInfo: Sendable, Equatable {
    public let id: WorkerID
    public let pid: Int32
    /// Whether it takes new invocations.
    public let ready: Bool
    /// Invocations it still owes an answer for.
    public let inFlight: Int
    /// What its handshake negotiated.
    public let hello: WorkerHello?
}
