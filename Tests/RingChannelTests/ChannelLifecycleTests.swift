// ChannelLifecycleTests — starting and attaching workers: handshake mismatches with typed errors,
// start failures, function loads, the Unix socket path (mode 0600, SO_PEERCRED), pools balanced by
// least in-flight, workers added and removed at run time, the Service conformance, metrics, and no
// leaked descriptor or mapping after 100 start/stop cycles.
#if canImport(Glibc)
import Glibc
#endif
import Logging
import Metrics
import MetricsTestKit
import RingChannel
import RingCore
import RingLinux
import RingTestSupport
import ServiceLifecycle
import Testing

/// Identifies the channel's resources among the process's descriptors and mappings.
enum LeakProbe {
    static func readlink(_ path: String) -> String? {
        var buffer = [CChar](repeating: 0, count: 4096)
        let n = Glibc.readlink(path, &buffer, buffer.count - 1)
        guard n > 0 else { return nil }
        return String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    static func descriptorNumbers() -> [Int32] {
        guard let dir = opendir("/proc/self/fd") else { return [] }
        defer { closedir(dir) }
        var numbers: [Int32] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if let number = Int32(name) { numbers.append(number) }
        }
        return numbers
    }

    /// Waits (yielding; the watchdog bounds it) until no segment memfd is open or mapped.
    static func released() async {
        while !segmentInodes().isEmpty || !mappedSegmentInodes().isEmpty { await Task.yield() }
    }

    /// Inodes of open segment memfds (named "ringchannel" by the host).
    static func segmentInodes() -> Set<UInt64> {
        var inodes: Set<UInt64> = []
        for fd in descriptorNumbers() where readlink("/proc/self/fd/\(fd)")?.hasPrefix("/memfd:ringchannel") == true {
            var info = stat()
            if stat("/proc/self/fd/\(fd)", &info) == 0 { inodes.insert(UInt64(info.st_ino)) }
        }
        return inodes
    }

    /// Inodes of mapped segment memfds (/proc/self/maps, fifth column).
    static func mappedSegmentInodes() -> Set<UInt64> {
        guard let file = fopen("/proc/self/maps", "r") else { return [] }
        defer { fclose(file) }
        var inodes: Set<UInt64> = []
        var line = [CChar](repeating: 0, count: 8192)
        while fgets(&line, Int32(line.count), file) != nil {
            let text = String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            guard text.contains("memfd:ringchannel") else { continue }
            let fields = text.split(separator: " ", omittingEmptySubsequences: true)
            if fields.count > 4, let inode = UInt64(fields[4]) { inodes.insert(inode) }
        }
        return inodes
    }

    /// The pids that open pidfds refer to (fdinfo "Pid:").
    static func pidfdTargets() -> Set<Int32> {
        var pids: Set<Int32> = []
        for fd in descriptorNumbers() where readlink("/proc/self/fd/\(fd)") == "anon_inode:[pidfd]" {
            guard let file = fopen("/proc/self/fdinfo/\(fd)", "r") else { continue }
            defer { fclose(file) }
            var line = [CChar](repeating: 0, count: 256)
            while fgets(&line, Int32(line.count), file) != nil {
                let text = String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
                if text.hasPrefix("Pid:"), let pid = Int32(String(text.dropFirst(4).filter { $0.isNumber })) { pids.insert(pid) }
            }
        }
        return pids
    }
}

