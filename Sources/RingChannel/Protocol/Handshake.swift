// Handshake — the first message in each direction (FrameKind.handshake, stream id 0): protocol
// versions, identities, ring sizes, message limits, wait backend and capabilities. The host decides:
// `HandshakeCheck.evaluate` compares the worker's hello with its own and names what differed.
@_spi(Codec) public import RingCore

/// The ring sizes of a segment as one side sees them.
public struct ChannelRingSizes: Equatable, Sendable, CustomStringConvertible {
    public var hostToWorkerCapacity: UInt64
    public var workerToHostCapacity: UInt64
    public var maxFrameLength: UInt64
    public var maxMessageSize: UInt64

    public init(hostToWorkerCapacity: UInt64, workerToHostCapacity: UInt64, maxFrameLength: UInt64, maxMessageSize: UInt64) {
        self.hostToWorkerCapacity = hostToWorkerCapacity
        self.workerToHostCapacity = workerToHostCapacity
        self.maxFrameLength = maxFrameLength
        self.maxMessageSize = maxMessageSize
    }

    public var description: String {
        "rings \(hostToWorkerCapacity)/\(workerToHostCapacity) B, frames ≤ \(maxFrameLength) B, messages ≤ \(maxMessageSize) B"
    }

    func encode(into encoder: inout ChannelEncoder) {
        encoder.put(hostToWorkerCapacity)
        encoder.put(workerToHostCapacity)
        encoder.put(maxFrameLength)
        encoder.put(maxMessageSize)
    }

    init(decoding decoder: inout ChannelDecoder) throws(ChannelCodecError) {
        hostToWorkerCapacity = try decoder.take("hostToWorkerCapacity")
        workerToHostCapacity = try decoder.take("workerToHostCapacity")
        maxFrameLength = try decoder.take("maxFrameLength")
        maxMessageSize = try decoder.take("maxMessageSize")
    }
}

/// The host's handshake: the first message on the host → worker ring.
package struct HostHello: Equatable, Sendable {
    package var protocolVersions: ClosedRange<UInt16>
    package var workerID: String
    package var hostPID: Int32
    package var ringSizes: ChannelRingSizes
    package var waitBackend: String
    package var capabilities: [String: String]

    package init(
        protocolVersions: ClosedRange<UInt16> = ChannelProtocol.supportedVersions, workerID: String, hostPID: Int32,
        ringSizes: ChannelRingSizes, waitBackend: String, capabilities: [String: String] = [:]
    ) {
        self.protocolVersions = protocolVersions
        self.workerID = workerID
        self.hostPID = hostPID
        self.ringSizes = ringSizes
        self.waitBackend = waitBackend
        self.capabilities = capabilities
    }

    static let type: UInt8 = 1

    package func encoded() -> [UInt8] {
        var e = ChannelEncoder()
        e.putHelloHeader(type: Self.type, versions: protocolVersions)
        e.putString(workerID)
        e.put(hostPID)
        ringSizes.encode(into: &e)
        e.putString(waitBackend)
        e.putMap(capabilities)
        return e.bytes
    }

    package init(decoding bytes: UnsafeRawBufferPointer) throws(ChannelCodecError) {
        var d = ChannelDecoder(bytes)
        protocolVersions = try d.takeHelloHeader(type: Self.type)
        workerID = try d.takeString("workerID", limit: ChannelProtocol.Limits.maxWorkerIDBytes)
        hostPID = try d.take("hostPID")
        ringSizes = try ChannelRingSizes(decoding: &d)
        waitBackend = try d.takeString("waitBackend", limit: 64)
        capabilities = try d.takeMap("capabilities", limit: ChannelProtocol.Limits.maxCapabilities)
        try d.finish()
    }
}

/// The worker's handshake: the first message on the worker → host ring, answering `HostHello`.
public struct WorkerHello: Equatable, Sendable {
    /// Every version the worker speaks.
    public var protocolVersions: ClosedRange<UInt16>
    /// The version the worker chose (the highest both speak), 0 when there is none.
    public var protocolVersion: UInt16
    /// The id the worker was told to use (environment), echoed.
    public var workerID: String
    public var workerPID: Int32
    /// The sizes of the segment as the worker attached it.
    public var ringSizes: ChannelRingSizes
    /// The largest message the worker accepts.
    public var maxMessageSize: UInt64
    public var waitBackend: String
    public var capabilities: [String: String]
    /// Capabilities the worker requires from the host.
    public var requiredHostCapabilities: [String]
    /// Invocations the worker runs at once (informational: more are queued in the worker).
    public var maxConcurrency: UInt32
    /// Free-form runtime description (language, version).
    public var runtime: String

