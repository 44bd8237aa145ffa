public import Atomics

/// The single choke point for atomic access to shared memory.
///
/// Every ordered access to a word that another process (or thread) reads goes through one of these
/// functions, and every call site names its ordering and pairs each release with the acquire that
/// reads it (see Docs/WireFormat.md, "Memory ordering"). Words are naturally aligned inside the
/// mapping (the layout guarantees it), so they are valid `UnsafeAtomic` storage even when the
/// other process is hostile: the worst a peer can do is store a surprising value, which the caller
/// validates.
@usableFromInline
enum SharedAtomics {
    @inlinable @inline(__always)
    static func u64(_ address: UnsafeMutableRawPointer) -> UnsafeAtomic<UInt64> {
        UnsafeAtomic(at: address.assumingMemoryBound(to: UInt64.AtomicRepresentation.self))
    }

    @inlinable @inline(__always)
    static func u32(_ address: UnsafeMutableRawPointer) -> UnsafeAtomic<UInt32> {
        UnsafeAtomic(at: address.assumingMemoryBound(to: UInt32.AtomicRepresentation.self))
    }

    // MARK: 64-bit ring indices

    @inlinable @inline(__always)
    static func loadAcquire(_ address: UnsafeMutableRawPointer) -> UInt64 {
        u64(address).load(ordering: .acquiring)
    }

    @inlinable @inline(__always)
    static func loadRelaxed(_ address: UnsafeMutableRawPointer) -> UInt64 {
        u64(address).load(ordering: .relaxed)
    }

    @inlinable @inline(__always)
    static func storeRelease(_ value: UInt64, _ address: UnsafeMutableRawPointer) {
        u64(address).store(value, ordering: .releasing)
    }

    @inlinable @inline(__always)
    static func storeRelaxed(_ value: UInt64, _ address: UnsafeMutableRawPointer) {
        u64(address).store(value, ordering: .relaxed)
    }

    // MARK: 32-bit words (futex words, flags, liveness)

    @inlinable @inline(__always)
    static func loadAcquire32(_ address: UnsafeMutableRawPointer) -> UInt32 {
        u32(address).load(ordering: .acquiring)
    }

    @inlinable @inline(__always)
    static func storeRelease32(_ value: UInt32, _ address: UnsafeMutableRawPointer) {
        u32(address).store(value, ordering: .releasing)
    }

    @inlinable @inline(__always)
    static func loadSequential32(_ address: UnsafeMutableRawPointer) -> UInt32 {
        u32(address).load(ordering: .sequentiallyConsistent)
    }

    @inlinable @inline(__always)
    static func storeSequential32(_ value: UInt32, _ address: UnsafeMutableRawPointer) {
        u32(address).store(value, ordering: .sequentiallyConsistent)
    }

    @inlinable @inline(__always)
    static func fetchAddSequential32(_ delta: UInt32, _ address: UnsafeMutableRawPointer) -> UInt32 {
        u32(address).loadThenWrappingIncrement(by: delta, ordering: .sequentiallyConsistent)
    }

    @inlinable @inline(__always)
    static func loadRelaxed32(_ address: UnsafeMutableRawPointer) -> UInt32 {
        u32(address).load(ordering: .relaxed)
    }

    @inlinable @inline(__always)
    static func compareExchange32(expected: UInt32, desired: UInt32, _ address: UnsafeMutableRawPointer) -> Bool {
        u32(address).compareExchange(expected: expected, desired: desired, ordering: .sequentiallyConsistent).exchanged
    }

    @inlinable @inline(__always)
    static func fenceSequential() {
        atomicMemoryFence(ordering: .sequentiallyConsistent)
    }
}