extension ChannelProcessTests {
    @Suite(.serialized) struct ChannelLifecycleTests {
        /// A worker whose WorkerHello does not decode is rejected at once — `handshakeRejected` with
        /// `.malformed`, the process killed — where `addWorker` used to wait for it to exit by itself.
        @Test func anUndecodableWorkerHelloIsRejectedAndTheWorkerKilled() async throws {
            try await withWatchdog(seconds: 120) {
                try await withHost(testConfiguration()) { host in
                    var rejectedPID: Int32 = 0
                    do {
                        try await host.addWorker(exampleLaunch(environment: ["RING_EXAMPLE_MALFORMED_HELLO": "1"], name: "garbled"))
                        Issue.record("a worker with an undecodable hello was accepted")
                    } catch let error as ChannelError {
                        guard case .handshakeRejected(let id, let pid, .malformed) = error else {
                            Issue.record("expected handshakeRejected(.malformed), got \(error)")
                            return
                        }
                        #expect(id == WorkerID(name: "garbled"))
                        rejectedPID = pid
                    }
                    #expect(host.workers.isEmpty)
                    // The process was killed and reaped (it would pause forever on its own).
                    #expect(rejectedPID > 0)
                    while rejectedPID > 0 && kill(rejectedPID, 0) == 0 { await Task.yield() }
                }
            }
        }

        @Test func handshakeMismatchesRejectTheWorkerWithWhatDiffered() async throws {
            try await withWatchdog(seconds: 120) {
                var configuration = testConfiguration()
                configuration.capabilities = ["RawHttpBodyBytes": "true"]
                try await withHost(configuration) { host in
                    func expectRejection(_ environment: [String: String], name: String, _ mismatch: HandshakeMismatch) async {
                        do {
                            try await host.addWorker(exampleLaunch(environment: environment, name: name))
                            Issue.record("\(name) was accepted")
                        } catch {
                            if case .handshakeRejected(let id, let pid, let found) = error {
                                #expect(id == WorkerID(name: name) && pid > 0)
                                #expect(found == mismatch)
                            } else {
                                Issue.record("\(name): \(error)")
                            }
                        }
                    }
                    await expectRejection(["RING_EXAMPLE_PROTOCOL_VERSIONS": "2-3"], name: "v2", .protocolVersion(host: 1...1, worker: 2...3, chosen: 0))
                    await expectRejection(["RING_EXAMPLE_WORKER_ID": "impostor"], name: "id", .workerID(expected: "id#0", found: "impostor"))
                    await expectRejection(
                        ["RING_EXAMPLE_MAX_MESSAGE_SIZE": "1000"], name: "small", .maxMessageSize(hostRequires: 4 << 20, workerAccepts: 1000))
                    await expectRejection(
                        ["RING_EXAMPLE_REQUIRED_HOST_CAPABILITIES": "RawHttpBodyBytes,Streaming"], name: "needs",
                        .missingCapabilities(side: .host, missing: ["Streaming"]))
                    #expect(host.workers.isEmpty)
                }
                configuration.requiredWorkerCapabilities = ["TypedData"]
                try await withHost(configuration) { host in
                    await #expect(throws: ChannelError.self) { try await host.addWorker(exampleLaunch(name: "plain")) }
                    let id = try await host.addWorker(exampleLaunch(environment: ["RING_EXAMPLE_CAPABILITIES": "TypedData=1"], name: "typed"))
                    #expect(host.workers.first?.hello?.capabilities == ["TypedData": "1"])
                    #expect(try await host.invoke(function: "echo", payload: [1], context: context(1)).workerID == id)
                }
            }
        }

