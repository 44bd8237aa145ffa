// RequestPayload — an invocation request's user payload as the host gets it: bytes the caller
// already has, or a count and a writer that puts the bytes where they go. A request that fits one
// frame is built in the ring (its prefix, then the writer's bytes straight into the frame, no array
// anywhere); a larger one, or one that finds the ring full, has its bytes written into one array
// first and goes the way of every large request (fragments, the async sender).

/// The user payload of one request.
enum RequestPayload {
    case bytes([UInt8])
    /// `count` bytes, written by `fill` — at most once, on the thread that starts the invocation,
    /// before `start` returns (never, when the invocation fails before its request is written).
    case writer(count: Int, fill: (inout OutputRawSpan) -> Void)

    var count: Int {
        switch self {
        case .bytes(let bytes): bytes.count
        case .writer(let count, _): count
        }
    }

    /// The bytes in an array of their own (calls a writer).
    func materialized() -> [UInt8] {
        switch self {
        case .bytes(let bytes):
            return bytes
        case .writer(let count, let fill):
            return [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
                initialized = Self.write(count: count, fill, into: UnsafeMutableRawBufferPointer(buffer))
            }
        }
    }

    /// Writes the payload into `out`, which holds exactly `count` bytes.
    func write(into out: UnsafeMutableRawBufferPointer) {
        switch self {
        case .bytes(let bytes):
            precondition(out.count == bytes.count)
            bytes.withUnsafeBytes { FrameCopyBytes.copy($0, to: out) }
        case .writer(let count, let fill):
            _ = Self.write(count: count, fill, into: out)
        }
    }

    /// Runs a writer over `out` (exactly `count` bytes); a writer that leaves any of them unwritten
    /// is a programming error of the caller's (the request's length was already promised).
    private static func write(count: Int, _ fill: (inout OutputRawSpan) -> Void, into out: UnsafeMutableRawBufferPointer) -> Int {
        precondition(out.count == count)
        var span = OutputRawSpan(buffer: out, initializedCount: 0)
        fill(&span)
        let written = span.finalize(for: out)
        precondition(written == count, "a request payload writer wrote \(written) of the \(count) bytes it promised")
        return written
    }
}

/// `copyMemory` that accepts an empty source with a nil base address.
private enum FrameCopyBytes {
    static func copy(_ source: UnsafeRawBufferPointer, to out: UnsafeMutableRawBufferPointer) {
        guard source.count > 0 else { return }
        out.copyMemory(from: source)
    }
}
