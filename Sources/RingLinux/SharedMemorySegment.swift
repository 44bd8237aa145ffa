#if canImport(Glibc)
import Glibc
#endif
import CRingShim
import Synchronization
@_spi(Unsafe) public import RingCore

/// A RingTransport segment mapped into this process: the memory both sides share, its validated
/// header, and the two ring handles of this side (each handed out once).
///
/// The host creates the segment (`create`): an anonymous memfd, sized, sealed against shrinking
/// and growing (so the worker can never make the host's mapping raise SIGBUS), mapped, formatted.
/// The worker attaches (`attach(descriptor:)`) to the fd it inherited or received over a Unix
/// socket; attach validates size, seals and header and reports any mismatch as `SegmentError`.
public final class SharedMemorySegment: Sendable {
    public let role: SegmentRole
    public let header: SegmentHeader
    let mapping: SharedMapping
    private let handedOut = RingMutex<(producer: Bool, consumer: Bool)>((false, false))

    /// Seals a creator applies; `attach` requires at least shrink and grow.
    static let requiredSeals = Int32(CRS_F_SEAL_SHRINK | CRS_F_SEAL_GROW)

    private init(role: SegmentRole, header: SegmentHeader, mapping: SharedMapping) {
        self.role = role
        self.header = header
        self.mapping = mapping
        storedConfiguration = header.configuration
    }

    package var region: SharedRegion { mapping.region }
    public var configuration: SegmentConfiguration { storedConfiguration }
    /// Built once: both sides read it per invocation (the maximum message size), and building it
    /// from the header's fields each time was ≈ 1 % of a worker's reactor thread.
    private let storedConfiguration: SegmentConfiguration

    /// The descriptor backing the mapping, for passing to a child (`ChildProcess`) or over a socket.
    /// Owned by the segment: do not close it.
    public var unsafeFileDescriptor: Int32 { mapping.descriptor }

    // MARK: Creating

    /// Creates, seals, maps and formats a new anonymous segment (the host side).
    public static func create(
        configuration: SegmentConfiguration = SegmentConfiguration(), name: String = "ringtransport"
    ) throws -> SharedMemorySegment {
        try configuration.validate()
        let fd = try Syscall.call("memfd_create") {
            crs_memfd_create(name, UInt32(CRS_MFD_CLOEXEC | CRS_MFD_ALLOW_SEALING))
        }
        do {
            try Syscall.call("ftruncate") { ftruncate(fd, off_t(configuration.totalSize)) }
            try Syscall.call("fcntl(F_ADD_SEALS)") {
                crs_fcntl_int(fd, Int32(CRS_F_ADD_SEALS), Int32(CRS_F_SEAL_SHRINK | CRS_F_SEAL_GROW | CRS_F_SEAL_SEAL))
            }
        } catch {
            close(fd)
            throw error
        }
        return try format(fd: fd, configuration: configuration)
    }