        @Test func startFailuresAreTyped() async throws {
            try await withWatchdog(seconds: 120) {
                try await withHost { host in
                    func startError(_ launch: WorkerLaunch) async -> ChannelError? {
                        do {
                            try await host.addWorker(launch)
                            return nil
                        } catch { return error }
                    }
                    let quitter = await startError(exampleLaunch(environment: ["RING_EXAMPLE_EXIT_BEFORE_HANDSHAKE": "7"], name: "quitter"))
                    if case .workerExited(let id, _, let status) = quitter {
                        #expect(id == WorkerID(name: "quitter") && status == .exited(7))
                    } else {
                        Issue.record("quitter: \(String(describing: quitter))")
                    }
                    let noinit = await startError(exampleLaunch(environment: ["RING_EXAMPLE_FAIL_INIT": "1"], name: "noinit"))
                    if case .workerInitFailed(let id, _, let message) = noinit {
                        #expect(id == WorkerID(name: "noinit") && message == "init refused by configuration")
                    } else {
                        Issue.record("noinit: \(String(describing: noinit))")
                    }
                    await #expect(throws: ChannelError.spawnFailed(executable: "/nonexistent/worker", error: SystemError(call: "posix_spawn(/nonexistent/worker)", errno: ENOENT))) {
                        try await host.addWorker(WorkerLaunch(executable: "/nonexistent/worker"))
                    }
                    // Function loads: replayed to new workers; a worker that cannot load one is rejected.
                    try await host.loadFunction("echo", metadata: [1])
                    try await host.addWorker(exampleLaunch(name: "loader"))
                    let picky = await startError(exampleLaunch(environment: ["RING_EXAMPLE_REJECT_FUNCTIONS": "echo"], name: "picky"))
                    if case .functionLoadFailed(let id, _, let function, let message) = picky {
                        #expect(id == WorkerID(name: "picky") && function == "echo" && message == "function echo is not available")
                    } else {
                        Issue.record("picky: \(String(describing: picky))")
                    }
                    #expect(host.workers.map(\.id) == [WorkerID(name: "loader")])
                }
            }
        }

