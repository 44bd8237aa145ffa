// Invocation — what a worker's handler receives and returns, the worker's configuration and its
// delegate protocol.
public import Logging
public import RingCore
public import RingLinux
public import Instrumentation

/// One invocation as the worker's handler sees it.
public struct Invocation: Sendable {
    /// The host-assigned invocation number (the frames' stream id).
    public let number: UInt64
    /// The function the host asked for.
    public let function: String
    /// The request payload, byte for byte.
    public let payload: [UInt8]
    /// The forwarding context decoded from the request frame — always present: a request frame
    /// without one is a protocol violation the ring rejects.
    public let context: ForwardingContext
    /// A logger whose records go to the host's logger, tagged with this invocation's id. Made when
    /// asked for (most invocations never log, and a Logger is an allocation).
    public var logger: Logger {
        switch loggerSource {
        case .given(let logger):
            return logger
        case .channel(let sink):
            let invocation = (number, context.invocationId)
            return Logger(label: function) { label in ChannelLogHandler(sink: sink, label: label, invocation: invocation) }
        }
    }

    private enum LoggerSource: Sendable {
        case given(Logger)
        case channel(LogSink)
    }

    private let loggerSource: LoggerSource

    public init(number: UInt64, function: String, payload: [UInt8], context: ForwardingContext, logger: Logger) {
        self.number = number
        self.function = function
        self.payload = payload
        self.context = context
        self.loggerSource = .given(logger)
    }

    /// An invocation of this worker: its logger forwards to the host through `sink`.
    init(number: UInt64, function: String, payload: [UInt8], context: ForwardingContext, sink: LogSink) {
        self.number = number
        self.function = function
        self.payload = payload
        self.context = context
        self.loggerSource = .channel(sink)
    }

    /// The user's invocation id (from the context).
    public var invocationID: ContextID { context.invocationId }
}

/// A handler's answer.
public enum InvocationReply: Sendable, Equatable {
    case success([UInt8])
    case failure(message: String, payload: [UInt8] = [])
    case cancelled

    var status: InvocationStatus {
        switch self {
        case .success: .success
        case .failure(let message, _): .failure(message: message)
        case .cancelled: .cancelled
        }
    }

    var payload: [UInt8] {
        switch self {
        case .success(let payload), .failure(_, let payload): payload
        case .cancelled: []
        }
    }
}

/// What a worker does with the host's requests. Only `invoke` is required.
public protocol ChannelWorkerDelegate: Sendable {
    /// Worker init: the host's version and opaque payload; returns an opaque payload for the host.
    /// Throwing reports a failed init (the host rejects the worker).
    func initialize(hostVersion: String, payload: [UInt8]) async throws -> [UInt8]
    /// Function load; throwing reports the failure to the host.
    func loadFunction(_ function: String, metadata: [UInt8]) async throws
    /// Runs one invocation. Throwing `CancellationError` (or returning `.cancelled`) answers
    /// `cancelled`; any other error answers `failure` with its description.
    func invoke(_ invocation: Invocation) async throws -> InvocationReply
    /// The fast path: answers an invocation at once, on the worker's reader thread (the reactor's),
    /// or returns nil to run it through `invoke` in a task of its own. An inline answer is written
    /// in the same turn that read the request — no task, no thread hop — so use it for work that is
    /// short and never blocks or waits: while it runs, the worker reads nothing else. Throwing
    /// answers as `invoke` does. The default returns nil.
    func invokeInline(_ invocation: Invocation) throws -> InvocationReply?
}

extension ChannelWorkerDelegate {
    public func initialize(hostVersion: String, payload: [UInt8]) async throws -> [UInt8] { [] }
    public func loadFunction(_ function: String, metadata: [UInt8]) async throws {}
    public func invokeInline(_ invocation: Invocation) throws -> InvocationReply? { nil }
}

/// A delegate made of one closure.
struct ClosureDelegate: ChannelWorkerDelegate {
    let handler: @Sendable (Invocation) async throws -> InvocationReply
    func invoke(_ invocation: Invocation) async throws -> InvocationReply { try await handler(invocation) }
}

/// Configuration of a `ChannelWorker`.
public struct WorkerConfiguration: Sendable {
    /// Handlers that run at once; more invocations wait in the worker (cancels still reach them).
    public var maxConcurrency: Int
    /// Capabilities announced to the host.
    public var capabilities: [String: String]
    /// Capabilities the host must announce.
    public var requiredHostCapabilities: [String]
    /// Protocol versions this worker speaks.
    public var protocolVersions: ClosedRange<UInt16>
    /// Largest message the worker accepts; nil: the segment's maximum.
    public var maxMessageSize: UInt64?
    /// Free-form runtime description sent in the handshake.
    public var runtime: String
    /// The worker's version, sent in the init response.
    public var workerVersion: String
    /// Spin/yield/sleep profile of the worker's ring endpoints.
    public var waitProfile: WaitProfile
    /// Log records buffered for the host before new ones are dropped (back-pressure never blocks
    /// a handler on logging).
    public var logBufferLimit: Int
    /// The instrument that extracts each invocation's `ServiceContext` from its forwarding context;
    /// handlers run inside it (`ServiceContext.current`). nil uses `InstrumentationSystem.instrument`.
    public var instrument: (any Instrument)?

    public init(
        maxConcurrency: Int = 256, capabilities: [String: String] = [:], requiredHostCapabilities: [String] = [],
        protocolVersions: ClosedRange<UInt16> = ChannelProtocol.supportedVersions, maxMessageSize: UInt64? = nil,
        runtime: String = "swift", workerVersion: String = "1", waitProfile: WaitProfile = .latency, logBufferLimit: Int = 65536
    ) {
        self.maxConcurrency = max(1, maxConcurrency)
        self.capabilities = capabilities
        self.requiredHostCapabilities = requiredHostCapabilities
        self.protocolVersions = protocolVersions
        self.maxMessageSize = maxMessageSize
        self.runtime = runtime
        self.workerVersion = workerVersion
        self.waitProfile = waitProfile
        self.logBufferLimit = logBufferLimit
    }
}

/// Why a worker's `run` ended other than by an orderly terminate.
public enum ChannelWorkerError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The environment does not say how to reach the host.
    case notConfigured(String)
    /// Attaching the segment failed.
    case attachFailed(String)
    /// The host broke the protocol.
    case protocolViolation(String)
    /// The host process ended.
    case hostExited
    /// `run` was called twice.
    case alreadyRunning

    public var description: String {
        switch self {
        case .notConfigured(let detail): "worker not configured: \(detail)"
        case .attachFailed(let detail): "cannot attach to the host's segment: \(detail)"
        case .protocolViolation(let detail): "the host violated the protocol: \(detail)"
        case .hostExited: "the host process exited"
        case .alreadyRunning: "the worker is already running"
        }
    }
}
