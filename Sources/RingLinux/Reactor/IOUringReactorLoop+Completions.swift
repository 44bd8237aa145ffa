import CRingShim

// IOUringReactorLoop+Completions — what the io_uring loop does with each completion, and its
// shutdown: end everything pending with `.shutdown`, cancel every operation still in flight and
// collect its completion (so no buffer is freed while the kernel may write it), then release.
#if canImport(Glibc)
    import Glibc
#endif

/// The top byte of an operation's user_data says what it is; the rest is the request id.
enum OperationTag: UInt64 {
    case nudge = 1, futexWait, futexWake, doorbellRead, processPoll, timeout, cancel, drainLimit

    static let idMask: UInt64 = (1 << 56) - 1

    func userData(_ id: UInt64) -> UInt64 { rawValue << 56 | (id & OperationTag.idMask) }

    static func decode(_ userData: UInt64) -> (tag: OperationTag?, id: UInt64) {
        (OperationTag(rawValue: userData >> 56), userData & idMask)
    }
}

extension IOUringReactorLoop {
    func complete(_ completion: IOUringCompletion) {
        let (tag, id) = OperationTag.decode(completion.userData)
        let result = completion.result
        guard let tag, tag != .cancel, tag != .futexWake else {
            // Cancellations report nothing we act on; a FUTEX_WAKE posts a completion only when it
            // failed (EFAULT: the word was unmapped), and there is nobody to tell.
            return
        }
        if tag == .drainLimit {
            drainExpired = true
            return
        }
        guard let operation = inFlight.removeValue(forKey: completion.userData) else { return }
        switch operation {
        case .nudgeRead:
            if stopping { return }  // shutting down: not re-armed
            if result == 8 || result == -EINTR || result == -EAGAIN {
                do { try armNudgeRead() } catch { fail(error) }
            } else {
                fail(SystemError(call: "io_uring READ(nudge eventfd)", errno: -result))
            }
        case .futexWait:
            if result == 0 || result == -EAGAIN {
                registry.finishWait(id, .changed)
            } else {
                registry.finishWait(id, .failed(SystemError(call: "IORING_OP_FUTEX_WAIT", errno: -result)))
            }
        case .doorbellRead(let word, let descriptor, let buffer):
            buffer.deallocate()
            // Only the word's current doorbell's READ speaks for its waiters (a released or replaced
            // doorbell's READ may complete after a new one was armed for the same address).
            guard doorbellWords[word]?.descriptor == descriptor else {
                if retiringDoorbells.remove(descriptor) != nil { close(descriptor) }
                return
            }
            let waiters = doorbellWords[word]?.waiters ?? []
            doorbellWords[word]?.waiters = []
            doorbellWords[word]?.readArmed = false
            if retiringDoorbells.remove(descriptor) != nil {
                close(descriptor)
                doorbellWords[word] = nil
            }
            let outcome: WaitResult =
                result >= 0 ? .changed : .failed(SystemError(call: "io_uring READ(doorbell)", errno: -result))
            for waiter in waiters { registry.finishWait(waiter, outcome) }
        case .processPoll(let pidfd):
            if registry.isWatching(id) {
                if result >= 0 {
                    registry.finishWatch(id, .exited(ProcessExitQuery.status(pidfd: pidfd)))
                } else {
                    registry.finishWatch(id, .failed(SystemError(call: "io_uring POLL_ADD(pidfd)", errno: -result)))
                }
            }
            close(pidfd)
        case .timeout(let storage):
            storage.deallocate()
            if armedTimeout?.userData == completion.userData { armedTimeout = nil }
        }
    }

    // MARK: Shutdown

    func shutDown() {
        // No request gets in after this; the ones that did are settled here.
        for request in unhandled + shared.queue.close() {
            switch request {
            case .cancelWait, .cancelTimer, .cancelWatch, .wake: try? handle(request)
            default: request.reject()
            }
        }
        // Wakes still queued go out through the ring like any other batch: a word unmapped since
        // then makes its FUTEX_WAKE fail with EFAULT, quietly, instead of trapping in futex(2).
        try? flushWakes()
        try? submit(waiting: false)
        if let failure {
            registry.finishAll(wait: .failed(failure), watch: .failed(failure))
        } else {
            registry.finishAll(wait: .shutdown, watch: .shutdown)
        }
        duties.stop()
        drainInFlight()
        // Whatever is still in flight (only after a ring failure or a drain that timed out) is
        // left to the ring's teardown; its descriptors are closed, its small buffers leaked.
        for case .processPoll(let pidfd) in inFlight.values { close(pidfd) }
        // Released doorbells whose READ never completed (the Doorbells registry no longer has them).
        for descriptor in retiringDoorbells { close(descriptor) }
        retiringDoorbells = []
    }

    /// Cancels every in-flight operation and waits for all their completions, bounded by a 2 s
    /// timeout should the kernel not complete one.
    private func drainInFlight() {
        guard !inFlight.isEmpty else { return }
        do {
            for userData in Array(inFlight.keys) where inFlight[userData] != nil {
                try reserve()
                try ring.prepareCancel(target: userData, userData: OperationTag.cancel.userData(0))
            }
            try reserve()
            try ring.prepareTimeout(
                .relative(nanoseconds: 2_000_000_000), storage: drainLimit, userData: OperationTag.drainLimit.userData(0))
            while !inFlight.isEmpty && !drainExpired {
                do {
                    try ring.submitAndWait(1)
                } catch  where error.errno == EBUSY || error.errno == EAGAIN {
                    // completion queue full: reap below
                }
                shared.counters.bump(.ringEnters)
                reap()
            }
        } catch {
            // The ring is failing; leave the rest to its teardown.
        }
    }
}