        @Test func leastInFlightBalancingAndWorkersAddedAndRemovedAtRunTime() async throws {
            try await withWatchdog(seconds: 120) {
                try await withHost { host in
                    let a = try await host.addWorker(exampleLaunch(name: "a"))
                    let b = try await host.addWorker(exampleLaunch(name: "b"))
                    let hanging = (0..<100).map { n in Task { try await host.invoke(function: "hang", payload: [], context: context(UInt64(n))) } }
                    while host.workers.map(\.inFlight).reduce(0, +) < 100 { await Task.yield() }
                    #expect(host.workers.map(\.inFlight) == [50, 50])
                    // A third worker takes the next invocations until it catches up.
                    let c = try await host.addWorker(exampleLaunch(name: "c"))
                    let more = (0..<50).map { n in Task { try await host.invoke(function: "hang", payload: [], context: context(UInt64(200 + n))) } }
                    while host.workers.map(\.inFlight).reduce(0, +) < 150 { await Task.yield() }
                    #expect(host.workers.map(\.inFlight) == [50, 50, 50])
                    for task in hanging + more { task.cancel() }
                    for task in hanging + more { await #expect(throws: CancellationError.self) { _ = try await task.value } }
                    while host.workers.map(\.inFlight).reduce(0, +) > 0 { await Task.yield() }
                    await host.removeWorker(b, gracePeriod: .seconds(5))
                    #expect(host.workers.map(\.id) == [a, c])
                    let answered = Tally()
                    for n in 0..<20 as Range<UInt64> {
                        answered.add("\(try await host.invoke(function: "echo", payload: [1], context: context(n)).workerID)")
                    }
                    #expect(Set(answered.value.keys).isSubset(of: ["\(a)", "\(c)"]) && answered.value.values.reduce(0, +) == 20)
                }
            }
        }

        @Test func aWorkerAttachesOverTheSocketAndStrangersAreRefused() async throws {
            try await withWatchdog(seconds: 120) {
                let path = "/tmp/ringchannel-test-\(getpid()).sock"
                unlink(path)
                try await withHost { host in
                    let events = host.events()
                    try host.listen(on: path)
                    var info = stat()
                    #expect(stat(path, &info) == 0 && info.st_mode & 0o777 == 0o600)
                    let process = try ChildProcess(executable: exampleWorkerPath(), environment: [ChannelProtocol.Environment.socketPath: path])
                    let ready = await next(events) { if case .ready = $0 { true } else { false } }
                    guard case .ready(let id, let pid) = ready else {
                        Issue.record("no worker attached")
                        return
                    }
                    #expect(pid == process.pid)
                    let result = try await host.invoke(function: "pid", payload: [], context: context(1))
                    #expect(result.payload == u32Payload(UInt32(process.pid)) && result.workerID == id)
                    await host.removeWorker(id, gracePeriod: .seconds(5))
                    #expect(try process.wait() == .exited(0))
                }
                #expect(access(path, F_OK) != 0)  // the socket file is removed at shutdown
                var strict = testConfiguration()
                strict.allowedPeerUIDs = [getuid() &+ 1]
                try await withHost(strict) { host in
                    let events = host.events()
                    try host.listen(on: path)
                    let process = try ChildProcess(executable: exampleWorkerPath(), environment: [ChannelProtocol.Environment.socketPath: path])
                    let refused = await next(events) { if case .peerRejected = $0 { true } else { false } }
                    guard case .peerRejected(.peerRejected(let pid, let uid, _)) = refused else {
                        Issue.record("not refused: \(String(describing: refused))")
                        return
                    }
                    #expect(pid == process.pid && uid == getuid())
                    #expect(try process.wait() == .exited(2))  // the worker could not attach
                    #expect(host.workers.isEmpty)
                }
            }
        }

        @Test func theHostRunsAsAServiceAndDrainsOnGracefulShutdown() async throws {
            try await withWatchdog(seconds: 120) {
                let host = try FunctionHost(configuration: testConfiguration(), logger: Logger(label: "host") { _ in SwiftLogNoOpLogHandler() })
                let id = try await host.addWorker(exampleLaunch())
                let pid = host.workers[0].pid
                let events = host.events()
                let group = ServiceGroup(
                    configuration: ServiceGroupConfiguration(services: [.init(service: host)], logger: Logger(label: "group") { _ in SwiftLogNoOpLogHandler() }))
                let running = Task { try await group.run() }
                let slow = Task { try await host.invoke(function: "slow", payload: u32Payload(20), context: context(1)) }
                while host.workers.first?.inFlight != 1 { await Task.yield() }
                await group.triggerGracefulShutdown()
                try await running.value
                #expect(try await slow.value.status == .success)  // finished within the grace period
                var seen: [WorkerEvent] = []
                for await event in events { seen.append(event) }  // the stream finishes at shutdown
                #expect(seen == [.ended(id, pid: pid, error: nil)])
                await #expect(throws: ChannelError.shuttingDown) { _ = try await host.invoke(function: "echo", payload: [], context: context(2)) }
                await #expect(throws: ChannelError.shuttingDown) { try await host.addWorker(exampleLaunch()) }
            }
        }

        @Test func workerRecordsBelowTheHostLoggersLevelAreCountedNotLogged() async throws {
            try await withWatchdog(seconds: 60) {
                let metrics = TestMetrics()
                let logs = LogCapture()
                var logger = Logger(label: "host") { _ in logs.handler() }
                logger.logLevel = .notice
                let host = try FunctionHost(configuration: testConfiguration(), logger: logger, metricsFactory: metrics)
                _ = try await host.addWorker(exampleLaunch())
                let logged = try await host.invoke(function: "log", payload: u32Payload(5), context: context(1))
                #expect(logged.status == .success)
                // The records travel after the answer, through the worker's log writer; each is
                // counted on the host's reader turn that forwards it, so once all five are counted
                // all five have been handed to `forward`, and none (all are `.info`) may reach
                // the capture.
                while metrics.counterTotal(label: "ringchannel_worker_log_records_total") < 5 { await Task.yield() }
                #expect(logs.records.filter { $0.message.hasPrefix("record ") }.isEmpty)
                await host.shutdown(gracePeriod: .zero)
                #expect(metrics.counterTotal(label: "ringchannel_worker_log_records_total") == 5)
            }
        }

        @Test func metricsCountInvocationsFailuresAndWorkers() async throws {
            try await withWatchdog(seconds: 120) {
                let metrics = TestMetrics()
                let host = try FunctionHost(configuration: testConfiguration(), logger: Logger(label: "host") { _ in SwiftLogNoOpLogHandler() }, metricsFactory: metrics)
                let id = try await host.addWorker(exampleLaunch())
                for n in 0..<10 as Range<UInt64> { _ = try await host.invoke(function: "echo", payload: [1], context: context(n)) }
                _ = try await host.invoke(function: "fail", payload: [], context: context(20))
                await #expect(throws: ChannelError.self) {
                    _ = try await host.invoke(function: "hang", payload: [], context: context(21), deadline: .after(.milliseconds(10)))
                }
                await #expect(throws: ChannelError.self) { _ = try await host.invoke(function: "crash", payload: [], context: context(22)) }
                await host.shutdown(gracePeriod: .zero)
                #expect(metrics.counterTotal(label: "ringchannel_invocations_total", dimensions: [("outcome", "success")]) == 10)
                #expect(metrics.counterTotal(label: "ringchannel_invocations_total", dimensions: [("outcome", "failure")]) == 1)
                #expect(metrics.counterTotal(label: "ringchannel_invocation_failures_total", dimensions: [("kind", "deadlineExceeded")]) == 1)
                #expect(metrics.counterTotal(label: "ringchannel_invocation_failures_total", dimensions: [("kind", "workerExited")]) == 1)
                #expect(metrics.counterTotal(label: "ringchannel_worker_ends_total", dimensions: [("kind", "workerExited")]) == 1)
                #expect(try metrics.expectMeter("ringchannel_invocations_in_flight").values.last == 0)
                #expect(try metrics.expectMeter("ringchannel_workers_ready").values.last == 0)
                // Sampled (at most once per ms per worker): the first read records them, within the ring.
                let segment = testConfiguration().segment
                for (direction, capacity) in [("host_to_worker", segment.hostToWorkerCapacity), ("worker_to_host", segment.workerToHostCapacity)] {
                    let values = try metrics.expectGauge("ringchannel_ring_occupancy_bytes", [("direction", direction)]).values
                    #expect(!values.isEmpty, "\(direction)")
                    #expect(values.allSatisfy { $0 >= 0 && $0 <= Double(capacity) }, "\(direction): \(values)")
                }
                _ = id
            }
        }

