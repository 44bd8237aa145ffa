// GRPCRoute — the HTTP function the way function hosts reach their workers today: GRPCCore on
// grpc-swift-nio-transport, HTTP/2 over a Unix socket, one bidirectional event stream per worker,
// invocations and replies joined by a table on the host (ForwardingJoin). `lateJoin` is the
// negative control: the forwarding key stored after the send, as in the original failure.
package import Logging
package import RingCore
import Synchronization

package final class GRPCRoute: InvocationRoute {
    let slots: [GRPCWorkerSlot]
    let timeout: Duration
    let lateJoin: Bool
    private let sequence = Atomic<UInt64>(0)
    private let tasks = RingMutex<[Task<Void, Never>]>([])

    package var name: String { lateJoin ? "grpc-late-join" : "grpc" }

    package init(workerExecutable: String, workers: Int, timeout: Duration, lateJoin: Bool, logger: Logger) {
        slots = (0..<workers).map { GRPCWorkerSlot(index: $0, executable: workerExecutable, lateJoin: lateJoin, logger: logger) }
        self.timeout = timeout
        self.lateJoin = lateJoin
    }

    package func start() async throws {
        for slot in slots {
            try await withCheckedThrowingContinuation { (started: CheckedContinuation<Void, any Error>) in
                let task = Task { await slot.run(firstStart: started) }
                tasks.withLock { $0.append(task) }
            }
        }
        // Deadlines: a sweep every 100 ms answers `.timedOut` to what outlived its deadline.
        let sweep = Task { [slots] in
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(100))
                let now = ContinuousClock.now
                for slot in slots { slot.join.expire(now: now) }
            }
        }
        tasks.withLock { $0.append(sweep) }
    }

    package func invoke(_ request: HTTPFunctionRequest, requestID: ContextID, traceparent: String) async -> RouteOutcome {
        let number = sequence.wrappingAdd(1, ordering: .relaxed).newValue
        let context = ForwardingContext(
            invocationId: ContextID(high: requestID.high ^ 0x4752_5043, low: requestID.low), forwardingId: requestID, traceparent: traceparent)
        let message: [UInt8]
        do {
            message = try EventStreamMessage.encode(EventStreamRequest(number: number, context: context, payload: try HTTPPayload.encode(request)))
        } catch {
            return .failed("request not encodable: \(error)")
        }
        // Round robin over the connected workers.
        let start = Int(number % UInt64(slots.count))
        guard let slot = (0..<slots.count).lazy.map({ self.slots[(start + $0) % self.slots.count] }).first(where: \.isConnected) else {
            return .unavailable("no worker is connected")
        }
        let deadline = ContinuousClock.now.advanced(by: timeout)
        return await slot.invoke(number: number, requestID: requestID, message: message, deadline: deadline)
    }

    package var inFlight: Int { slots.reduce(0) { $0 + $1.join.count } }

    package func killOneWorker() async -> Bool {
        for slot in slots.shuffled() where slot.kill() { return true }
        return false
    }

    package func shutdown() async {
        for slot in slots { slot.stop() }
        for task in tasks.withLock({ $0 }) {
            task.cancel()
            await task.value
        }
    }
}
