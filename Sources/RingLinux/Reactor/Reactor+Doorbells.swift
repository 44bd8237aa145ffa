// Reactor+Doorbells — sharing the eventfd backend's doorbells with a peer process. On
// `ioUringEventfd` a sleeper waits on the word's eventfd, not on the word, so both processes must
// use the same eventfd for a word: one side exports it (pass it over a Unix socket or as an inherited
// descriptor), the other adopts it before its first wait on the word. Other backends need nothing.
#if canImport(Glibc)
    import Glibc
#endif

extension Reactor {
    /// The eventfd standing in for `word` on `ioUringEventfd` (created on first use, owned by the
    /// reactor: dup it to pass it on, never close it); nil on the other backends or after shutdown.
    package func unsafeDoorbellDescriptor(for word: UnsafeMutableRawPointer) throws(SystemError) -> Int32? {
        guard let doorbells = shared.doorbells else { return nil }
        guard let descriptor = try doorbells.descriptor(for: UInt(bitPattern: word)) else { return nil }
        shared.recordOpened(descriptor)
        return descriptor
    }

    /// Makes `descriptor` — a blocking eventfd received from the peer, now owned by the reactor —
    /// the doorbell of `word`. Call it before the first wait on the word. On other backends the
    /// descriptor is simply closed. Throws EINVAL for a non-blocking descriptor (io_uring would fail
    /// every read on it with EAGAIN instead of waiting).
    package func adoptDoorbell(descriptor: Int32, for word: UnsafeMutableRawPointer) throws(SystemError) {
        guard let doorbells = shared.doorbells else {
            close(descriptor)
            return
        }
        let flags = try Syscall.call("fcntl(F_GETFL)") { fcntl(descriptor, F_GETFL) }
        guard flags & O_NONBLOCK == 0 else {
            close(descriptor)
            throw SystemError(call: "adoptDoorbell (descriptor is O_NONBLOCK)", errno: EINVAL)
        }
        shared.recordOpened(descriptor)
        _ = doorbells.adopt(descriptor, for: UInt(bitPattern: word))
    }

    /// Releases the doorbells of `words` (`ioUringEventfd`; a no-op elsewhere): call it when their
    /// segment is done with — a worker that ended — and before the segment is unmapped, so a host
    /// that restarts workers does not keep one more set of eventfds per restart until it shuts
    /// down. The words lose their doorbells at once (a later lookup for the same address — a new
    /// segment mapped there — gets a fresh one); the reactor closes each descriptor once no READ is
    /// armed on it (one still armed is rung, so its waiters see `.changed`).
    package func releaseDoorbells(for words: [UnsafeMutableRawPointer]) {
        guard let doorbells = shared.doorbells else { return }
        let retired = words.compactMap { word in
            doorbells.retire(UInt(bitPattern: word)).map { (word: UInt(bitPattern: word), descriptor: $0) }
        }
        guard !retired.isEmpty else { return }
        shared.submit(.releaseDoorbells(retired.map { ReactorRequest.RetiredDoorbell(word: $0.word, descriptor: $0.descriptor) }))
    }
}