        /// 100 workers started and stopped (half terminated, half killed): every segment memfd, its
        /// mapping, every pidfd and every child is released, and the process's descriptors and
        /// mappings do not grow by a descriptor or mapping per cycle. Tests of other targets open
        /// descriptors in parallel, so each resource is also identified (memfd inode, pidfd's pid)
        /// and checked exactly.
        @Test func hundredStartStopCyclesLeakNoDescriptorOrMapping() async throws {
            try await withWatchdog(seconds: 240) {
                let host = try FunctionHost(configuration: testConfiguration(), logger: Logger(label: "host") { _ in SwiftLogNoOpLogHandler() })
                // One warm-up cycle: lazily created runtime resources are not leaks.
                let warm = try await host.addWorker(exampleLaunch())
                _ = try await host.invoke(function: "echo", payload: [1], context: context(0))
                await host.removeWorker(warm, gracePeriod: .seconds(5))
                await LeakProbe.released()
                let descriptors = ProcessResources.descriptorCount()
                let mappings = ProcessResources.mappings(matching: "")
                #expect(LeakProbe.segmentInodes().isEmpty && LeakProbe.mappedSegmentInodes().isEmpty)
                var seen: [(inode: UInt64, pid: Int32)] = []
                for cycle in 1...100 {
                    let id = try await host.addWorker(exampleLaunch(name: "cycle"))
                    let pid = host.workers[0].pid
                    let inodes = LeakProbe.segmentInodes()
                    #expect(inodes.count == 1 && LeakProbe.pidfdTargets().contains(pid))
                    let result = try await host.invoke(function: "echo", payload: payload(UInt64(cycle), size: 100), context: context(UInt64(cycle)))
                    #expect(result.payload == payload(UInt64(cycle), size: 100))
                    if cycle % 2 == 0 {
                        await host.removeWorker(id, gracePeriod: .seconds(5))
                    } else {
                        await host.killWorker(id)
                    }
                    seen.append((inodes.first ?? 0, pid))
                    // The segment is unmapped when the last in-flight reference (the reader task,
                    // a reactor callback) lets go, just after the process is gone.
                    await LeakProbe.released()
                }
                let openInodes = LeakProbe.segmentInodes()
                let mappedInodes = LeakProbe.mappedSegmentInodes()
                let watched = LeakProbe.pidfdTargets()
                #expect(openInodes.isEmpty && mappedInodes.isEmpty)
                for (inode, pid) in seen {
                    #expect(!openInodes.contains(inode) && !mappedInodes.contains(inode) && !watched.contains(pid))
                    #expect(kill(pid, 0) == -1 && errno == ESRCH, "worker \(pid) was not reaped")
                }
                // Tests of other targets open and close descriptors and mappings while this runs, so
                // the process-wide counts are compared with a margin: a leak of even one descriptor or
                // mapping per cycle would add 100, far outside it.
                #expect(ProcessResources.descriptorCount() - descriptors < 50, "descriptors grew from \(descriptors)")
                #expect(ProcessResources.mappings(matching: "") - mappings < 50, "mappings grew from \(mappings)")
                await host.shutdown(gracePeriod: .zero)
            }
        }

