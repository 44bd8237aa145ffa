// HTTPFunctions — the worker's HTTP-triggered functions: the one piece of user code, identical
// behind the ring route and the gRPC route (RingHTTPWorker serves it over either), and run
// in-process by the `inprocess` route (the HTTP front's ceiling).
//
//   /hang            waits until the invocation is cancelled (or the worker dies): for kill tests
//   /status/NNN      answers status NNN with an empty body
//   anything else    echo: 200, the request's body and content-type back, `x-function: echo`

package enum HTTPFunctions {
    /// The function id every HTTP invocation carries.
    package static let functionName = "http"

    /// The answer to `request`, or nil when it must wait (`/hang`): answered by `handle`.
    package static func handleInline(_ request: HTTPFunctionRequest) -> HTTPFunctionReply? {
        let path = request.target.split(separator: "?", maxSplits: 1).first.map(String.init) ?? request.target
        if path == "/hang" { return nil }
        if path.hasPrefix("/status/"), let status = Int(path.dropFirst("/status/".count)), (100...599).contains(status) {
            return HTTPFunctionReply(status: status, headers: [("x-function", "status")])
        }
        return HTTPFunctionReply(
            status: 200,
            headers: [("content-type", request.header("content-type") ?? "application/octet-stream"), ("x-function", "echo")],
            body: request.body)
    }

    /// The answer to `request`; `/hang` waits until the task is cancelled and then throws.
    package static func handle(_ request: HTTPFunctionRequest) async throws -> HTTPFunctionReply {
        if let reply = handleInline(request) { return reply }
        while true { try await Task.sleep(for: .seconds(3600)) }
    }

    /// A payload that is not an HTTP request gets a 400 naming the fault (the worker never guesses).
    package static func badRequest(_ error: HTTPPayloadError) -> HTTPFunctionReply {
        HTTPFunctionReply(status: 400, headers: [("content-type", "text/plain")], body: Array("\(error)\n".utf8))
    }

    /// Payload in, payload out: decodes, runs, encodes. Nil when the request must wait (`/hang`).
    package static func answerInline(_ payload: [UInt8]) -> [UInt8]? {
        let reply: HTTPFunctionReply
        do {
            guard let inline = handleInline(try HTTPPayload.decodeRequest(payload)) else { return nil }
            reply = inline
        } catch {
            reply = badRequest(error)
        }
        return encodeOrFail(reply)
    }

    /// Payload in, payload out, waiting where the function waits.
    package static func answer(_ payload: [UInt8]) async throws -> [UInt8] {
        if let inline = answerInline(payload) { return inline }
        return encodeOrFail(try await handle(try HTTPPayload.decodeRequest(payload)))
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
