/// `--csv`: one line per measurement (RFC 4180: comma-separated, fields with a comma, quote or line
/// break quoted, quotes doubled). Missing values are empty fields. A failed row keeps its line:
/// its `failure` field holds the reason and its figures are empty.
enum CSVWriter {
    static let header = [
        "scenario", "transport", "messageSize", "concurrency", "workers", "load", "messagesPerSecond", "messagesPerSecondMin",
        "messagesPerSecondMax", "bytesPerSecond", "p50Nanoseconds", "p90Nanoseconds", "p99Nanoseconds", "p999Nanoseconds",
        "maxNanoseconds", "cpuSecondsPerMillion", "contextSwitchesPerMillion", "syscallsPerMillion", "percentOfLimit", "repetitions",
        "failure",
    ]

    static func render(_ results: [BenchResult]) -> String {
        var lines = [header.joined(separator: ",")]
        for r in results {
            if let failure = r.failure {
                let fields = [r.scenario, r.transport, String(r.messageSize), String(r.concurrency), String(r.workers)]
                    + Array(repeating: "", count: header.count - 6) + [failure]
                lines.append(fields.map(escape).joined(separator: ","))
                continue
            }
            let l = r.latencyNanoseconds
            let fields: [String] = [
                r.scenario, r.transport, String(r.messageSize), String(r.concurrency), String(r.workers), r.load ?? "",
                number(r.messagesPerSecond), number(r.messagesPerSecondMin), number(r.messagesPerSecondMax), number(r.bytesPerSecond),
                l.map { String($0.p50) } ?? "", l.map { String($0.p90) } ?? "", l.map { String($0.p99) } ?? "",
                l.map { String($0.p999) } ?? "", l.map { String($0.max) } ?? "",
                r.cpuSecondsPerMillion.map(number) ?? "", r.contextSwitchesPerMillion.map(number) ?? "",
                r.syscallsPerMillion.map(number) ?? "", r.percentOfLimit.map(number) ?? "", String(r.repetitions), "",
            ]
            lines.append(fields.map(escape).joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    static func number(_ value: Double) -> String {
        value.isFinite ? String(value) : ""
    }

    static func escape(_ field: String) -> String {
        guard field.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return field }
        return "\"" + field.replacingAll("\"", with: "\"\"") + "\""
    }
}

extension String {
    func replacingAll(_ target: Character, with replacement: String) -> String {
        var out = ""
        for character in self { if character == target { out += replacement } else { out.append(character) } }
        return out
    }
}
