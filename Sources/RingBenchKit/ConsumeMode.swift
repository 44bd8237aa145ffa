import ArgumentParser

/// What the receiving side does with each payload. The default, `copy`, does the same work a socket
/// reader does (the kernel copies into the reader's buffer), so transports compare fairly.
package enum ConsumeMode: String, CaseIterable, ExpressibleByArgument, Sendable {
    /// Read the first and last byte only (zero-copy upper bound).
    case touch
    /// Read every 8-byte word (a decoder's work).
    case read
    /// Copy the payload into a private buffer.
    case copy
}

/// Applies a consume mode to payloads; keeps a running value so nothing is optimised away.
struct PayloadSink {
    let mode: ConsumeMode
    let buffer: UnsafeMutableRawPointer
    var accumulator: UInt64 = 0

    init(mode: ConsumeMode, maxSize: Int) {
        self.mode = mode
        buffer = .allocate(byteCount: max(maxSize, 8), alignment: 64)
    }

    func free() { buffer.deallocate() }

    @inline(__always)
    mutating func consume(_ payload: UnsafeRawBufferPointer) {
        guard let base = payload.baseAddress, payload.count > 0 else { return }
        switch mode {
        case .touch:
            accumulator &+= UInt64(payload[0]) &+ UInt64(payload[payload.count - 1])
        case .read:
            var x: UInt64 = 0
            let words = payload.count / 8
            for i in 0..<words { x ^= base.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self) }
            for i in (words * 8)..<payload.count { x &+= UInt64(payload[i]) }
            accumulator &+= x
        case .copy:
            buffer.copyMemory(from: base, byteCount: payload.count)
            accumulator &+= UInt64(buffer.load(as: UInt8.self))
        }
    }
}
