// Exports — the functions of ringtransport/worker.h (Sources/CRingWorker), exported with C names.
// Each validates its arguments and turns Swift errors into the header's result codes and
// rt_last_error(); nothing here traps on bad input from the caller.
#if canImport(Glibc)
import Glibc
#endif
public import CRingWorker
import Logging
import RingAudit
import RingChannel
import RingLinux

private func handle(_ worker: OpaquePointer?) -> WorkerHandle? {
    worker.map { Unmanaged<WorkerHandle>.fromOpaque(UnsafeRawPointer($0)).takeUnretainedValue() }
}

@_cdecl("rt_abi_version")
public func rt_abi_version() -> UInt32 { UInt32(RT_ABI_VERSION) }

@_cdecl("rt_last_error")
public func rt_last_error() -> UnsafePointer<CChar>? { LastError.current }

@_cdecl("rt_worker_attach")
public func rt_worker_attach(_ options: UnsafePointer<rt_worker_options>?) -> OpaquePointer? {
    var configuration = WorkerConfiguration(runtime: "c")
    if let options {
        let size = Int(options.pointee.size)
        guard size >= MemoryLayout<rt_worker_options>.size else {
            LastError.set("rt_worker_options.size is \(size); set it to sizeof(rt_worker_options) (\(MemoryLayout<rt_worker_options>.size))", 0)
            return nil
        }
        let given = options.pointee
        if given.max_concurrency > 0 { configuration.maxConcurrency = Int(given.max_concurrency) }
        if let runtime = given.runtime { configuration.runtime = String(cString: runtime) }
        if let name = given.wait_profile.map({ String(cString: $0) }) {
            switch name {
            case "latency": configuration.waitProfile = .latency
            case "efficiency": configuration.waitProfile = .efficiency
            case "alwaysSleep": configuration.waitProfile = .alwaysSleep
            default:
                LastError.set("unknown wait profile \"\(name)\" (latency, efficiency, alwaysSleep)", 0)
                return nil
            }
        }
    }
    // The library's own diagnostics go to standard error (never standard output, which may be the
    // foreign program's), warnings and worse only.
    var logger = Logger(label: "ringworker") { StreamLogHandler.standardError(label: $0) }
    logger.logLevel = .warning
    let worker: ChannelWorker
    do {
        worker = try ChannelWorker.connectFromEnvironment(configuration: configuration, logger: logger)
    } catch {
        LastError.set("\(error)", 0)
        return nil
    }
    let handle = WorkerHandle(worker: worker)
    handle.start()
    return OpaquePointer(Unmanaged.passRetained(handle).toOpaque())
}

@_cdecl("rt_worker_next")
public func rt_worker_next(_ worker: OpaquePointer?, _ event: UnsafeMutablePointer<rt_event>?, _ timeout: Int64) -> Int32 {
    guard let handle = handle(worker), let event else { return LastError.set("rt_worker_next: worker and event must not be NULL", RT_E_ARGUMENT.rawValue) }
    guard let next = handle.events.pop(timeoutNanoseconds: timeout) else { return RT_TIMEOUT.rawValue }
    var filled = rt_event()
    switch next {
    case .invocation(let number, let record):
        filled.kind = RT_EVENT_INVOCATION
        filled.number = number
        filled.invocation = UnsafePointer(record.pointer.assumingMemoryBound(to: rt_invocation.self))
    case .cancel(let number):
        filled.kind = RT_EVENT_CANCEL
        filled.number = number
    case .terminate(let grace):
        filled.kind = RT_EVENT_TERMINATE
        filled.grace_period_ns = grace
    case .end(let detail):
        filled.kind = RT_EVENT_END
        filled.detail = detail.map { handle.retainDetail($0) }
    }
    event.pointee = filled
    return RT_OK.rawValue
}

@_cdecl("rt_worker_reply")
public func rt_worker_reply(
    _ worker: OpaquePointer?, _ number: UInt64, _ status: rt_status, _ payload: UnsafeRawPointer?, _ length: Int, _ message: UnsafePointer<CChar>?
) -> Int32 {
    guard let handle = handle(worker) else { return LastError.set("rt_worker_reply: worker must not be NULL", RT_E_ARGUMENT.rawValue) }
    guard length == 0 || payload != nil else {
        return LastError.set("rt_worker_reply: payload is NULL with length \(length)", RT_E_ARGUMENT.rawValue)
    }
    let bytes = length == 0 ? [] : [UInt8](UnsafeRawBufferPointer(start: payload, count: length))
    let reply: InvocationReply
    switch status {
    case RT_STATUS_SUCCESS: reply = .success(bytes)
    case RT_STATUS_FAILURE:
        guard let text = message.map({ String(validatingCString: $0) }) ?? "" else {
            return LastError.set("rt_worker_reply: the failure message is not UTF-8", RT_E_ARGUMENT.rawValue)
        }
        reply = .failure(message: text, payload: bytes)
    case RT_STATUS_CANCELLED: reply = .cancelled
    default: return LastError.set("rt_worker_reply: unknown status \(status.rawValue)", RT_E_ARGUMENT.rawValue)
    }
    if handle.answer(number, reply) { return RT_OK.rawValue }
    if handle.hasEnded { return LastError.set("rt_worker_reply: the channel has ended", RT_E_ENDED.rawValue) }
    return LastError.set("rt_worker_reply: no invocation \(number) is waiting for an answer", RT_E_UNKNOWN_INVOCATION.rawValue)
}

@_cdecl("rt_worker_log")
public func rt_worker_log(
    _ worker: OpaquePointer?, _ number: UInt64, _ level: rt_log_level, _ category: UnsafePointer<CChar>?, _ message: UnsafePointer<CChar>?
) -> Int32 {
    guard let handle = handle(worker), let message else {
        return LastError.set("rt_worker_log: worker and message must not be NULL", RT_E_ARGUMENT.rawValue)
    }
    guard level.rawValue <= RT_LOG_CRITICAL.rawValue else {
        return LastError.set("rt_worker_log: unknown level \(level.rawValue)", RT_E_ARGUMENT.rawValue)
    }
    guard let text = String(validatingCString: message), let label = category.map({ String(validatingCString: $0) }) ?? "worker" else {
        return LastError.set("rt_worker_log: category and message must be UTF-8", RT_E_ARGUMENT.rawValue)
    }
    if handle.hasEnded { return LastError.set("rt_worker_log: the channel has ended", RT_E_ENDED.rawValue) }
    handle.worker.logDeferred(
        level: Logger.Level.allCases[Int(level.rawValue)], category: label, message: text, invocation: number == 0 ? nil : number)
    return RT_OK.rawValue
}

@_cdecl("rt_worker_close")
public func rt_worker_close(_ worker: OpaquePointer?) {
    guard let worker else { return }
    let unmanaged = Unmanaged<WorkerHandle>.fromOpaque(UnsafeRawPointer(worker))
    unmanaged.takeUnretainedValue().close()
    unmanaged.release()
}

@_cdecl("rt_audit_hash")
public func rt_audit_hash(_ bytes: UnsafeRawPointer?, _ length: Int, _ seed: UInt64) -> UInt64 {
    StressDigest.hash(UnsafeRawBufferPointer(start: length == 0 ? nil : bytes, count: length), seed: seed)
}

@_cdecl("rt_audit_pattern")
public func rt_audit_pattern(_ buffer: UnsafeMutableRawPointer?, _ length: Int, _ seed: UInt64) {
    guard let buffer, length > 0 else { return }
    StressDigest.fill(UnsafeMutableRawBufferPointer(start: buffer, count: length), seed: seed)
}
