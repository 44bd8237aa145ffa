// InvocationRoute — how the HTTP front reaches the function: over the rings (RingRoute), over a
// gRPC bidirectional stream on HTTP/2 (GRPCRoute), or in-process (InProcessRoute, the front's own
// ceiling). The front is the same for all three, so a comparison of routes compares transports.
package import RingCore

/// What became of one HTTP request's invocation, as the front turns it into a response.
package enum RouteOutcome: Sendable, Equatable {
    /// The worker answered and its reply names this request: written to the client as it is.
    case reply(HTTPFunctionReply)
    /// The reply names another HTTP request (500; never the other request's body).
    case mismatchedKey(expected: ContextID, received: ContextID)
    /// The reply arrived where the forwarding key was not (yet) known (500). The rings cannot
    /// produce this: the key is inside the reply frame. The negative control does.
    case missingKey
    /// The worker that held the invocation ended (503): the client may retry.
    case workerLost(String)
    /// No worker can take the invocation now, or the host is stopping (503).
    case unavailable(String)
    /// The invocation's deadline passed (504).
    case timedOut
    /// The worker failed the invocation or answered something that is not an HTTP reply (500).
    case failed(String)

    /// The message of the original failure, word for word.
    package static let missingKeyMessage = "The function invocation context is missing the forwarding task property"
}

package protocol InvocationRoute: Sendable {
    /// `ring`, `grpc`, `grpc-late-join` or `inprocess`.
    var name: String { get }
    /// Where the front runs each request's invocation task; nil runs it on the global pool.
    var taskExecutor: (any TaskExecutor)? { get }
    /// Starts the workers; returns once they take invocations.
    func start() async throws
    /// Runs the request's function and joins the answer to `requestID` (the HTTP request).
    func invoke(_ request: HTTPFunctionRequest, requestID: ContextID, traceparent: String) async -> RouteOutcome
    /// Invocations sent to workers and not answered yet.
    var inFlight: Int { get }
    /// Fault injection: SIGKILLs one worker (it is restarted). False when none was running.
    func killOneWorker() async -> Bool
    /// Stops the workers; invocations still open end `unavailable`.
    func shutdown() async
}

extension InvocationRoute {
    package var taskExecutor: (any TaskExecutor)? { nil }
}

/// Request identities: unique per host process, never zero (zero means "no key").
package enum RequestIDs {
    private static let session = UInt64.random(in: 1...UInt64.max)

    package static func make(_ sequence: UInt64) -> ContextID { ContextID(high: session, low: sequence &+ 1) }
}
