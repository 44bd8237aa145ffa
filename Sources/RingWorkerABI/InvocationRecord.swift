// InvocationRecord — one invocation laid out for C: an `rt_invocation` (the header's struct) followed
// in the same allocation by every string and byte run it points to, each string NUL-terminated. The
// foreign code reads it until it answers; the handle frees it after the answer is written.
import CRingWorker
import RingChannel
import RingCore

enum InvocationRecord {
    /// Builds the record (one allocation, owned by the caller: `free(_:)` it).
    static func make(_ invocation: Invocation, contextBytes: [UInt8]) -> UnsafeMutablePointer<rt_invocation> {
        let context = invocation.context
        let attributeCount = context.attributes.count
        // Sizes: the struct, the attribute array, then the bytes (strings + 1 for their NUL).
        var bytes = invocation.function.utf8.count + 1 + invocation.payload.count + contextBytes.count
        bytes += context.traceparent.utf8.count + 1 + context.tracestate.utf8.count + 1
        for attribute in context.attributes { bytes += attribute.key.utf8.count + 1 + attribute.value.utf8.count + 1 }
        let head = MemoryLayout<rt_invocation>.stride
        let table = attributeCount * MemoryLayout<rt_attribute>.stride
        let base = UnsafeMutableRawPointer.allocate(byteCount: head + table + bytes, alignment: 16)
        var cursor = base + head + table

        func place(_ source: UnsafeRawBufferPointer) -> UnsafePointer<UInt8> {
            let start = cursor.assumingMemoryBound(to: UInt8.self)
            if let address = source.baseAddress, source.count > 0 { cursor.copyMemory(from: address, byteCount: source.count) }
            cursor += source.count
            return UnsafePointer(start)
        }
        func text(_ string: String) -> rt_string {
            var string = string
            let length = string.utf8.count
            let start = string.withUTF8 { place(UnsafeRawBufferPointer($0)) }
            cursor.storeBytes(of: 0, as: UInt8.self)
            cursor += 1
            return rt_string(data: UnsafeRawPointer(start).assumingMemoryBound(to: CChar.self), length: length)
        }
        func run(_ array: [UInt8]) -> rt_bytes {
            rt_bytes(data: array.withUnsafeBytes { place($0) }, length: array.count)
        }

        let attributes = (base + head).bindMemory(to: rt_attribute.self, capacity: attributeCount)
        for (index, attribute) in context.attributes.enumerated() {
            (attributes + index).initialize(to: rt_attribute(key: text(attribute.key), value: text(attribute.value)))
        }
        var record = rt_invocation()
        record.number = invocation.number
        record.function = text(invocation.function)
        record.payload = run(invocation.payload)
        record.context = run(contextBytes)
        record.invocation_id_high = context.invocationId.high
        record.invocation_id_low = context.invocationId.low
        record.forwarding_id_high = context.forwardingId.high
        record.forwarding_id_low = context.forwardingId.low
        record.retry_count = context.retryCount
        record.max_retries = context.maxRetries
        record.has_deadline = context.deadlineNanoseconds == nil ? 0 : 1
        record.deadline_ns = context.deadlineNanoseconds ?? 0
        record.traceparent = text(context.traceparent)
        record.tracestate = text(context.tracestate)
        record.attributes = UnsafePointer(attributes)
        record.attribute_count = attributeCount
        let pointer = base.bindMemory(to: rt_invocation.self, capacity: 1)
        pointer.initialize(to: record)
        return pointer
    }

    static func free(_ record: UnsafeMutablePointer<rt_invocation>) {
        UnsafeMutableRawPointer(record).deallocate()
    }
}
