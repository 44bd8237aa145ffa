// FunctionHost+Start — bringing workers up (spawned with inherited descriptors, or attached over the
// Unix socket), what happens when one ends, and restarts with backoff.
#if canImport(Glibc)
import Glibc
#endif
import Logging
import RingCore
import RingLinux
import Synchronization

extension FunctionHost {
    /// The segment and, on the eventfd backend, the four doorbells both sides must share (ring 0
    /// consumer, ring 0 producer, ring 1 consumer, ring 1 producer).
    func makeSegment() throws(ChannelError) -> (SharedMemorySegment, doorbells: [Int32]) {
        let segment: SharedMemorySegment
        do { segment = try SharedMemorySegment.create(configuration: configuration.segment, name: configuration.segmentName) } catch let error as SystemError {
            throw .system(error)
        } catch { throw .system(SystemError(call: "SharedMemorySegment.create", errno: EINVAL)) }
        var doorbells: [Int32] = []
        if reactor.backend.kind == .ioUringEventfd {
            for word in Self.waiterWords(segment) {
                do {
                    if let descriptor = try reactor.unsafeDoorbellDescriptor(for: word) { doorbells.append(descriptor) }
                } catch { throw .system(error) }
            }
        }
        return (segment, doorbells)
    }

    static func waiterWords(_ segment: SharedMemorySegment) -> [UnsafeMutableRawPointer] {
        let toWorker = segment.geometry(.hostToWorker)
        let toHost = segment.geometry(.workerToHost)
        return [toWorker.consumerWaiterAddress, toWorker.producerWaiterAddress, toHost.consumerWaiterAddress, toHost.producerWaiterAddress]
    }

    func startSpawned(name: String, launch: WorkerLaunch, generation: Int) async throws(ChannelError) -> WorkerID {
        let id = WorkerID(name: name, generation: generation)
        let (segment, doorbells) = try makeSegment()
        var environment = launch.environment
        environment[ChannelProtocol.Environment.segmentDescriptor] = "3"
        environment[ChannelProtocol.Environment.workerID] = id.description
        environment[ChannelProtocol.Environment.waitBackend] = reactor.backend.kind.rawValue
        environment[ChannelProtocol.Environment.socketPath] = nil
        if !doorbells.isEmpty {
            environment[ChannelProtocol.Environment.doorbellDescriptors] = (0..<doorbells.count).map { "\(4 + $0)" }.joined(separator: ",")
        }
        let process = try WorkerProcess(
            executable: launch.executable, arguments: launch.arguments, environment: environment,
            descriptors: [segment.unsafeFileDescriptor] + doorbells)
        return try await run(id: id, process: process, segment: segment, expectedPID: process.pid)
    }

    /// Registers the connection, runs its start, and reports it ready (or ends it).
    func run(id: WorkerID, process: WorkerProcess, segment: SharedMemorySegment, expectedPID: Int32) async throws(ChannelError) -> WorkerID {
        // Strong references to the host in its callbacks, never `weak`: see `FunctionHost`'s note on
        // side tables. Each cycle ends with what it serves (this one when the connection ends and
        // leaves the pool).
        let connection = WorkerConnection(id: id, process: process, segment: segment, context: context) { [self] connection, error in
            connectionEnded(connection, error)
        }
        let admitted = state.withLock { state in
            guard !state.shuttingDown else { return false }
            state.workers.append(connection)
            state.startsInProgress += 1
            return true
        }
        guard admitted else {
            // Never watched: killing it is enough (WorkerProcess reaps a child it drops).
            process.kill(SIGKILL)
            throw .shuttingDown
        }
        defer { startFinished() }
        let functions = state.withLock { $0.functions }
        do throws(ChannelError) {
            let hello = try await connection.start(expectedPID: expectedPID, functions: functions)
            let stillWanted = state.withLock { state in
                guard !state.shuttingDown, state.workers.contains(where: { $0 === connection }) else { return false }
                state.ready.insert(id)
                state.readyWorkers.append(connection)
                state.slots[id.name]?.consecutiveFailures = 0
                state.slots[id.name]?.everReady = true
                return true
            }
            guard stillWanted else {
                await connection.terminate(gracePeriod: .zero)
                throw .shuttingDown
            }
            context.metrics.workersReady.increment()
            context.logger.info("worker ready", metadata: [
                "worker.id": "\(id)", "worker.pid": "\(connection.pid)", "worker.runtime": "\(hello.runtime)",
                "worker.protocol": "\(hello.protocolVersion)",
            ])
            emit(.ready(id, pid: connection.pid))
            return id
        } catch {
            await connection.closed()
            throw error
        }
    }