    /// Creates a segment as a file at `path` (mode 0600, `O_EXCL`) on a tmpfs such as `/dev/shm`,
    /// for peers that share a filesystem but not a parent. Files cannot be sealed: only processes
    /// of the owning user can open it, and the host unlinks it with `unlinkNamed`.
    public static func createNamed(
        path: String, configuration: SegmentConfiguration = SegmentConfiguration()
    ) throws -> SharedMemorySegment {
        try configuration.validate()
        let fd = try Syscall.call("open(\(path))") { open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o600) }
        do {
            try Syscall.call("ftruncate") { ftruncate(fd, off_t(configuration.totalSize)) }
        } catch {
            close(fd)
            unlink(path)
            throw error
        }
        return try format(fd: fd, configuration: configuration)
    }

    private static func format(fd: Int32, configuration: SegmentConfiguration) throws -> SharedMemorySegment {
        let mapping = try SharedMapping(descriptor: fd, size: configuration.totalSize, populate: true)
        try SegmentHeader.format(mapping.region, configuration: configuration, creatorPID: UInt32(getpid()))
        let header = try SegmentHeader(validating: mapping.region)
        let segment = SharedMemorySegment(role: .host, header: header, mapping: mapping)
        segment.setLiveness(.attached)
        return segment
    }

    // MARK: Attaching

    /// Attaches to a segment through `descriptor` (inherited or received), which the segment owns
    /// from now on (closed with it, or at once on failure). Validates that a memfd is sealed against shrinking
    /// and growing (`requireSeals`), that its size matches the header, and the whole header.
    public static func attach(
        descriptor owned: consuming OwnedDescriptor, role: SegmentRole = .worker, requireSeals: Bool = true
    ) throws -> SharedMemorySegment {
        let descriptor = owned.release()
        var info = stat()
        do throws(any Error) {
            try Syscall.call("fstat") { fstat(descriptor, &info) }
            if requireSeals {
                let seals = try Syscall.call("fcntl(F_GET_SEALS)") { crs_fcntl_int(descriptor, Int32(CRS_F_GET_SEALS), 0) }
                guard seals & requiredSeals == requiredSeals else {
                    throw SegmentError.invalidLayout("segment is not sealed against shrinking and growing (seals 0x\(String(seals, radix: 16)))")
                }
            }
            guard info.st_size >= SegmentLayout.firstDataOffset else {
                throw SegmentError.tooSmall(size: Int(info.st_size), minimum: SegmentLayout.firstDataOffset)
            }
            guard info.st_size <= Int(SegmentLayout.totalSize(capacities: (UInt64(SegmentLayout.maximumCapacity), UInt64(SegmentLayout.maximumCapacity)))) else {
                throw SegmentError.invalidLayout("segment of \(info.st_size) bytes is larger than any valid layout")
            }
        } catch {
            close(descriptor)
            throw error
        }
        let mapping = try SharedMapping(descriptor: descriptor, size: Int(info.st_size), populate: false)
        let header = try SegmentHeader(validating: mapping.region)
        let segment = SharedMemorySegment(role: role, header: header, mapping: mapping)
        segment.setLiveness(.attached)
        return segment
    }

    /// Attaches to a named segment created by `createNamed`.
    public static func attachNamed(path: String, role: SegmentRole = .worker) throws -> SharedMemorySegment {
        let fd = try Syscall.call("open(\(path))") { open(path, O_RDWR | O_CLOEXEC) }
        return try attach(descriptor: OwnedDescriptor(adopting: fd), role: role, requireSeals: false)
    }

    /// Removes a named segment's file (mappings stay valid until released).
    public static func unlinkNamed(path: String) throws {
        try Syscall.call("unlink(\(path))") { unlink(path) }
    }

    // MARK: Rings

    /// The producer of this side's outbound ring; nil if it was already taken. Claimed wake-ups of
    /// the consumer go through `waker` (futex(2) by default; `ReactorWaker` for async endpoints).
    public func takeProducer(waker: any RingWaker = FutexWaker()) -> RingProducer? {
        let first = handedOut.withLock { state in
            defer { state.producer = true }
            return !state.producer
        }
        guard first else { return nil }
        return RingProducer(geometry: geometry(role.outbound, waker: waker))
    }

    /// The consumer of this side's inbound ring; nil if it was already taken.
    public func takeConsumer(waker: any RingWaker = FutexWaker()) -> RingConsumer? {
        let first = handedOut.withLock { state in
            defer { state.consumer = true }
            return !state.consumer
        }
        guard first else { return nil }
        return RingConsumer(geometry: geometry(role.inbound, waker: waker))
    }

    /// The geometry of one ring; claimed wake-ups are delivered with futex(2) (`FutexWaker`).
    package func geometry(_ direction: RingDirection, waker: any RingWaker = FutexWaker()) -> RingGeometry {
        RingGeometry(region: mapping.region, header: header, direction: direction, waker: waker)
    }

    // MARK: Liveness

    /// Stores this side's liveness state and pid (release) — read by the peer's monitor.
    public func setLiveness(_ state: SegmentLayout.Liveness) {
        let offset = role == .host ? SegmentLayout.Header.hostLiveness : SegmentLayout.Header.workerLiveness
        mapping.region.write(UInt32(getpid()), at: offset + 4)
        SegmentLiveness.store(state, at: mapping.region.base + offset)
    }

    /// The peer's last announced liveness state (untrusted: unknown values read as `.closed`).
    public var peerLiveness: SegmentLayout.Liveness {
        let offset = role == .host ? SegmentLayout.Header.workerLiveness : SegmentLayout.Header.hostLiveness
        return SegmentLiveness.load(at: mapping.region.base + offset)
    }
}
