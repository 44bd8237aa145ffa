// RingMutex — the one lock type of RingTransport's in-process state. It is Synchronization.Mutex,
// except in ThreadSanitizer builds (`-D RING_TSAN`, set by `make test-tsan`), where it is a pthread
// mutex: Mutex on Linux is a futex word handled inside libswiftSynchronization, which is not built
// with TSan instrumentation, so TSan sees neither its acquire nor its release and reports the data
// it protects as racing. TSan intercepts pthread_mutex_lock/unlock, so with this type it checks the
// locked state like any other, and the test suite needs no whole-file suppressions.
#if RING_TSAN
#if canImport(Glibc)
import Glibc
#endif

/// A pthread mutex around `Value` (ThreadSanitizer builds only).
package final class RingMutex<Value: ~Copyable>: @unchecked Sendable {
    private let lock: UnsafeMutablePointer<pthread_mutex_t>
    private var value: Value

    package init(_ initialValue: consuming sending Value) {
        lock = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
        lock.initialize(to: pthread_mutex_t())
        pthread_mutex_init(lock, nil)
        value = initialValue
    }

    deinit {
        pthread_mutex_destroy(lock)
        lock.deallocate()
    }

    package func withLock<Result: ~Copyable, E: Error>(_ body: (inout sending Value) throws(E) -> sending Result) throws(E) -> sending Result {
        pthread_mutex_lock(lock)
        defer { pthread_mutex_unlock(lock) }
        return try body(&value)
    }
}
#else
package import Synchronization

/// Synchronization.Mutex (every build but ThreadSanitizer's).
package typealias RingMutex<Value: ~Copyable> = Mutex<Value>
#endif
