// ResponseWriter — the server's outbound half of a stream: response metadata, messages, then
// exactly one status with trailers. Finishing with an error before a status resets the stream
// (the client sees the error's code); anything written after the end is refused.
import GRPCCore
import RingCore
import Synchronization

final class ResponseWriter: ClosableRPCWriterProtocol, Sendable {
    typealias Element = RPCResponsePart<[UInt8]>

    private let link: RingLink
    private let streamId: UInt64
    /// Response messages wait here for the client's credit (StreamFlowControl.swift).
    private let window: SendWindow
    /// Called once the response ended (status sent or stream reset), with this writer: a stream
    /// id the client reuses later belongs to another writer, which this end must not touch.
    private let onEnd: @Sendable (ResponseWriter) -> Void
    /// The responses' lifecycle (StreamLifecycle+StateMachine.swift).
    private let state = RingMutex(ServerResponsesStateMachine())

    init(link: RingLink, streamId: UInt64, window: SendWindow, onEnd: @escaping @Sendable (ResponseWriter) -> Void) {
        self.link = link
        self.streamId = streamId
        self.window = window
        self.onEnd = onEnd
    }

    /// The client reset the stream: later writes fail, nothing more is sent.
    func clientReset() {
        state.withLock { $0.clientReset() }
    }

    func write(_ element: Element) async throws {
        let part: ServerResponsesStateMachine.Part = switch element {
        case .metadata: .metadata
        case .message: .message
        case .status: .status
        }
        if case .refuse(let code, let message) = state.withLock({ $0.write(part) }) { throw RPCError(code: code, message: message) }
        switch element {
        case .metadata(let metadata):
            try await link.send(.streamMetadata, streamId: streamId, payload: StreamWire.encodeMetadata(metadata))
        case .message(let bytes):
            try await window.acquire(bytes.count)
            try await link.send(.streamMessage, streamId: streamId, payload: bytes)
        case .status(let status, let trailers):
            defer { onEnd(self) }
            try await link.send(.streamStatus, streamId: streamId, payload: StreamWire.encodeStatus(status, trailers: trailers))
        }
    }

    func write(contentsOf elements: some Sequence<Element>) async throws {
        for element in elements { try await write(element) }
    }

    func finish() async {
        await finish(throwing: RPCError(code: .internalError, message: "the server ended the stream without a status"))
    }

    func finish(throwing error: any Error) async {
        switch state.withLock({ $0.finish() }) {
        case .none: return
        case .endSilently:
            onEnd(self)
            return
        case .sendReset: break
        }
        defer { onEnd(self) }
        let rpcError = error as? RPCError
        let code = rpcError.map { Status.Code($0.code) } ?? .unknown
        let message = rpcError?.message ?? "the server aborted the stream: \(error)"
        try? await link.send(.streamReset, streamId: streamId, payload: StreamWire.encodeReset(code: code, message: message))
    }
}
