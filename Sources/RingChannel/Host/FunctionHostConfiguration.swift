// FunctionHostConfiguration — the host's knobs, and how a worker is launched and restarted.
public import Instrumentation
public import RingCore
public import RingLinux

/// Configuration of a `FunctionHost`.
public struct FunctionHostConfiguration: Sendable {
    /// Shape of each worker's segment (ring capacities, max message and frame sizes).
    public var segment: SegmentConfiguration
    /// How the host's reactor waits; nil uses `WaitBackend.selected()` (RINGTRANSPORT_BACKEND or the
    /// best available). A spawned worker is told to use the same backend.
    public var waitBackend: ReactorBackendKind?
    /// Spin/yield/sleep profile of the host's ring endpoints.
    public var waitProfile: WaitProfile
    /// Capabilities the host announces in its handshake.
    public var capabilities: [String: String]
    /// Capability names a worker must announce, or it is rejected.
    public var requiredWorkerCapabilities: Set<String>
    /// Protocol versions the host speaks (tests narrow it to provoke a mismatch).
    public var protocolVersions: ClosedRange<UInt16>
    /// Longest a worker may take from spawn (or socket attach) to ready: handshake, init and loads.
    public var startTimeout: Duration
    /// Added to a terminate's grace period before the worker is killed (SIGKILL).
    public var killMargin: Duration
    /// Grace period of `shutdown()` when run as a service.
    public var shutdownGracePeriod: Duration
    /// Deadline applied to invocations that bring none (nil: none).
    public var defaultInvocationTimeout: Duration?
    /// The host's version string, sent in worker init.
    public var hostVersion: String
    /// Opaque application payload of worker init (e.g. a protobuf WorkerInitRequest).
    public var workerInitPayload: [UInt8]
    /// For socket-attached workers: the uids allowed to connect (nil: only this process's uid).
    public var allowedPeerUIDs: Set<UInt32>?
    /// How often a sleeping reader re-checks its worker's ring without being woken: bounds how long
    /// garbage written by a worker that never wakes the host (a hostile or broken peer) goes unseen.
    public var readerRecheckInterval: Duration = .seconds(1)
    /// The liveness watch (Aeron's client-liveness timeout, applied to workers): a worker that holds
    /// invocations and has sent no frame for half of this is asked for its status; no answer within
    /// the other half and it has stalled — stopped, or its reader stuck — while its process lives:
    /// it is killed, every invocation it held fails once with `ChannelError.workerStalled`, and the
    /// restart policy applies. nil turns the watch off (deadlines and `status` still work).
    public var livenessTimeout: Duration? = .seconds(10)
    /// The instrument that injects a caller's `ServiceContext` (its trace) into every invocation's
    /// forwarding context; nil uses swift-distributed-tracing's bootstrapped
    /// `InstrumentationSystem.instrument` (the no-op one unless the application bootstrapped one).
    public var instrument: (any Instrument)?
    /// The name of each worker's segment memfd (`/proc/<pid>/fd` shows `/memfd:<name> (deleted)`):
    /// tells apart the segments of several hosts in one process.
    public var segmentName = "ringchannel"

    public init(
        segment: SegmentConfiguration = SegmentConfiguration(), waitBackend: ReactorBackendKind? = nil,
        waitProfile: WaitProfile = .latency, capabilities: [String: String] = [:],
        requiredWorkerCapabilities: Set<String> = [], protocolVersions: ClosedRange<UInt16> = ChannelProtocol.supportedVersions,
        startTimeout: Duration = .seconds(30), killMargin: Duration = .seconds(2), shutdownGracePeriod: Duration = .seconds(10),
        defaultInvocationTimeout: Duration? = nil, hostVersion: String = "ringchannel-1", workerInitPayload: [UInt8] = [],
        allowedPeerUIDs: Set<UInt32>? = nil
    ) {
        self.segment = segment
        self.waitBackend = waitBackend
        self.waitProfile = waitProfile
        self.capabilities = capabilities
        self.requiredWorkerCapabilities = requiredWorkerCapabilities
        self.protocolVersions = protocolVersions
        self.startTimeout = startTimeout
        self.killMargin = killMargin
        self.shutdownGracePeriod = shutdownGracePeriod
        self.defaultInvocationTimeout = defaultInvocationTimeout
        self.hostVersion = hostVersion
        self.workerInitPayload = workerInitPayload
        self.allowedPeerUIDs = allowedPeerUIDs
    }
}

/// How to restart a worker slot whose process ended unexpectedly (crash, kill, protocol violation):
/// after `initialBackoff`, multiplied by `multiplier` per consecutive failure up to `maxBackoff`,
/// at most `maxRestarts` times. A restart that reaches ready resets the backoff, not the count.
public struct RestartPolicy: Sendable, Equatable {
    public var maxRestarts: Int
    public var initialBackoff: Duration
    public var maxBackoff: Duration
    public var multiplier: Int

    public init(maxRestarts: Int = 5, initialBackoff: Duration = .milliseconds(100), maxBackoff: Duration = .seconds(10), multiplier: Int = 2) {
        self.maxRestarts = maxRestarts
        self.initialBackoff = initialBackoff
        self.maxBackoff = maxBackoff
        self.multiplier = multiplier
    }

    /// The delay before restart attempt `attempt` (1-based) after `failures` consecutive failures.
    public func delay(consecutiveFailures failures: Int) -> Duration {
        var delay = initialBackoff
        for _ in 0..<max(failures - 1, 0) {
            delay = delay * multiplier
            if delay >= maxBackoff { return maxBackoff }
        }
        return min(delay, maxBackoff)
    }
}

/// How to start one worker process.
public struct WorkerLaunch: Sendable, Equatable {
    /// Absolute path of the worker executable.
    public var executable: String
    public var arguments: [String]
    /// Added to the host's environment (the channel adds its own variables on top).
    public var environment: [String: String]
    /// The pool slot's name (worker ids are `name#generation`); nil picks `worker-N`.
    public var name: String?
    /// Restart on unexpected exit; nil never restarts.
    public var restart: RestartPolicy?

    public init(executable: String, arguments: [String] = [], environment: [String: String] = [:], name: String? = nil, restart: RestartPolicy? = nil) {
        self.executable = executable
        self.arguments = arguments
        self.environment = environment
        self.name = name
        self.restart = restart
    }
}
