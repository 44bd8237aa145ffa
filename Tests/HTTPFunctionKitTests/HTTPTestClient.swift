// HTTPTestClient — a keep-alive HTTP/1.1 client for the tests (NIOHTTP1's client codec): sends
// requests one after another on one connection and returns each whole response.
import NIOCore
import NIOHTTP1
import NIOPosix

struct HTTPTestResponse: Sendable {
    var status: Int
    var headers: HTTPHeaders
    var body: [UInt8]

    var text: String { String(decoding: body, as: UTF8.self) }
}

struct HTTPTestClient {
    let port: Int

    /// Sends `count` requests on one connection; `make(i)` gives the i-th request's target, headers
    /// and body; `check(i, response)` sees each response.
    func run(
        count: Int, make: (Int) -> (target: String, headers: [(String, String)], body: [UInt8]),
        check: (Int, HTTPTestResponse) throws -> Void
    ) async throws {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    return try NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>(wrappingChannelSynchronously: channel)
                }
            }
        try await channel.executeThenClose { inbound, outbound in
            var responses = inbound.makeAsyncIterator()
            for index in 0..<count {
                let request = make(index)
                var headers = HTTPHeaders(request.headers)
                headers.add(name: "host", value: "127.0.0.1")
                headers.add(name: "content-length", value: "\(request.body.count)")
                try await outbound.write(.head(HTTPRequestHead(version: .http1_1, method: .POST, uri: request.target, headers: headers)))
                try await outbound.write(.body(.byteBuffer(ByteBuffer(bytes: request.body))))
                try await outbound.write(.end(nil))
                var response: HTTPTestResponse?
                reading: while let part = try await responses.next() {
                    switch part {
                    case .head(let head): response = HTTPTestResponse(status: Int(head.status.code), headers: head.headers, body: [])
                    case .body(let buffer): response?.body.append(contentsOf: buffer.readableBytesView)
                    case .end: break reading
                    }
                }
                guard let response else { throw HTTPTestClientError.connectionClosed(afterResponses: index) }
                try check(index, response)
            }
        }
    }
}

enum HTTPTestClientError: Error {
    case connectionClosed(afterResponses: Int)
}
