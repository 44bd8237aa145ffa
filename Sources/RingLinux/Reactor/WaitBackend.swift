// WaitBackend — which mechanism the reactor uses to sleep and wake, chosen once at start-up and
// reported with a reason. Selection is a pure function of what the probe found and the
// RINGTRANSPORT_BACKEND override, so tests can drive it without touching the environment.

/// The reactor's three interchangeable backends (same API, same test suite).
public enum ReactorBackendKind: String, Sendable, CaseIterable, CustomStringConvertible {
    /// io_uring with FUTEX_WAIT/WAKE (Linux ≥ 6.7): waits, wakes, timers and process watches all
    /// on one ring; wakes from other threads are batched into one io_uring_enter.
    case ioUringFutex = "iouring-futex"
    /// io_uring without futex opcodes: each word gets an eventfd "doorbell" that the reactor reads
    /// through io_uring and wakers signal with write(2).
    case ioUringEventfd = "iouring-eventfd"
    /// No io_uring (seccomp, kernel.io_uring_disabled): a dedicated thread sleeping in
    /// futex_waitv(2), plus a poll(2) thread for pidfds when processes are watched.
    case futexThread = "futex-thread"

    public var description: String { rawValue }
}

/// The backend chosen and why.
public struct ReactorBackendChoice: Sendable, Equatable, CustomStringConvertible {
    public let kind: ReactorBackendKind
    public let reason: String

    public init(kind: ReactorBackendKind, reason: String) {
        self.kind = kind
        self.reason = reason
    }

    public var description: String { "\(kind): \(reason)" }
}

/// Why a reactor could not be started.
public enum ReactorError: Error, Sendable, Equatable, CustomStringConvertible {
    /// RINGTRANSPORT_BACKEND names no backend.
    case unknownBackend(String)
    /// The backend asked for cannot work here.
    case backendUnavailable(ReactorBackendKind, reason: String)
    /// Setting the backend up failed.
    case system(SystemError)

    public var description: String {
        switch self {
        case .unknownBackend(let value):
            "unknown \(WaitBackend.environmentVariable) '\(value)' (expected \(ReactorBackendKind.allCases.map(\.rawValue).joined(separator: ", ")) or auto)"
        case .backendUnavailable(let kind, let reason): "backend \(kind) is unavailable: \(reason)"
        case .system(let error): "\(error)"
        }
    }
}

/// Backend selection.
public enum WaitBackend {
    /// Forces a backend: `iouring-futex`, `iouring-eventfd`, `futex-thread` (or `auto`).
    public static let environmentVariable = "RINGTRANSPORT_BACKEND"

    /// What this machine offers (probed once, on first use).
    public static let probe: BackendProbe = BackendProbe.run()

    /// The process-wide choice: the environment override if set, else the best available backend.
    public static let selection: Result<ReactorBackendChoice, ReactorError> = Result {
        () throws(ReactorError) -> ReactorBackendChoice in
        try select(override: ProcessEnvironment.value(environmentVariable), probe: probe)
    }

    /// The process-wide choice, or why the forced backend cannot be used.
    public static func selected() throws(ReactorError) -> ReactorBackendChoice { try selection.get() }

    /// Parses an override: a backend name, or nil for `auto` / empty (case and surrounding spaces
    /// ignored).
    public static func parse(_ value: String) throws(ReactorError) -> ReactorBackendKind? {
        let normalized = value.trimmingSpaces.lowercased()
        if normalized.isEmpty || normalized == "auto" { return nil }
        guard let kind = ReactorBackendKind(rawValue: normalized) else { throw .unknownBackend(value) }
        return kind
    }

    /// Chooses a backend from `probe`, honouring `override` (the environment variable's value).
    public static func select(override: String?, probe: BackendProbe) throws(ReactorError) -> ReactorBackendChoice {
        if let override, let forced = try parse(override) {
            switch probe.availability(of: forced) {
            case .available(let detail):
                return ReactorBackendChoice(kind: forced, reason: "forced by \(environmentVariable)=\(override); \(detail)")
            case .unavailable(let detail):
                throw .backendUnavailable(forced, reason: detail)
            }
        }
        for kind in ReactorBackendKind.allCases {
            if case .available(let detail) = probe.availability(of: kind) {
                let skipped = ReactorBackendKind.allCases.prefix { $0 != kind }.map {
                    "\($0) unavailable (\(probe.availability(of: $0).detail))"
                }
                return ReactorBackendChoice(kind: kind, reason: (skipped + [detail]).joined(separator: "; "))
            }
        }
        throw .backendUnavailable(.futexThread, reason: probe.availability(of: .futexThread).detail)
    }
}

extension String {
    fileprivate var trimmingSpaces: Substring {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else { return "" }
        return self[first...last]
    }
}
