// ControlMessage — the payloads of FrameKind.control frames: worker init, function load, status
// ping/pong and terminate (Docs/Protocol.md §4). The frame's stream id correlates a request with its
// response. Application payloads (init, function metadata) stay opaque bytes.
@_spi(Codec) import RingCore

/// The outcome a worker reports for an init or function-load request.
package enum ControlResult: Equatable, Sendable {
    case success
    case failure(message: String)

    func encode(into e: inout ChannelEncoder) {
        switch self {
        case .success:
            e.put(UInt8(0))
        case .failure(let message):
            e.put(UInt8(1))
            e.putLongString(message, maxBytes: ChannelProtocol.Limits.maxFailureMessageBytes)
        }
    }

    init(decoding d: inout ChannelDecoder) throws(ChannelCodecError) {
        let code: UInt8 = try d.take("result")
        switch code {
        case 0: self = .success
        case 1: self = .failure(message: try d.takeLongString("result message", limit: ChannelProtocol.Limits.maxFailureMessageBytes))
        default: throw .unknownValue(field: "result", value: UInt64(code))
        }
    }
}

/// What a worker reports in answer to a status request.
public struct WorkerStatus: Equatable, Sendable {
    /// Handlers running now.
    public var running: UInt32
    /// Invocations received but waiting for a free handler slot.
    public var queued: UInt32
    /// Invocations answered so far.
    public var completed: UInt64

    public init(running: UInt32, queued: UInt32, completed: UInt64) {
        self.running = running
        self.queued = queued
        self.completed = completed
    }
}

/// A control message (FrameKind.control).
package enum ControlMessage: Equatable, Sendable {
    /// host → worker: start-up information and an opaque application payload.
    case workerInit(hostVersion: String, payload: [UInt8])
    /// worker → host: the answer to `workerInit`.
    case workerInitResponse(ControlResult, workerVersion: String, payload: [UInt8])
    /// host → worker: a function the worker will be asked to run, with opaque metadata.
    case functionLoad(functionID: String, metadata: [UInt8])
    /// worker → host: the answer to `functionLoad`.
    case functionLoadResponse(functionID: String, ControlResult)
    /// host → worker: a status ping.
    case statusRequest
    /// worker → host: the pong.
    case statusResponse(WorkerStatus)
    /// host → worker: finish in-flight invocations within the grace period, cancel the rest, exit.
    case terminate(gracePeriodNanoseconds: UInt64)

    /// The side that sends this message.
    package var sender: ChannelSide {
        switch self {
        case .workerInit, .functionLoad, .statusRequest, .terminate: .host
        case .workerInitResponse, .functionLoadResponse, .statusResponse: .worker
        }
    }

    var type: UInt8 {
        switch self {
        case .workerInit: 1
        case .workerInitResponse: 2
        case .functionLoad: 3
        case .functionLoadResponse: 4
        case .statusRequest: 5
        case .statusResponse: 6
        case .terminate: 7
        }
    }

    package func encoded() -> [UInt8] {
        var e = ChannelEncoder()
        e.put(ChannelProtocol.codecVersion)
        e.put(type)
        switch self {
        case .workerInit(let hostVersion, let payload):
            e.putString(hostVersion)
            e.putBytes(payload)
        case .workerInitResponse(let result, let workerVersion, let payload):
            result.encode(into: &e)
            e.putString(workerVersion)
            e.putBytes(payload)
        case .functionLoad(let functionID, let metadata):
            e.putString(functionID)
            e.putBytes(metadata)
        case .functionLoadResponse(let functionID, let result):
            e.putString(functionID)
            result.encode(into: &e)
        case .statusRequest:
            break
        case .statusResponse(let status):
            e.put(status.running)
            e.put(status.queued)
            e.put(status.completed)
        case .terminate(let grace):
            e.put(grace)
        }
        return e.bytes
    }

    package init(decoding bytes: UnsafeRawBufferPointer) throws(ChannelCodecError) {
        typealias L = ChannelProtocol.Limits
        var d = ChannelDecoder(bytes)
        let version: UInt8 = try d.take("control codec version")
        guard version == ChannelProtocol.codecVersion else { throw .unsupportedVersion(field: "control codec", found: version) }
        let type: UInt8 = try d.take("control type")
        switch type {
        case 1:
            self = .workerInit(
                hostVersion: try d.takeString("hostVersion", limit: 256),
                payload: try d.takeBytes("init payload", limit: L.maxControlPayloadBytes))
        case 2:
            let result = try ControlResult(decoding: &d)
            self = .workerInitResponse(
                result, workerVersion: try d.takeString("workerVersion", limit: 256),
                payload: try d.takeBytes("init response payload", limit: L.maxControlPayloadBytes))
        case 3:
            self = .functionLoad(
                functionID: try d.takeString("functionID", limit: L.maxFunctionNameBytes),
                metadata: try d.takeBytes("function metadata", limit: L.maxControlPayloadBytes))
        case 4:
            let functionID = try d.takeString("functionID", limit: L.maxFunctionNameBytes)
            self = .functionLoadResponse(functionID: functionID, try ControlResult(decoding: &d))
        case 5:
            self = .statusRequest
        case 6:
            self = .statusResponse(WorkerStatus(running: try d.take("running"), queued: try d.take("queued"), completed: try d.take("completed")))
        case 7:
            self = .terminate(gracePeriodNanoseconds: try d.take("gracePeriod"))
        default:
            throw .unknownValue(field: "control type", value: UInt64(type))
        }
        try d.finish()
    }
}