    public init(
        protocolVersions: ClosedRange<UInt16>, protocolVersion: UInt16, workerID: String, workerPID: Int32,
        ringSizes: ChannelRingSizes, maxMessageSize: UInt64, waitBackend: String, capabilities: [String: String] = [:],
        requiredHostCapabilities: [String] = [], maxConcurrency: UInt32, runtime: String = "swift"
    ) {
        self.protocolVersions = protocolVersions
        self.protocolVersion = protocolVersion
        self.workerID = workerID
        self.workerPID = workerPID
        self.ringSizes = ringSizes
        self.maxMessageSize = maxMessageSize
        self.waitBackend = waitBackend
        self.capabilities = capabilities
        self.requiredHostCapabilities = requiredHostCapabilities
        self.maxConcurrency = maxConcurrency
        self.runtime = runtime
    }

    static let type: UInt8 = 2

    public func encoded() -> [UInt8] {
        var e = ChannelEncoder()
        e.putHelloHeader(type: Self.type, versions: protocolVersions)
        e.put(protocolVersion)
        e.putString(workerID)
        e.put(workerPID)
        ringSizes.encode(into: &e)
        e.put(maxMessageSize)
        e.putString(waitBackend)
        e.putMap(capabilities)
        e.put(UInt16(requiredHostCapabilities.count))
        for name in requiredHostCapabilities { e.putString(name) }
        e.put(maxConcurrency)
        e.putString(runtime)
        return e.bytes
    }

    public init(decoding bytes: UnsafeRawBufferPointer) throws(ChannelCodecError) {
        var d = ChannelDecoder(bytes)
        protocolVersions = try d.takeHelloHeader(type: Self.type)
        protocolVersion = try d.take("protocolVersion")
        workerID = try d.takeString("workerID", limit: ChannelProtocol.Limits.maxWorkerIDBytes)
        workerPID = try d.take("workerPID")
        ringSizes = try ChannelRingSizes(decoding: &d)
        maxMessageSize = try d.take("maxMessageSize")
        waitBackend = try d.takeString("waitBackend", limit: 64)
        capabilities = try d.takeMap("capabilities", limit: ChannelProtocol.Limits.maxCapabilities)
        let required = Int(try d.take("requiredHostCapabilities") as UInt16)
        guard required <= ChannelProtocol.Limits.maxCapabilities else {
            throw .limitExceeded(field: "requiredHostCapabilities", size: required, limit: ChannelProtocol.Limits.maxCapabilities)
        }
        requiredHostCapabilities = []
        for _ in 0..<required { requiredHostCapabilities.append(try d.takeString("requiredHostCapability", limit: 1024)) }
        maxConcurrency = try d.take("maxConcurrency")
        runtime = try d.takeString("runtime", limit: 256)
        try d.finish()
    }

    /// The worker's answer to `host`: the highest common protocol version (0 when none).
    public static func chooseVersion(host: ClosedRange<UInt16>, worker: ClosedRange<UInt16>) -> UInt16 {
        host.overlaps(worker) ? min(host.upperBound, worker.upperBound) : 0
    }
}

// Both hellos start the same way: codec version, hello type, the range of protocol versions.
extension ChannelEncoder {
    mutating func putHelloHeader(type: UInt8, versions: ClosedRange<UInt16>) {
        put(ChannelProtocol.codecVersion)
        put(type)
        put(versions.lowerBound)
        put(versions.upperBound)
    }
}

extension ChannelDecoder {
    /// Checks the codec version and hello type; returns the protocol versions the sender speaks.
    mutating func takeHelloHeader(type: UInt8) throws(ChannelCodecError) -> ClosedRange<UInt16> {
        let version: UInt8 = try take("handshake codec version")
        guard version == ChannelProtocol.codecVersion else { throw .unsupportedVersion(field: "handshake codec", found: version) }
        let found: UInt8 = try take("handshake type")
        guard found == type else { throw .unknownValue(field: "handshake type", value: UInt64(found)) }
        let low: UInt16 = try take("protocolVersions.lower")
        let high: UInt16 = try take("protocolVersions.upper")
        guard low <= high else { throw .unknownValue(field: "protocolVersions", value: UInt64(low) << 16 | UInt64(high)) }
        return low...high
    }
}

