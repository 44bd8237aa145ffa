// InvocationReplyView — an answer read where it lies: `FunctionHost.submit(…, readingReplyInPlace:)`
// hands its completion a view of the response frame's payload in the ring (or of the buffer a large
// answer was reassembled into), valid for the completion's call only — no array is made for it.
// The view is noncopyable and passed borrowed, so it cannot be kept; `copyPayload()` makes an array
// for a caller that wants one.
public import RingCore

/// An invocation's answer, borrowed for the duration of the completion it is passed to.
public struct InvocationReplyView: ~Copyable {
    /// success, failure (with the handler's message) or cancelled (by the worker).
    public let status: InvocationStatus
    /// The forwarding context decoded from the response frame.
    public let context: ForwardingContext
    /// The worker that answered.
    public let workerID: WorkerID
    /// The host-assigned invocation number (the frames' stream id).
    public let number: UInt64
    /// The payload's bytes: in the ring, or in the array of a reassembled answer, alive for the call.
    private let bytes: UnsafeRawBufferPointer

    init(status: InvocationStatus, context: ForwardingContext, workerID: WorkerID, number: UInt64, bytes: UnsafeRawBufferPointer) {
        self.status = status
        self.context = context
        self.workerID = workerID
        self.number = number
        self.bytes = bytes
    }

    /// Bytes of the reply payload.
    public var payloadCount: Int { bytes.count }

    /// Runs `body` over the payload where it lies. An answer that fit one frame lies in memory the
    /// worker shares: a hostile worker can change those bytes while `body` reads them (the host
    /// validated every field it reads itself — the prefix, the lengths, the context — once, before
    /// this call). Parse each byte once, or take `copyPayload()` first, when that matters.
    public func withPayload<R, E: Error>(_ body: (RawSpan) throws(E) -> R) throws(E) -> R {
        try body(RawSpan(_unsafeBytes: bytes))
    }

    /// The payload in an array of its own.
    public func copyPayload() -> [UInt8] { [UInt8](bytes) }

    // The three ways a completion gets its outcome. Out of line: Swift 6.3.1's optimizer crashed
    // (EarlyPerfInliner, `forwardToInit`) inlining the construction of a `Result` of this
    // noncopyable type into the host's callers.

    /// Calls `completion` with `outcome`: an answer that was stored, or came another way than
    /// through the reader, is viewed in its array.
    @inline(never)
    static func deliver(_ outcome: Result<InvocationResult, any Error>, to completion: InvocationReplyCompletion) {
        switch outcome {
        case .success(let result):
            result.payload.withUnsafeBytes { bytes in
                deliver(status: result.status, context: result.context, workerID: result.workerID, number: result.number, bytes: bytes, to: completion)
            }
        case .failure(let error):
            completion(.failure(error))
        }
    }

    /// Calls `completion` with a view of `bytes` (the reader's frame, or a reassembled answer).
    @inline(never)
    static func deliver(
        status: InvocationStatus, context: ForwardingContext, workerID: WorkerID, number: UInt64, bytes: UnsafeRawBufferPointer,
        to completion: InvocationReplyCompletion
    ) {
        completion(.success(InvocationReplyView(status: status, context: context, workerID: workerID, number: number, bytes: bytes)))
    }
}

/// The completion of an invocation whose answer is read in place.
public typealias InvocationReplyCompletion = @Sendable (borrowing Result<InvocationReplyView, any Error>) -> Void
