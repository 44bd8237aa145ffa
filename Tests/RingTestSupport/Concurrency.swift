import Synchronization
#if canImport(Glibc)
import Glibc
#endif
public import RingCore

/// A value guarded by a mutex, for handing results between test threads.
public final class LockedBox<Value: Sendable>: Sendable {
    private let storage: RingMutex<Value>
    public init(_ value: Value) { storage = RingMutex(value) }
    public var value: Value {
        get { storage.withLock { $0 } }
        set { storage.withLock { $0 = newValue } }
    }
    /// Reads and changes the value atomically.
    public func withLock<R: Sendable>(_ body: (inout sending Value) -> sending R) -> R { storage.withLock(body) }
}

/// Moves a ring producer to another thread exactly once.
public final class SendableProducer: Sendable {
    private let slot: RingMutex<RingProducer?>
    public init(_ producer: consuming RingProducer) { slot = RingMutex(producer) }
    public func take() -> RingProducer {
        slot.withLock { slot in
            guard let producer = slot.take() else { fatalError("producer already taken") }
            return producer
        }
    }
}

/// Minimal detached OS threads (not the cooperative pool), for tests that block.
public enum Thread {
    public static func start(_ body: @escaping @Sendable () -> Void) {
        final class Box { let body: @Sendable () -> Void; init(_ b: @escaping @Sendable () -> Void) { body = b } }
        let box = Unmanaged.passRetained(Box(body)).toOpaque()
        var thread = pthread_t()
        let result = pthread_create(&thread, nil, { raw in
            let box = Unmanaged<AnyObject>.fromOpaque(raw!).takeRetainedValue() as! Box
            box.body()
            return nil
        }, box)
        precondition(result == 0, "pthread_create failed")
        pthread_detach(thread)
    }
}
