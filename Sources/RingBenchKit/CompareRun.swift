/// The measurements of one `compare` run, in table order, and their execution.
enum CompareRun {
    struct Step {
        var scenario: CompareScenario
        var size: Int
        var transport: String
        var role: CompareTransport.Role
        /// Invocations in flight (invoke steps); 1 otherwise.
        var concurrency = 1
        var runner: CompareTransport.Runner

        /// The settings this step runs with: the run's, at the step's concurrency.
        func settings(_ run: CompareSettings) -> CompareSettings {
            var settings = run
            settings.concurrency = concurrency
            return settings
        }

        /// The failed row of this step: what it would have measured, and why it could not.
        func failure(reason: String, settings: CompareSettings) -> BenchFailure {
            let invoke = scenario == .invoke
            return BenchFailure(
                scenario: scenario.rawValue, transport: transport, messageSize: size, concurrency: concurrency,
                workers: invoke && role != .grpc ? settings.workers : 1, reason: reason)
        }
    }

    struct Failure: Sendable, Equatable {
        var scenario: CompareScenario
        var size: Int
        var transport: String
        var reason: String
    }

    struct Outcome: Sendable {
        /// memcpy and the floor ring per size, and the spin floor.
        var calibration: [BenchResult]
        var results: [BenchResult]
        var failures: [Failure]
    }

    /// Every step in table order: scenario, size, then (invoke) in-flight level, then transport, so
    /// the rows a ratio compares sit together.
    /// `throughputSizes` replaces `sizes` for the one-way throughput rows (nil: the same sizes).
    static func plan(
        scenarios: [CompareScenario], sizes: [Int], transports: [CompareTransport], concurrencies: [Int] = [1],
        throughputSizes: [Int]? = nil
    ) -> [Step] {
        scenarios.flatMap { scenario in
            (scenario == .throughput ? throughputSizes ?? sizes : sizes).flatMap { size in
                (scenario == .invoke ? concurrencies : [1]).flatMap { concurrency in
                    transports.compactMap { transport in
                        transport.runner(for: scenario).map {
                            Step(scenario: scenario, size: size, transport: transport.name, role: transport.role, concurrency: concurrency, runner: $0)
                        }
                    }
                }
            }
        }
    }

    static func calibrationSteps(scenarios: [CompareScenario], sizes: [Int], concurrencies: [Int]) -> Int {
        (scenarios.contains(.throughput) ? 2 * sizes.count : 0) + (scenarios.contains(.pingpong) ? 1 : 0)
            + (scenarios.contains(.invoke) ? concurrencies.count : 0)
    }

    /// `sizes`: the throughput rows' sizes, which the memcpy and floor calibrations are measured at.
    static func execute(plan: [Step], scenarios: [CompareScenario], sizes: [Int], settings: CompareSettings, progress: Progress) async -> Outcome {
        var outcome = Outcome(calibration: [], results: [], failures: [])
        if scenarios.contains(.throughput) {
            for size in sizes {
                progress.step("calibration: memcpy \(Format.bytes(size))")
                outcome.calibration.append(CompareMeasure.memcpy(size: size, settings: settings))
            }
            for size in sizes {
                progress.step("calibration: floor ring \(Format.bytes(size))")
                do { outcome.calibration.append(try await CompareMeasure.floor(size: size, settings: settings)) } catch {
                    outcome.failures.append(Failure(scenario: .throughput, size: size, transport: "floor", reason: "\(error)"))
                    outcome.calibration.append(.failed(BenchFailure(scenario: "calibration", transport: "floor", messageSize: size, reason: "\(error)")))
                }
            }
        }
        if scenarios.contains(.pingpong) {
            progress.step("calibration: cross-process spin floor")
            do { outcome.calibration.append(try await CompareMeasure.spinFloor(settings: settings)) } catch {
                outcome.failures.append(Failure(scenario: .pingpong, size: 4, transport: "spin-floor", reason: "\(error)"))
                outcome.calibration.append(.failed(BenchFailure(scenario: "calibration", transport: "spin-floor", messageSize: 4, reason: "\(error)")))
            }
        }
        if scenarios.contains(.invoke) {
            for concurrency in settings.concurrencies {
                progress.step("calibration: task floor ×\(concurrency)")
                do {
                    outcome.calibration.append(
                        try await TaskFloor.measure(concurrency: concurrency, seconds: settings.seconds, profile: .latency))
                } catch {
                    outcome.failures.append(Failure(scenario: .invoke, size: 0, transport: "task-floor", reason: "\(error)"))
                    outcome.calibration.append(.failed(BenchFailure(
                        scenario: "calibration", transport: "task-floor", messageSize: 0, concurrency: concurrency, reason: "\(error)")))
                }
            }
        }
        for step in plan {
            let inFlight = step.scenario == .invoke ? " ×\(step.concurrency)" : ""
            progress.step("\(step.scenario.rawValue): \(step.transport) \(Format.bytes(step.size))\(inFlight)")
            do {
                outcome.results.append(try await step.runner(step.settings(settings), step.size))
            } catch {
                // The run goes on: the row stays in the results (and the JSON, CSV, table) as failed.
                outcome.failures.append(Failure(scenario: step.scenario, size: step.size, transport: step.transport, reason: "\(error)"))
                outcome.results.append(.failed(step.failure(reason: "\(error)", settings: settings)))
            }
        }
        let rings = Set(plan.filter { $0.role == .ring }.map(\.transport))
        let measured = outcome.results
        outcome.results = outcome.results.map {
            rings.contains($0.transport) && $0.isMeasured ? withLimit($0, calibration: outcome.calibration, results: measured) : $0
        }
        return outcome
    }

