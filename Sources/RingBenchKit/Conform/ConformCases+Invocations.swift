// The invocation cases of `ringbench conform` (Docs/Protocol.md §2, §4, §7, §8, §11): payloads and
// contexts come back byte for byte at every size and fragment boundary, many run at once, cancels
// and deadlines are answered, logs and status reach the host.
import RingChannel
import RingCore

extension ConformCase {
    static let invocations: [ConformCase] = [
        ConformCase(name: "echo", requirement: "answer echo with the payload and the request's context, byte for byte") { session in
            try await session.withWorker { host, _ in
                let sizes = [0, 1, 7, 8, 64, 1000, 4096]
                for (index, size) in sizes.enumerated() { try await ConformSession.echo(host, conformPayload(size, seed: UInt64(index)), id: UInt64(index)) }
                return "sizes \(sizes.map(String.init).joined(separator: ", ")) B"
            }
        },
        ConformCase(name: "unknown-function", requirement: "answer a function it does not have with a failure (§11)") { session in
            try await session.withWorker { host, _ in
                let result = try await host.invoke(function: "conform.no-such-function", payload: [1], context: conformContext(9))
                guard case .failure(let message) = result.status else { throw ConformFailure("answered \(result.status), expected a failure") }
                guard result.context == conformContext(9) else { throw ConformFailure("the failure's context differs from the request's") }
                return "failure \"\(message)\""
            }
        },
        ConformCase(name: "failure", requirement: "fail: answer failure \"requested failure\" with the payload (§7, §11)") { session in
            try await session.withWorker { host, _ in
                let payload = conformPayload(33, seed: 10)
                let result = try await host.invoke(function: "fail", payload: payload, context: conformContext(10))
                guard result.status == .failure(message: "requested failure") else { throw ConformFailure("answered \(result.status)") }
                guard result.payload == payload else { throw ConformFailure("the failure's payload differs (\(result.payload.count) B)") }
                return "status, message and payload exact"
            }
        },
        ConformCase(name: "concurrency", requirement: "hold many invocations at once; answer each exactly once with its own payload") { session in
            try await session.withWorker { host, id in
                // 32 slow invocations held at once (the worker reports them running or queued) ...
                let slow = Task {
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        for index in 0..<32 { group.addTask { try await ConformSession.echo(host, millisecondsPayload(1500, tag: index), id: 100 + UInt64(index), function: "slow") } }
                        try await group.waitForAll()
                    }
                }
                let status = try await ConformSession.running(host, id, 32)
                // ... while 256 echo invocations go through beside them.
                try await within(60, "256 echo invocations") {
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        for index in 0..<256 { group.addTask { try await ConformSession.echo(host, conformPayload(64 + index, seed: UInt64(1000 + index)), id: UInt64(1000 + index)) } }
                        try await group.waitForAll()
                    }
                }
                try await within(30, "the 32 slow invocations") { try await slow.value }
                try await ConformSession.settled(host, "concurrency")
                return "32 slow held at once (status: \(status.running) running, \(status.queued) queued) + 256 echo in flight, all exact"
            }
        },
        ConformCase(name: "fragments", requirement: "reassemble requests and fragment replies at every frame boundary (WireFormat §2.5)") { session in
            // 64 KiB rings and 4 KiB frames: the boundaries are close together and the rings wrap often.
            let segment = SegmentConfiguration(hostToWorkerCapacity: 64 << 10, workerToHostCapacity: 64 << 10, maxMessageSize: 1 << 20, maxFrameLength: 4096)
            return try await session.withWorker({ $0.segment = segment }) { host, _ in
                // First frame: header 32 + context + request prefix 8 ("echo"); the reply's prefix is
                // 8 bytes too. Later frames carry 4096 − 32 payload bytes each.
                let context = try conformContext(0).encoded().count
                let first = 4096 - 32 - context - 8
                let next = 4096 - 32
                var sizes: [Int] = []
                for base in [first, first + next, first + 5 * next] { sizes += [base - 1, base, base + 1] }
                // The largest: the maximum message size less the 8-byte prefix (requests and replies).
                sizes += [200_000, (1 << 20) - 8]
                for (index, size) in sizes.enumerated() { try await ConformSession.echo(host, conformPayload(size, seed: UInt64(index)), id: 0) }
                return "frame 4096 B, context \(context) B: \(sizes.map(String.init).joined(separator: ", ")) B"
            }
        },
        ConformCase(name: "largest-message", requirement: "echo a message of the default maximum size, 64 MiB, byte for byte") { session in
            try await session.withWorker { host, _ in
                // 64 MiB messages: the prefix (8 bytes each way for `echo`) and the payload.
                let payload = conformPayload(SegmentConfiguration.defaultMaxMessageSize - 8, seed: 64)
                try await within(120, "64 MiB echo") { try await ConformSession.echo(host, payload, id: 64) }
                return "64 MiB messages both ways (payload 64 MiB − 8 B)"
            }
        },
        ConformCase(name: "cancel-early", requirement: "answer an invocation cancelled right after it was sent (§2 table)") { session in
            try await session.withWorker { host, _ in
                for index in 0..<8 {
                    let call = Task { try await host.invoke(function: "hang", payload: [], context: conformContext(200 + UInt64(index))) }
                    call.cancel()
                    do {
                        _ = try await call.value
                    } catch is CancellationError {} catch { throw ConformFailure("a cancelled call ended with \(error)") }
                }
                try await ConformSession.settled(host, "cancel-early")
                try await ConformSession.echo(host, [5], id: 210)
                return "8 cancels answered; echo still works"
            }
        },
        ConformCase(name: "cancel-running", requirement: "on invocationCancel, stop a running handler and answer it (§2)") { session in
            try await session.withWorker { host, id in
                let call = Task { try await host.invoke(function: "hang", payload: [], context: conformContext(300)) }
                _ = try await ConformSession.running(host, id, 1)
                call.cancel()
                do {
                    _ = try await call.value
                    throw ConformFailure("the cancelled call returned a result")
                } catch is CancellationError {}
                try await ConformSession.settled(host, "cancel-running")
                try await ConformSession.echo(host, [6], id: 301)
                return "cancel reached the held invocation; it was answered"
            }
        },
        ConformCase(name: "deadline", requirement: "answer an invocation the host cancels at its deadline") { session in
            try await session.withWorker { host, _ in
                do {
                    _ = try await within(10, "a call with a 100 ms deadline") {
                        try await host.invoke(function: "hang", payload: [], context: conformContext(400), deadline: .after(.milliseconds(100)))
                    }
                    throw ConformFailure("the call returned a result")
                } catch ChannelError.deadlineExceeded {}
                try await ConformSession.settled(host, "deadline")
                return "deadlineExceeded, then the worker answered the cancel"
            }
        },
        ConformCase(name: "logs", requirement: "log records reach the host, tagged with their invocation (§8)") { session in
            let logs = ConformLogs()
            return try await session.withWorker(logs: logs) { host, _ in
                let context = conformContext(500)
                let result = try await host.invoke(function: "log", payload: [3, 0, 0, 0], context: context)
                guard result.status == .success else { throw ConformFailure("log answered \(result.status)") }
                let records = try await eventually(5, "3 log records") { () -> [ConformLogs.Record]? in
                    let mine = logs.all.filter { $0.metadata["invocation.id"] == "\(context.invocationId)" }
                    return mine.count >= 3 ? mine : nil
                }
                let messages = records.map(\.message)
                guard messages == ["record 0", "record 1", "record 2"] else { throw ConformFailure("records \(messages)") }
                return "3 records in order, tagged \(context.invocationId)"
            }
        },
        ConformCase(name: "status", requirement: "answer statusRequest from its reader (§6)") { session in
            try await session.withWorker { host, id in
                let status = try await within(10, "status") { try await host.status(of: id, timeout: .seconds(5)) }
                guard status.running == 0, status.queued == 0 else { throw ConformFailure("idle worker reports \(status)") }
                return "running 0, queued 0, completed \(status.completed)"
            }
        },
    ]
}

/// A `slow` payload: u32 milliseconds, then a tag that makes each payload distinct.
func millisecondsPayload(_ milliseconds: UInt32, tag: Int) -> [UInt8] {
    withUnsafeBytes(of: milliseconds.littleEndian, Array.init) + conformPayload(16, seed: UInt64(tag))
}