/// What differed when a handshake failed. Every case names both sides' values.
public enum HandshakeMismatch: Error, Equatable, Sendable, CustomStringConvertible {
    /// No protocol version both sides speak (or the worker chose one outside the ranges).
    case protocolVersion(host: ClosedRange<UInt16>, worker: ClosedRange<UInt16>, chosen: UInt16)
    /// The worker answered with another id than the one it was given.
    case workerID(expected: String, found: String)
    /// The worker's pid is not the process the host started (or the socket peer).
    case workerPID(expected: Int32, found: Int32)
    /// The worker attached a segment of other sizes than the host created.
    case ringSizes(field: String, host: UInt64, worker: UInt64)
    /// The worker accepts smaller messages than the host requires.
    case maxMessageSize(hostRequires: UInt64, workerAccepts: UInt64)
    /// The two sides wait in ways that cannot wake each other.
    case waitBackend(host: String, worker: String)
    /// `side` lacks capabilities the other side requires.
    case missingCapabilities(side: ChannelSide, missing: [String])
    /// The handshake bytes did not decode, or another message came first.
    case malformed(String)

    public var description: String {
        switch self {
        case .protocolVersion(let host, let worker, let chosen):
            "protocol version: host speaks \(host.lowerBound)...\(host.upperBound), worker \(worker.lowerBound)...\(worker.upperBound) (chose \(chosen))"
        case .workerID(let expected, let found): "worker id: expected '\(expected)', worker says '\(found)'"
        case .workerPID(let expected, let found): "worker pid: expected \(expected), worker says \(found)"
        case .ringSizes(let field, let host, let worker): "ring sizes: \(field) is \(host) on the host, \(worker) on the worker"
        case .maxMessageSize(let required, let accepts):
            "max message size: host requires \(required) bytes, worker accepts \(accepts)"
        case .waitBackend(let host, let worker): "wait backend: host uses \(host), worker \(worker) (they cannot wake each other)"
        case .missingCapabilities(let side, let missing): "capabilities: the \(side) lacks \(missing.joined(separator: ", "))"
        case .malformed(let detail): "malformed handshake: \(detail)"
        }
    }
}

/// The host's decision on a worker's hello (pure: no I/O).
package enum HandshakeCheck {
    /// Returns the negotiated protocol version, or throws the first difference found.
    /// - Parameters:
    ///   - expectedPID: the spawned child's pid or the socket peer's; nil skips the check.
    ///   - requiredWorkerCapabilities: capability names the worker must announce.
    ///   - requiredMaxMessageSize: the message size the worker must accept (nil: the segment's).
    package static func evaluate(
        host: HostHello, worker: WorkerHello, expectedPID: Int32?, requiredWorkerCapabilities: Set<String>,
        requiredMaxMessageSize: UInt64? = nil
    ) throws(HandshakeMismatch) -> UInt16 {
        let chosen = worker.protocolVersion
        guard chosen != 0, host.protocolVersions.contains(chosen), worker.protocolVersions.contains(chosen) else {
            throw .protocolVersion(host: host.protocolVersions, worker: worker.protocolVersions, chosen: chosen)
        }
        guard worker.workerID == host.workerID else { throw .workerID(expected: host.workerID, found: worker.workerID) }
        if let expectedPID, worker.workerPID != expectedPID { throw .workerPID(expected: expectedPID, found: worker.workerPID) }
        let h = host.ringSizes
        let w = worker.ringSizes
        for (field, hv, wv) in [
            ("hostToWorkerCapacity", h.hostToWorkerCapacity, w.hostToWorkerCapacity),
            ("workerToHostCapacity", h.workerToHostCapacity, w.workerToHostCapacity),
            ("maxFrameLength", h.maxFrameLength, w.maxFrameLength),
            ("maxMessageSize", h.maxMessageSize, w.maxMessageSize),
        ] where hv != wv {
            throw .ringSizes(field: field, host: hv, worker: wv)
        }
        let required = requiredMaxMessageSize ?? h.maxMessageSize
        guard worker.maxMessageSize >= required else { throw .maxMessageSize(hostRequires: required, workerAccepts: worker.maxMessageSize) }
        guard WaitBackendName.compatible(host.waitBackend, worker.waitBackend) else {
            throw .waitBackend(host: host.waitBackend, worker: worker.waitBackend)
        }
        let lackingWorker = requiredWorkerCapabilities.filter { worker.capabilities[$0] == nil }.sorted()
        guard lackingWorker.isEmpty else { throw .missingCapabilities(side: .worker, missing: lackingWorker) }
        let lackingHost = worker.requiredHostCapabilities.filter { host.capabilities[$0] == nil }.sorted()
        guard lackingHost.isEmpty else { throw .missingCapabilities(side: .host, missing: lackingHost) }
        return chosen
    }
}
