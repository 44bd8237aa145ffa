// ChannelLogHandler — a swift-log handler inside the worker whose records travel to the host as
// FrameKind.log frames (in order, through one writer task), tagged with the invocation they belong to.
// Logging never blocks a handler: records beyond the buffer limit are dropped and counted.
import Logging
import RingCore
import Synchronization

/// The worker's queue of log records for the host.
final class LogSink: Sendable {
    let stream: AsyncStream<LogRecord>
    private let continuation: AsyncStream<LogRecord>.Continuation
    private let dropped = Atomic<UInt64>(0)

    init(limit: Int) {
        (stream, continuation) = AsyncStream.makeStream(of: LogRecord.self, bufferingPolicy: .bufferingOldest(limit))
    }

    func enqueue(_ record: LogRecord) {
        if case .dropped = continuation.yield(record) { dropped.wrappingAdd(1, ordering: .relaxed) }
    }

    func finish() { continuation.finish() }

    var droppedCount: UInt64 { dropped.load(ordering: .relaxed) }
}

struct ChannelLogHandler: LogHandler {
    let sink: LogSink
    let label: String
    let invocation: (number: UInt64, id: ContextID)?
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    init(sink: LogSink, label: String, invocation: (number: UInt64, id: ContextID)?) {
        self.sink = sink
        self.label = label
        self.invocation = invocation
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var merged = metadata
        if let extra = event.metadata { merged.merge(extra) { _, new in new } }
        var strings: [String: String] = [:]
        for (key, value) in merged { strings[key] = "\(value)" }
        let level = UInt8(Logger.Level.allCases.firstIndex(of: event.level) ?? 2)
        sink.enqueue(LogRecord(level: level, category: label, message: "\(event.message)", invocation: invocation, metadata: strings))
    }
}
