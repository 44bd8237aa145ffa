/// Summary of repeated measurements: median and range.
package struct Summary: Codable, Sendable, Equatable {
    package var median: Double
    package var min: Double
    package var max: Double

    package init(median: Double, min: Double, max: Double) {
        self.median = median
        self.min = min
        self.max = max
    }

    package init(_ samples: [Double]) {
        precondition(!samples.isEmpty, "no samples")
        let sorted = samples.sorted()
        let mid = sorted.count / 2
        median = sorted.count % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
        min = sorted.first!
        max = sorted.last!
    }
}

/// Human-readable rates: 1.23 M, 45.6 G…
package enum Format {
    package static func rate(_ value: Double) -> String {
        let units: [(Double, String)] = [(1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "K")]
        for (scale, unit) in units where value >= scale { return fixed(value / scale, 2) + " " + unit }
        return fixed(value, 1) + " "
    }

    package static func nanoseconds(_ value: UInt64) -> String {
        if value >= 1_000_000 { return fixed(Double(value) / 1e6, 2) + " ms" }
        if value >= 1_000 { return fixed(Double(value) / 1e3, 2) + " µs" }
        return "\(value) ns"
    }

    /// Small ratios: 0, 3.2e-05, 0.012…
    package static func scientific(_ value: Double) -> String {
        if value == 0 { return "0" }
        if value >= 0.01 { return fixed(value, 3) }
        var exponent = 0
        var mantissa = value
        while mantissa < 1 {
            mantissa *= 10
            exponent += 1
        }
        return fixed(mantissa, 1) + "e-" + (exponent < 10 ? "0" : "") + String(exponent)
    }

    package static func bytes(_ value: Int) -> String {
        if value >= 1 << 20 && value % (1 << 20) == 0 { return "\(value >> 20) MiB" }
        if value >= 1 << 10 && value % (1 << 10) == 0 { return "\(value >> 10) KiB" }
        return "\(value) B"
    }

    package static func fixed(_ value: Double, _ digits: Int) -> String {
        var scale = 1.0
        for _ in 0..<digits { scale *= 10 }
        let rounded = (value * scale).rounded() / scale
        var text = String(rounded)
        if let dot = text.firstIndex(of: ".") {
            let decimals = text.distance(from: dot, to: text.endIndex) - 1
            if decimals < digits { text += String(repeating: "0", count: digits - decimals) }
        } else if digits > 0 {
            text += "." + String(repeating: "0", count: digits)
        }
        return text
    }

    package static func pad(_ text: String, _ width: Int, right: Bool = false) -> String {
        let padding = String(repeating: " ", count: Swift.max(0, width - text.count))
        return right ? padding + text : text + padding
    }
}