    /// Whether failed rows make `compare` exit non-zero: a failed row of RingTransport itself (or of a
    /// calibration it is read against) does; a failed row of a baseline from another stack does not —
    /// it stays in the table, the CSV and the JSON as FAILED with its reason, so a flaky third-party
    /// baseline (grpc-h2-unix at 64 KiB × 64 fails about one run in two with grpc-swift-nio-transport's
    /// "subchannel isn't ready" / "Stream unexpectedly closed") cannot fail `make bench`.
    static func failsTheRun(_ failures: [Failure], transports: [CompareTransport]) -> Bool {
        let baselines = Set(transports.filter { $0.role != .ring && $0.name != "grpc-ring" }.map(\.name))
        return failures.contains { !baselines.contains($0.transport) }
    }

    /// "% of limit" of a ring measurement: bytes/s against memcpy at the same size (throughput), the
    /// spin floor's p50 against the round trip p50 (pingpong), or the same ring's ping-pong p50 at the
    /// same size against the invocation's p50 (invoke: what the invocation layer costs beyond the
    /// ring's round trip; rows with no ping-pong of their own, such as ring-submit, are read against
    /// the ping-pong of the ring with their wait profile).
    static func withLimit(_ result: BenchResult, calibration: [BenchResult], results: [BenchResult] = []) -> BenchResult {
        var result = result
        switch result.scenario {
        case CompareScenario.invoke.rawValue:
            func pingPong(_ transport: String) -> BenchResult? {
                results.first {
                    $0.scenario == CompareScenario.pingpong.rawValue && $0.transport == transport && $0.messageSize == result.messageSize
                        && $0.isMeasured
                }
            }
            let reference = pingPong(result.transport) ?? result.parameters["profile"].flatMap { pingPong("ring-\($0)") }
            if let roundTrip = reference?.latencyNanoseconds?.p50, let p50 = result.latencyNanoseconds?.p50, p50 > 0 {
                result.percentOfLimit = 100 * Double(roundTrip) / Double(p50)
            }
        case CompareScenario.throughput.rawValue:
            if let memcpy = calibration.first(where: { $0.transport == "memcpy" && $0.messageSize == result.messageSize }), memcpy.bytesPerSecond > 0 {
                result.percentOfLimit = 100 * result.bytesPerSecond / memcpy.bytesPerSecond
            }
            if result.percentOfFloor == nil,
               let floor = calibration.first(where: { $0.transport == "floor" && $0.messageSize == result.messageSize && $0.isMeasured }),
               floor.messagesPerSecond > 0 {
                result.percentOfFloor = 100 * result.messagesPerSecond / floor.messagesPerSecond
            }
        case CompareScenario.pingpong.rawValue:
            if let floor = calibration.first(where: { $0.transport == "spin-floor" })?.latencyNanoseconds?.p50,
               let p50 = result.latencyNanoseconds?.p50, p50 > 0 {
                result.percentOfLimit = 100 * Double(floor) / Double(p50)
            }
        default: break
        }
        return result
    }
}
