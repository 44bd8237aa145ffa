// EventStreamMessage — the messages of the gRPC route's bidirectional stream (one stream per
// worker, the shape of the model host's `EventStream`): an invocation out, its answer back. The
// forwarding context travels inside each message, encoded exactly as in a ring frame
// (ForwardingContext+Codec, Docs/WireFormat.md §3); the HTTP payload follows (HTTPPayload).
//
//   request: u64 invocation number | u32 context length | context | payload (the rest)
//   reply:   u64 invocation number | u8 status (0 success, 1 failure) | u32 context length | context
//            | payload (the rest: the reply payload, or the failure message in UTF-8)
// Little-endian. The number joins a reply to its pending request on the host (ForwardingJoin).
package import RingCore

package struct EventStreamRequest: Sendable, Equatable {
    package var number: UInt64
    package var context: ForwardingContext
    package var payload: [UInt8]

    package init(number: UInt64, context: ForwardingContext, payload: [UInt8]) {
        self.number = number
        self.context = context
        self.payload = payload
    }
}

package struct EventStreamReply: Sendable, Equatable {
    package var number: UInt64
    package var succeeded: Bool
    package var context: ForwardingContext
    package var payload: [UInt8]

    package init(number: UInt64, succeeded: Bool, context: ForwardingContext, payload: [UInt8]) {
        self.number = number
        self.succeeded = succeeded
        self.context = context
        self.payload = payload
    }
}

/// A message of the event stream that cannot be decoded.
package struct EventStreamError: Error, Equatable, CustomStringConvertible {
    package let description: String
    init(_ description: String) { self.description = description }
}

package enum EventStreamMessage {
    package static func encode(_ request: EventStreamRequest) throws(ContextCodecError) -> [UInt8] {
        let context = try request.context.encoded()
        var writer = PayloadWriter(capacity: 12 + context.count + request.payload.count)
        writer.integer(Int(truncatingIfNeeded: request.number), bytes: 8)
        writer.integer(context.count, bytes: 4)
        writer.bytes.append(contentsOf: context)
        writer.bytes.append(contentsOf: request.payload)
        return writer.bytes
    }

    package static func encode(_ reply: EventStreamReply) throws(ContextCodecError) -> [UInt8] {
        let context = try reply.context.encoded()
        var writer = PayloadWriter(capacity: 13 + context.count + reply.payload.count)
        writer.integer(Int(truncatingIfNeeded: reply.number), bytes: 8)
        writer.u8(reply.succeeded ? 0 : 1)
        writer.integer(context.count, bytes: 4)
        writer.bytes.append(contentsOf: context)
        writer.bytes.append(contentsOf: reply.payload)
        return writer.bytes
    }

    package static func decodeRequest(_ bytes: [UInt8]) throws(EventStreamError) -> EventStreamRequest {
        try field { () throws(HTTPPayloadError) in
            try PayloadReader.read(bytes) { reader throws(HTTPPayloadError) in
                let number = UInt64(truncatingIfNeeded: try reader.integer(bytes: 8, field: "number"))
                let context = try Self.context(&reader)
                return EventStreamRequest(number: number, context: context, payload: reader.rest())
            }
        }
    }

    package static func decodeReply(_ bytes: [UInt8]) throws(EventStreamError) -> EventStreamReply {
        try field { () throws(HTTPPayloadError) in
            try PayloadReader.read(bytes) { reader throws(HTTPPayloadError) in
                let number = UInt64(truncatingIfNeeded: try reader.integer(bytes: 8, field: "number"))
                let status = try reader.integer(bytes: 1, field: "status")
                guard status <= 1 else { throw .limitExceeded(field: "reply status (0 success, 1 failure)", size: status, limit: 1) }
                let context = try Self.context(&reader)
                return EventStreamReply(number: number, succeeded: status == 0, context: context, payload: reader.rest())
            }
        }
    }

    /// The context (u32 length, then the ring codec's bytes), decoded by the ring codec.
    private static func context(_ reader: inout PayloadReader) throws(HTTPPayloadError) -> ForwardingContext {
        let count = try reader.integer(bytes: 4, field: "context length")
        guard count <= ForwardingContext.Limits.maxEncodedSize else {
            throw .limitExceeded(field: "context length", size: count, limit: ForwardingContext.Limits.maxEncodedSize)
        }
        let bytes = try reader.take(count, field: "context")
        do { return try ForwardingContext(decoding: bytes) } catch { throw .invalidContext("\(error)") }
    }

    private static func field<T>(_ body: () throws(HTTPPayloadError) -> T) throws(EventStreamError) -> T {
        do { return try body() } catch { throw EventStreamError("\(error)") }
    }
}
