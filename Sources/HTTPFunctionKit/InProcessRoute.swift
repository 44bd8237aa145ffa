// InProcessRoute — the function called in the host's own process: no transport at all. Its rows
package import RingCore
// are the HTTP front's ceiling, so a report can say how much of each route's cost is the transport.
package struct InProcessRoute: InvocationRoute {
    package var name: String { "inprocess" }

    package init() {}

    package func start() async throws {}

    package func invoke(_ request: HTTPFunctionRequest, requestID: ContextID, traceparent: String) async -> RouteOutcome {
        do {
            return .reply(try await HTTPFunctions.handle(request, context: ForwardingContext(invocationId: requestID, forwardingId: requestID, traceparent: traceparent)))
        } catch {
            return .unavailable("cancelled")
        }
    }

    package var inFlight: Int { 0 }

    package func killOneWorker() async -> Bool { false }

    package func shutdown() async {}
}
