// EventStreamService — the worker's side of the gRPC route: one bidirectional stream per host
// connection (`ringhttp.FunctionRPC/EventStream`, raw-byte messages of EventStreamMessage). Each
// invocation runs as it arrives (the waiting ones concurrently, so a `/hang` holds nobody else);
// answers leave through the stream's one writer, in the order they finish.
package import GRPCCore
import GRPCRingTransport
import RingCore

package enum EventStreamMethod {
    package static let descriptor = MethodDescriptor(fullyQualifiedService: "ringhttp.FunctionRPC", method: "EventStream")
    /// Largest message either end accepts.
    package static let maxMessageBytes = 16 << 20
}

package struct EventStreamService: RegistrableRPCService {
    package init() {}

    package func registerMethods<Transport: ServerTransport>(with router: inout RPCRouter<Transport>) {
        router.registerHandler(
            forMethod: EventStreamMethod.descriptor, deserializer: RawBytesDeserializer(), serializer: RawBytesSerializer()
        ) { request, _ in
            StreamingServerResponse { writer in
                let (replies, output) = AsyncStream.makeStream(of: [UInt8].self)
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask {
                        defer { output.finish() }
                        try await withThrowingDiscardingTaskGroup { invocations in
                            for try await message in request.messages {
                                let invocation = try Self.decode(message)
                                if let inline = HTTPFunctions.answerInline(invocation.payload, context: invocation.context) {
                                    output.yield(try Self.reply(invocation, payload: inline))
                                } else {
                                    invocations.addTask { output.yield(try Self.reply(invocation, payload: try await HTTPFunctions.answer(invocation.payload, context: invocation.context))) }
                                }
                            }
                        }
                    }
                    for await reply in replies { try await writer.write(reply) }
                    try await group.waitForAll()
                }
                return [:]
            }
        }
    }

    static func decode(_ message: [UInt8]) throws -> EventStreamRequest {
        do { return try EventStreamMessage.decodeRequest(message) } catch {
            throw RPCError(code: .invalidArgument, message: "malformed invocation: \(error)")
        }
    }

    /// The answer carries the context the worker decoded, as a ring response frame does.
    static func reply(_ invocation: EventStreamRequest, payload: [UInt8]) throws -> [UInt8] {
        try EventStreamMessage.encode(EventStreamReply(number: invocation.number, succeeded: true, context: invocation.context, payload: payload))
    }
}