    private func startFinished() {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.startsInProgress -= 1
            guard state.startsInProgress == 0 else { return [] }
            defer { state.startWaiters = [] }
            return state.startWaiters
        }
        waiters.forEach { $0.resume() }
    }

    /// A connection ended (called once per connection).
    func connectionEnded(_ connection: WorkerConnection, _ error: ChannelError?) {
        let id = connection.id
        let (wasReady, restart) = state.withLock { state -> (Bool, (RestartPolicy, Int, Duration)?) in
            state.workers.removeAll { $0 === connection }
            let wasReady = state.ready.remove(id) != nil
            state.readyWorkers.removeAll { $0 === connection }
            guard error != nil, !state.shuttingDown, var slot = state.slots[id.name], slot.generation == id.generation, !slot.removed,
                slot.everReady, let policy = slot.launch?.restart
            else { return (wasReady, nil) }
            guard slot.restartsUsed < policy.maxRestarts else { return (wasReady, (policy, -1, .zero)) }
            slot.restartsUsed += 1
            slot.consecutiveFailures += 1
            let delay = policy.delay(consecutiveFailures: slot.consecutiveFailures)
            state.slots[id.name] = slot
            return (wasReady, (policy, slot.restartsUsed, delay))
        }
        if wasReady { context.metrics.workersReady.decrement() }
        emit(.ended(id, pid: connection.pid, error: error))
        guard let (_, attempt, delay) = restart else { return }
        scheduleRestart(id, attempt: attempt, delay: delay)
    }

    /// Schedules restart `attempt` of `id` after `delay` on the reactor's timers; attempt ≤ 0 means
    /// the policy's restarts are exhausted.
    private func scheduleRestart(_ id: WorkerID, attempt: Int, delay: Duration) {
        guard attempt > 0 else {
            emit(.restartsExhausted(id))
            return
        }
        emit(.restartScheduled(id, attempt: attempt, delay: delay))
        let token = reactor.schedule(at: Reactor.now() &+ delay.nanosecondsClamped) { [self] result in
            guard result == .fired else { return }
            Task { await self.restart(name: id.name) }
        }
        state.withLock { $0.slots[id.name]?.pendingRestart = token }
    }

    private func restart(name: String) async {
        let next = state.withLock { state -> (WorkerLaunch, Int)? in
            guard !state.shuttingDown, var slot = state.slots[name], !slot.removed, let launch = slot.launch else { return nil }
            slot.generation += 1
            slot.pendingRestart = nil
            state.slots[name] = slot
            return (launch, slot.generation)
        }
        guard let (launch, generation) = next else { return }
        do {
            _ = try await startSpawned(name: name, launch: launch, generation: generation)
        } catch {
            emit(.startFailed(name: name, error: error))
            // A start that failed ended its connection, which scheduled the next attempt (if any);
            // a spawn failure never had a connection, so schedule from here.
            if case .spawnFailed = error { scheduleAfterSpawnFailure(WorkerID(name: name, generation: generation)) }
        }
    }

    private func scheduleAfterSpawnFailure(_ id: WorkerID) {
        let restart = state.withLock { state -> (Int, Duration)? in
            guard !state.shuttingDown, var slot = state.slots[id.name], !slot.removed, let policy = slot.launch?.restart else { return nil }
            guard slot.restartsUsed < policy.maxRestarts else { return (-1, .zero) }
            slot.restartsUsed += 1
            slot.consecutiveFailures += 1
            state.slots[id.name] = slot
            return (slot.restartsUsed, policy.delay(consecutiveFailures: slot.consecutiveFailures))
        }
        guard let (attempt, delay) = restart else { return }
        scheduleRestart(id, attempt: attempt, delay: delay)
    }

    // MARK: Socket-attached workers

    /// Accepts already-running workers on a Unix socket at `path` (mode 0600). A peer whose uid
    /// (SO_PEERCRED) is not allowed (`configuration.allowedPeerUIDs`, default this process's uid) is
    /// refused; an accepted one receives its segment memfd with SCM_RIGHTS and handshakes on the
    /// rings like a spawned worker (its pid is the peer's). Such workers are never restarted.
    public func listen(on path: String) throws(ChannelError) {
        let listener: LinkListener
        let logger = context.logger
        let allowed = configuration.allowedPeerUIDs ?? [getuid()]
        do throws(SystemError) {
            listener = try LinkListener(
                path: path, allowedUIDs: allowed,
                onFailure: { error, pause, failures in
                    logger.warning(
                        "accept on the worker socket failed; retrying",
                        metadata: ["path": "\(path)", "error": "\(error)", "pauseMs": "\(pause / 1_000_000)", "consecutiveFailures": "\(failures)"])
                },
                // Held by the listener until `shutdown` stops and drops it.
                onReject: { [self] credentials in
                    let error = ChannelError.peerRejected(
                        pid: credentials.pid, uid: credentials.uid, reason: "uid \(credentials.uid) is not allowed (allowed: \(allowed.sorted()))")
                    logger.warning("\(error)")
                    emit(.peerRejected(error))
                },
                onAccept: { [self] client, credentials in
                    Task {
                        do throws(ChannelError) { _ = try await self.attach(client: client, credentials: credentials) } catch {
                            self.emit(.startFailed(name: "socket-peer-\(credentials.pid)", error: error))
                        }
                    }
                })
        } catch {
            throw .system(error)
        }
        let previous = state.withLock { state -> LinkListener? in
            guard !state.shuttingDown else { return listener }
            defer { state.listener = listener }
            return state.listener
        }
        previous?.stop()
    }

    /// Creates the peer's segment and hands it over (LinkHandOver), then runs it like a spawned
    /// worker whose pid is the peer's.
    private func attach(client: Int32, credentials: PeerCredentials) async throws(ChannelError) -> WorkerID {
        let name = state.withLock { state -> String? in
            guard !state.shuttingDown else { return nil }
            defer { state.nextSlot += 1 }
            let name = "worker-\(state.nextSlot)"
            state.slots[name] = Slot()
            return name
        }
        guard let name else {
            close(client)
            throw .shuttingDown
        }
        let id = WorkerID(name: name)
        let segment: SharedMemorySegment
        let doorbells: [Int32]
        do {
            (segment, doorbells) = try makeSegment()
            let greeting = LinkGreeting(linkProtocol: .ringChannel, pid: getpid(), backend: reactor.backend.kind, name: "\(id)")
            try LinkHandOver.offer(greeting, segment: segment, doorbells: doorbells, on: client)
            close(client)
        } catch let error as SystemError {
            close(client)
            throw .system(error)
        } catch {
            close(client)
            throw error as? ChannelError ?? .system(SystemError(call: "attach", errno: EIO))
        }
        return try await run(id: id, process: WorkerProcess(attachedPID: credentials.pid), segment: segment, expectedPID: credentials.pid)
    }
}
