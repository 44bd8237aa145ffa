// HTTPFunctions — the worker's HTTP-triggered functions: the one piece of user code, identical
// behind the ring route and the gRPC route (RingHTTPWorker serves it over either), and run
// in-process by the `inprocess` route (the HTTP front's ceiling).
package import RingCore
//
//   /hang            waits until the invocation is cancelled (or the worker dies): for kill tests
//   /context         200, text/plain: the invocation context the worker received, one field per
//                    line ("forwardingId=…", "traceparent=…")
//   /status/NNN      answers status NNN with an empty body
//   anything else    echo: 200, the request's body and content-type back, `x-function: echo`

package enum HTTPFunctions {
    /// The function id every HTTP invocation carries.
    package static let functionName = "http"

    /// The answer to `request`, or nil when it must wait (`/hang`): answered by `handle`.
    package static func handleInline(_ request: HTTPFunctionRequest, context: ForwardingContext) -> HTTPFunctionReply? {
        let path = request.target.split(separator: "?", maxSplits: 1).first.map(String.init) ?? request.target
        if path == "/hang" { return nil }
        if path == "/context" {
            return HTTPFunctionReply(
                status: 200, headers: [("content-type", "text/plain"), ("x-function", "context")],
                body: Array("forwardingId=\(context.forwardingId)\ntraceparent=\(context.traceparent)\n".utf8))
        }
        if path.hasPrefix("/status/"), let status = Int(path.dropFirst("/status/".count)), (100...599).contains(status) {
            return HTTPFunctionReply(status: status, headers: [("x-function", "status")])
        }
        return HTTPFunctionReply(
            status: 200,
            headers: [("content-type", request.header("content-type") ?? "application/octet-stream"), ("x-function", "echo")],
            body: request.body)
    }

    /// The answer to `request`; `/hang` waits until the task is cancelled and then throws.
    package static func handle(_ request: HTTPFunctionRequest, context: ForwardingContext) async throws -> HTTPFunctionReply {
        if let reply = handleInline(request, context: context) { return reply }
        while true { try await Task.sleep(for: .seconds(3600)) }
    }

    /// A payload that is not an HTTP request gets a 400 naming the fault (the worker never guesses).
    package static func badRequest(_ error: HTTPPayloadError) -> HTTPFunctionReply {
        HTTPFunctionReply(status: 400, headers: [("content-type", "text/plain")], body: Array("\(error)\n".utf8))
    }

    /// Payload in, payload out: decodes, runs, encodes. Nil when the request must wait (`/hang`).
    package static func answerInline(_ payload: [UInt8], context: ForwardingContext) -> [UInt8]? {
        let reply: HTTPFunctionReply
        do {
            guard let inline = handleInline(try HTTPPayload.decodeRequest(payload), context: context) else { return nil }
            reply = inline
        } catch {
            reply = badRequest(error)
        }
        return encodeOrFail(reply)
    }

    /// Payload in, payload out, waiting where the function waits.
    package static func answer(_ payload: [UInt8], context: ForwardingContext) async throws -> [UInt8] {
        if let inline = answerInline(payload, context: context) { return inline }
        return encodeOrFail(try await handle(try HTTPPayload.decodeRequest(payload), context: context))
    }

    /// A reply that cannot be encoded (a header over its bound) becomes a 500 that says so.
    static func encodeOrFail(_ reply: HTTPFunctionReply) -> [UInt8] {
        do {
            return try HTTPPayload.encode(reply)
        } catch {
            let fallback = HTTPFunctionReply(status: 500, headers: [("content-type", "text/plain")], body: Array("reply not encodable: \(error)\n".utf8))
            return (try? HTTPPayload.encode(fallback)) ?? []
        }
    }
}