        /// On the eventfd backend each worker shares four doorbells (eventfds) with the host, one
        /// per waiter word of its segment; a worker that ends gives them back. 40 workers started
        /// and ended (half removed, half killed), each segment at a new address (a placeholder
        /// mapping takes the hole the previous one left, as other allocations do in a long-running
        /// host): the host's eventfds do not grow by four per worker (they used to, until shutdown).
        /// Tests of other targets open eventfds meanwhile, hence the margin: a leak would add 160.
        @Test func workersThatEndOnTheEventfdBackendReleaseTheirDoorbells() async throws {
            let host: FunctionHost
            do {
                host = try FunctionHost(configuration: testConfiguration(.ioUringEventfd), logger: Logger(label: "host") { _ in SwiftLogNoOpLogHandler() })
            } catch {
                print("skipped workersThatEndOnTheEventfdBackendReleaseTheirDoorbells: iouring-eventfd is unavailable here (\(error))")
                return
            }
            try await withWatchdog(seconds: 240) {
                let warm = try await host.addWorker(exampleLaunch())
                _ = try await host.invoke(function: "echo", payload: [1], context: context(0))
                await host.removeWorker(warm, gracePeriod: .seconds(5))
                await LeakProbe.released()
                let eventfds = ProcessResources.descriptors(matching: "eventfd")
                // The size of a segment, so a placeholder fits exactly the hole the last one left.
                let segmentSize = (smallSegment().totalSize + 4095) & ~4095
                var placeholders: [UnsafeMutableRawPointer] = []
                defer { for placeholder in placeholders { munmap(placeholder, segmentSize) } }
                for cycle in 1...40 {
                    let id = try await host.addWorker(exampleLaunch(name: "doorbells"))
                    let result = try await host.invoke(function: "echo", payload: payload(UInt64(cycle), size: 64), context: context(UInt64(cycle)))
                    #expect(result.payload == payload(UInt64(cycle), size: 64))
                    if cycle % 2 == 0 {
                        await host.removeWorker(id, gracePeriod: .seconds(5))
                    } else {
                        await host.killWorker(id)
                    }
                    await LeakProbe.released()
                    // Address space only (PROT_NONE): the next segment cannot reuse these addresses.
                    if let placeholder = mmap(nil, segmentSize, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), placeholder != MAP_FAILED {
                        placeholders.append(placeholder)
                    }
                }
                let grown = ProcessResources.descriptors(matching: "eventfd") - eventfds
                #expect(grown < 40, "eventfds grew by \(grown) over 40 workers")
                await host.shutdown(gracePeriod: .zero)
            }
        }
    }
}
