import GRPCCore

/// The response parts of one client stream. The stream table always ends a stream with a status or
/// an error; when iteration ends without either, the consuming task was cancelled (the underlying
/// stream terminates on cancellation) — that is reported as `CancellationError`, as GRPCCore's own
/// executors and the HTTP/2 transport report a caller's cancellation, never as a stream that simply
/// ended (which GRPCCore would take for a complete response). Should the stream end without a
/// status while the task is *not* cancelled, that is `RPCError(.cancelled)`.
///
/// Every message handed to the caller counts as consumed for the stream's flow control
/// (`consumed`, which grants the server credit).
struct ResponseParts: AsyncSequence, Sendable {
    typealias Element = RPCResponsePart<[UInt8]>
    let base: AsyncThrowingStream<Element, any Error>
    let consumed: @Sendable (Int) async -> Void

    struct AsyncIterator: AsyncIteratorProtocol {
        var base: AsyncThrowingStream<Element, any Error>.AsyncIterator
        let consumed: @Sendable (Int) async -> Void
        var sawStatus = false

        mutating func next() async throws -> Element? {
            guard let part = try await base.next() else {
                if sawStatus { return nil }
                if Task.isCancelled { throw CancellationError() }
                throw RPCError(code: .cancelled, message: "the RPC was cancelled before the server's status arrived")
            }
            switch part {
            case .status: sawStatus = true
            case .message(let bytes): await consumed(bytes.count)
            case .metadata: break
            }
            return part
        }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(base: base.makeAsyncIterator(), consumed: consumed) }
}
