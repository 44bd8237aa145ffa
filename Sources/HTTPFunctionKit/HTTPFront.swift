// HTTPFront — the host's HTTP/1.1 server (swift-nio, NIOHTTP1): each request becomes one
// invocation on the route; the reply becomes the response. The front is the same for every
// route, so rows of `ringbench http` differ by transport only.
//
// Per request: a new request id (the forwarding key), `traceparent` taken from the request when it
// has one, the invocation run as a task (on the route's executor when it has one), and exactly one
// response: the function's reply when the reply names this request, otherwise 500/503/504 with a
// plain-text reason (RouteOutcome), counted in HTTPHostStats. `GET /_stats` answers the counters.
import NIOCore
import NIOHTTP1
import RingCore
import Synchronization

package final class HTTPFront: Sendable {
    package let route: any InvocationRoute
    package let stats: HTTPHostStats
    let maxBodyBytes: Int
    private let sequence = Atomic<UInt64>(0)

    package init(route: any InvocationRoute, stats: HTTPHostStats, maxBodyBytes: Int) {
        self.route = route
        self.stats = stats
        self.maxBodyBytes = maxBodyBytes
    }

    /// A finished response.
    struct Response: Sendable {
        var status: HTTPResponseStatus
        var headers: [(String, String)]
        var body: [UInt8]

        static func text(_ status: HTTPResponseStatus, _ message: String) -> Response {
            Response(status: status, headers: [("content-type", "text/plain; charset=utf-8")], body: Array((message + "\n").utf8))
        }
    }

    /// Runs one request on the route and completes `promise` with its response. The task runs on
    /// the route's executor when it has one (the rings: the reactor thread), otherwise on the
    /// connection's event loop (`loopExecutor`).
    func process(_ request: HTTPFunctionRequest, loopExecutor: EventLoopTaskExecutor, promise: EventLoopPromise<Response>) {
        stats.add(.requests)
        let requestID = RequestIDs.make(sequence.wrappingAdd(1, ordering: .relaxed).oldValue)
        let traceparent = request.header("traceparent") ?? ""
        Task(executorPreference: route.taskExecutor ?? loopExecutor) { [route, stats] in
            let outcome = await route.invoke(request, requestID: requestID, traceparent: traceparent)
            stats.count(outcome)
            promise.succeed(Self.response(outcome, requestID: requestID))
        }
    }

    static func response(_ outcome: RouteOutcome, requestID: ContextID) -> Response {
        switch outcome {
        case .reply(let reply):
            // Hop-by-hop and framing headers are the front's, not the function's.
            let headers = reply.headers.filter { !["content-length", "transfer-encoding", "connection"].contains($0.name.lowercased()) }
            return Response(
                status: HTTPResponseStatus(statusCode: reply.status), headers: headers.map { ($0.name, $0.value) } + [("x-forwarding-id", "\(requestID)")],
                body: reply.body)
        case .mismatchedKey(let expected, let received):
            return .text(.internalServerError, "forwarding key mismatch: request \(expected), reply named \(received)")
        case .missingKey: return .text(.internalServerError, RouteOutcome.missingKeyMessage)
        case .workerLost(let reason): return .text(.serviceUnavailable, "the worker ended with the invocation: \(reason)")
        case .unavailable(let reason): return .text(.serviceUnavailable, "no worker available: \(reason)")
        case .timedOut: return .text(.gatewayTimeout, "the invocation exceeded its deadline")
        case .failed(let reason): return .text(.internalServerError, "the function failed: \(reason)")
        }
    }
}

/// One connection's handler; HTTPServerPipelineHandler (added by configureHTTPServerPipeline)
/// keeps pipelined requests in order, one at a time.
final class HTTPFrontHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    let front: HTTPFront
    let loopExecutor: EventLoopTaskExecutor
    private var head: HTTPRequestHead?
    private var body: [UInt8] = []
    private var tooLarge = false

    init(front: HTTPFront, eventLoop: any EventLoop) {
        self.front = front
        loopExecutor = EventLoopTaskExecutor(eventLoop)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            body = []
            tooLarge = false
        case .body(let buffer):
            if tooLarge || body.count + buffer.readableBytes > front.maxBodyBytes {
                tooLarge = true
                body = []
            } else {
                body.append(contentsOf: buffer.readableBytesView)
            }
        case .end:
            guard let head else { return }
            self.head = nil
            let keepAlive = head.isKeepAlive
            if tooLarge {
                front.stats.add(.rejected)
                write(.text(.payloadTooLarge, "request body exceeds \(front.maxBodyBytes) bytes"), keepAlive: false, context: context)
                return
            }
            if head.method == .GET, head.uri == "/_stats" {
                write(HTTPFront.Response(status: .ok, headers: [("content-type", "application/json")], body: Array(front.stats.json(route: front.route.name).utf8)),
                      keepAlive: keepAlive, context: context)
                return
            }
            let request = HTTPFunctionRequest(method: head.method.rawValue, target: head.uri, headers: head.headers.map { ($0.name, $0.value) }, body: body)
            body = []
            let promise = context.eventLoop.makePromise(of: HTTPFront.Response.self)
            let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            promise.futureResult.whenSuccess { response in
                let (handler, context) = bound.value
                handler.write(response, keepAlive: keepAlive, context: context)
            }
            front.process(request, loopExecutor: loopExecutor, promise: promise)
        }
    }

    private func write(_ response: HTTPFront.Response, keepAlive: Bool, context: ChannelHandlerContext) {
        var headers = HTTPHeaders(response.headers)
        headers.replaceOrAdd(name: "content-length", value: "\(response.body.count)")
        if !keepAlive { headers.replaceOrAdd(name: "connection", value: "close") }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: response.status, headers: headers))), promise: nil)
        if !response.body.isEmpty {
            var buffer = context.channel.allocator.buffer(capacity: response.body.count)
            buffer.writeBytes(response.body)
            context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
        }
        let done = context.writeAndFlushPromise()
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: done)
        if !keepAlive {
            let channel = context.channel
            done.futureResult.whenComplete { _ in channel.close(promise: nil) }
        }
    }
}

extension ChannelHandlerContext {
    fileprivate func writeAndFlushPromise() -> EventLoopPromise<Void> { eventLoop.makePromise() }
}
