// The HTTP example's codecs and join, byte by byte: the payload format of Docs/HTTP.md, the event
// stream's messages, and every outcome of the forwarding join.
import HTTPFunctionKit
import RingCore
import Testing

@Suite struct HTTPPayloadTests {
    let request = HTTPFunctionRequest(
        method: "POST", target: "/echo?x=1", headers: [("Content-Type", "text/plain"), ("x-a", "b")], body: Array("hi".utf8))

    @Test func requestHasTheDocumentedLayout() throws {
        let bytes = try HTTPPayload.encode(HTTPFunctionRequest(method: "GET", target: "/a", headers: [("k", "v")], body: [0xAB]))
        #expect(bytes == [
            0x01,                       // version
            0x03, 0x00, 0x47, 0x45, 0x54,  // method "GET"
            0x02, 0x00, 0x2F, 0x61,     // target "/a"
            0x01, 0x00,                 // one header
            0x01, 0x00, 0x6B,           // name "k"
            0x01, 0x00, 0x00, 0x00, 0x76,  // value "v"
            0x01, 0x00, 0x00, 0x00, 0xAB,  // body
        ])
    }

    @Test func replyHasTheDocumentedLayout() throws {
        let bytes = try HTTPPayload.encode(HTTPFunctionReply(status: 201, headers: [], body: [0x01, 0x02]))
        #expect(bytes == [0x01, 0xC9, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x01, 0x02])
    }

    @Test func requestsAndRepliesRoundTrip() throws {
        #expect(try HTTPPayload.decodeRequest(HTTPPayload.encode(request)) == request)
        let reply = HTTPFunctionReply(status: 404, headers: [("x", "y")], body: Array(repeating: 7, count: 70_000))
        #expect(try HTTPPayload.decodeReply(HTTPPayload.encode(reply)) == reply)
    }

    @Test func everyTruncationIsATypedError() throws {
        let bytes = try HTTPPayload.encode(request)
        for length in 0..<bytes.count {
            #expect(throws: HTTPPayloadError.self) { try HTTPPayload.decodeRequest(Array(bytes[..<length])) }
        }
        #expect(throws: HTTPPayloadError.truncated(field: "version")) { try HTTPPayload.decodeRequest([]) }
    }

    @Test func malformedPayloadsAreRejected() throws {
        var bytes = try HTTPPayload.encode(request)
        #expect(throws: HTTPPayloadError.trailingBytes(1)) { try HTTPPayload.decodeRequest(bytes + [0]) }
        bytes[0] = 2
        #expect(throws: HTTPPayloadError.unsupportedVersion(2)) { try HTTPPayload.decodeRequest(bytes) }
        // A method length over its bound is refused before anything is read.
        #expect(throws: HTTPPayloadError.limitExceeded(field: "method", size: 0xFFFF, limit: HTTPPayload.maxMethodBytes)) {
            try HTTPPayload.decodeRequest([1, 0xFF, 0xFF])
        }
        #expect(throws: HTTPPayloadError.invalidUTF8(field: "method")) { try HTTPPayload.decodeRequest([1, 1, 0, 0xFF]) }
        #expect(throws: HTTPPayloadError.invalidStatus(99)) { try HTTPPayload.decodeReply([1, 99, 0, 0, 0, 0, 0, 0, 0]) }
        #expect(throws: HTTPPayloadError.invalidStatus(600)) { try HTTPPayload.encode(HTTPFunctionReply(status: 600)) }
        let tooMany = HTTPFunctionRequest(method: "GET", target: "/", headers: Array(repeating: ("a", "b"), count: HTTPPayload.maxHeaders + 1), body: [])
        #expect(throws: HTTPPayloadError.limitExceeded(field: "header count", size: HTTPPayload.maxHeaders + 1, limit: HTTPPayload.maxHeaders)) {
            try HTTPPayload.encode(tooMany)
        }
    }

    let context = ForwardingContext(invocationId: ContextID(high: 1, low: 2), forwardingId: ContextID(high: 3, low: 4), traceparent: "00-ab")

    @Test func theFunctionsAnswerAsDocumented() throws {
        let echo = try HTTPPayload.decodeReply(#require(HTTPFunctions.answerInline(HTTPPayload.encode(request), context: context)))
        #expect(echo == HTTPFunctionReply(status: 200, headers: [("content-type", "text/plain"), ("x-function", "echo")], body: Array("hi".utf8)))
        let status = try HTTPPayload.decodeReply(#require(HTTPFunctions.answerInline(
            HTTPPayload.encode(HTTPFunctionRequest(method: "GET", target: "/status/418", headers: [], body: [])), context: context)))
        #expect(status.status == 418 && status.body.isEmpty)
        #expect(HTTPFunctions.answerInline(try HTTPPayload.encode(HTTPFunctionRequest(method: "GET", target: "/hang", headers: [], body: [])), context: context) == nil)
        let bad = try HTTPPayload.decodeReply(#require(HTTPFunctions.answerInline([9], context: context)))
        #expect(bad.status == 400)
        #expect(bad.text == "HTTP payload version 9 is not supported (this side speaks 1)\n")
        let seen = try HTTPPayload.decodeReply(#require(HTTPFunctions.answerInline(
            HTTPPayload.encode(HTTPFunctionRequest(method: "GET", target: "/context?x", headers: [], body: [])), context: context)))
        #expect(seen.text == "forwardingId=00000000-0000-0003-0000-000000000004\ntraceparent=00-ab\n")
    }

    @Test func eventStreamMessagesRoundTripAndRejectGarbage() throws {
        let context = ForwardingContext(invocationId: ContextID(high: 1, low: 2), forwardingId: ContextID(high: 3, low: 4), traceparent: "00-ab")
        let out = EventStreamRequest(number: 0x0102_0304_0506_0708, context: context, payload: [1, 2, 3])
        let encoded = try EventStreamMessage.encode(out)
        #expect(Array(encoded[0..<8]) == [8, 7, 6, 5, 4, 3, 2, 1])
        #expect(try EventStreamMessage.decodeRequest(encoded) == out)
        let back = EventStreamReply(number: 9, succeeded: false, context: context, payload: Array("no".utf8))
        #expect(try EventStreamMessage.decodeReply(EventStreamMessage.encode(back)) == back)
        #expect(throws: EventStreamError.self) { try EventStreamMessage.decodeRequest(Array(encoded[..<11])) }
        var badStatus = try EventStreamMessage.encode(back)
        badStatus[8] = 2
        #expect(throws: EventStreamError.self) { try EventStreamMessage.decodeReply(badStatus) }
        var hugeContext = encoded
        hugeContext.replaceSubrange(8..<12, with: [0xFF, 0xFF, 0xFF, 0x7F])
        #expect(throws: EventStreamError.self) { try EventStreamMessage.decodeRequest(hugeContext) }
    }
}

extension HTTPFunctionReply {
    var text: String { String(decoding: body, as: UTF8.self) }
}
