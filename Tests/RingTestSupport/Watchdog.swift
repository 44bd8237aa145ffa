import Dispatch
#if canImport(Glibc)
import Glibc
#endif

/// Bounds a test that could hang: if `cancel()` is not called within `seconds`, the whole test
/// process aborts with a message naming the test. Tests never assert durations; this only turns a
/// hang into a failure.
///
/// `RING_WATCHDOG_SCALE` (a whole number ≥ 1) multiplies every bound: the sanitizer targets set it,
/// because AddressSanitizer and ThreadSanitizer slow the code several times over and the suite runs
/// its tests in parallel on two cores (a bound sized for a normal build aborted a healthy HTTP test
/// under ASan — and with it the whole test process).
public final class Watchdog: @unchecked Sendable {
    private let item: DispatchWorkItem

    /// The multiplier from `RING_WATCHDOG_SCALE`; 1 when unset or not a whole number ≥ 1.
    public static let scale: Int = {
        guard let text = getenv("RING_WATCHDOG_SCALE"), let value = Int(String(cString: text)), value >= 1 else { return 1 }
        return value
    }()

    public init(seconds unscaled: Int, _ name: String) {
        let seconds = unscaled * Self.scale
        let item = DispatchWorkItem {
            let message = "WATCHDOG: '\(name)' did not finish within \(seconds) s — aborting\n"
            _ = message.withCString { write(2, $0, strlen($0)) }
            abort()
        }
        self.item = item
        DispatchQueue.global().asyncAfter(deadline: .now() + .seconds(seconds), execute: item)
    }

    public func cancel() { item.cancel() }

    deinit { item.cancel() }
}

/// Runs `body` under a watchdog.
public func withWatchdog<T>(seconds: Int, _ name: String = #function, _ body: () throws -> T) rethrows -> T {
    let dog = Watchdog(seconds: seconds, name)
    defer { dog.cancel() }
    return try body()
}

/// Runs `body` under a watchdog (async).
public func withWatchdog<T>(seconds: Int, _ name: String = #function, _ body: () async throws -> T) async rethrows -> T {
    let dog = Watchdog(seconds: seconds, name)
    defer { dog.cancel() }
    return try await body()
}
