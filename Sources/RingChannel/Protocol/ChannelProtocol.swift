// ChannelProtocol — the constants of the host/worker channel protocol (Docs/Protocol.md): its
// version, the environment a spawned worker finds, the bounds every decoder enforces.

/// Constants of the host/worker channel protocol.
public enum ChannelProtocol {
    /// The protocol version this build speaks best.
    public static let version: UInt16 = 1
    /// Every protocol version this build can speak.
    public static let supportedVersions: ClosedRange<UInt16> = 1...1
    /// Version byte that starts every channel payload encoding (handshake, control, invocation
    /// prefixes, log records).
    static let codecVersion: UInt8 = 1
    /// The Swift host's first control correlation id. A stream id names one message at a time
    /// whatever its kind (WireFormat.md §2.5), so control requests must never share a stream id
    /// with an invocation whose fragments are in flight: invocation numbers stay below 2^63
    /// (`InvocationTable`), control requests are numbered from 2^63 + 1 (0 is `terminate`).
    static let firstControlID: UInt64 = 1 << 63 | 1

    /// Environment variables a spawned (or socket-connecting) worker reads.
    public enum Environment {
        /// Descriptor number of the inherited segment memfd.
        public static let segmentDescriptor = "RING_SEGMENT_FD"
        /// The worker id the host assigned; the worker echoes it in its handshake.
        public static let workerID = "RING_WORKER_ID"
        /// Path of the host's Unix socket, for a worker that attaches instead of being spawned.
        public static let socketPath = "RING_CHANNEL_SOCKET"
        /// Eventfd doorbells (`iouring-eventfd` backend only): four descriptor numbers, comma
        /// separated, for ring 0 consumer, ring 0 producer, ring 1 consumer, ring 1 producer.
        public static let doorbellDescriptors = "RING_CHANNEL_DOORBELL_FDS"
        /// The host's waiting backend; a spawned worker uses the same one.
        public static let waitBackend = "RINGTRANSPORT_BACKEND"
    }

    /// Bounds enforced on decode (and on encode where the sender chooses the size).
    public enum Limits {
        public static let maxFunctionNameBytes = 1024
        public static let maxWorkerIDBytes = 256
        public static let maxFailureMessageBytes = 64 * 1024
        public static let maxLogMessageBytes = 64 * 1024
        public static let maxLogCategoryBytes = 256
        public static let maxLogMetadataEntries = 64
        public static let maxCapabilities = 256
        /// Opaque init/function-load payloads.
        public static let maxControlPayloadBytes = 16 << 20
    }
}

/// Which end of a channel.
public enum ChannelSide: String, Sendable, Equatable, CustomStringConvertible {
    case host
    case worker

    public var description: String { rawValue }
}

/// The wait backend names as the handshake carries them (`ReactorBackendKind.rawValue`).
enum WaitBackendName {
    /// Backends that sleep on the futex words themselves can be mixed freely; the eventfd backend
    /// needs both sides to share doorbells, so it must match exactly.
    static func compatible(_ host: String, _ worker: String) -> Bool {
        let eventfd = "iouring-eventfd"
        return (host == eventfd) == (worker == eventfd)
    }
}
