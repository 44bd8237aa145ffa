import Foundation
import RingLinux

/// Runs blocking measurements on a thread of their own, optionally pinned to CPU 0 (the peer
/// process pins itself to CPU 1). The thread ends with the measurement, so no thread of the
/// concurrency runtime is ever blocked or left pinned.
enum CPUPinning {
    static func onOwnThread<T: Sendable>(pinned: Bool, _ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            let thread = Thread {
                continuation.resume(with: Result {
                    if pinned { try CPUAffinity.pin(toCPU: 0) }
                    return try body()
                })
            }
            thread.stackSize = 8 << 20
            thread.start()
        }
    }
}
