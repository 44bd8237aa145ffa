import GRPCCore

/// The request parts of one server stream, as the handler reads them: every message handed to the
/// handler counts as consumed for the stream's flow control (`consumed`, which grants the client
/// credit). A handler that never reads holds back its client's writer, and nobody else.
struct RequestParts: AsyncSequence, Sendable {
    typealias Element = RPCRequestPart<[UInt8]>
    let base: AsyncThrowingStream<Element, any Error>
    let consumed: @Sendable (Int) async -> Void

    struct AsyncIterator: AsyncIteratorProtocol {
        var base: AsyncThrowingStream<Element, any Error>.AsyncIterator
        let consumed: @Sendable (Int) async -> Void

        mutating func next() async throws -> Element? {
            let part = try await base.next()
            if case .message(let bytes) = part { await consumed(bytes.count) }
            return part
        }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(base: base.makeAsyncIterator(), consumed: consumed) }
}
