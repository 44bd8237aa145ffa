import Foundation

/// `--plot`: a self-contained SVG (no scripts, no external fonts or styles) with three panels —
/// one-way throughput (bytes/s, median with a min–max whisker) against message size on log–log axes,
/// with the memcpy limit dashed; round-trip latency percentile curves per transport at the smallest ping-pong size,
/// with the spin floor dashed; and invocations (the product's job): invocations/s and p50 latency against
/// invocations in flight, one curve per transport, at the smallest invoke size.
/// Failed rows are not drawn. Every panel is a `<g id="panel-…">`, every plot in it a `<g id="plot-…">`
/// and every curve a `<g data-series="name">`, so the tests (and a reader's tools) can find them.
enum SVGPlot {
    static let width = 920.0
    static let panelHeight = 420.0
    static let palette = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22"]
    /// The plot area inside a panel.
    static let left = 90.0, right = 210.0, top = 48.0, bottom = 56.0

    struct Series {
        var name: String
        var points: [(x: Double, y: Double)]
        var dashed = false
        /// Min–max range of the repetitions at each point (drawn as a whisker), if known.
        var ranges: [(low: Double, high: Double)] = []
    }

    static func render(_ report: BenchReport) -> String {
        let results = report.results.filter(\.isMeasured)
        let height = 3 * panelHeight + 40
        var svg = """
            <?xml version="1.0" encoding="UTF-8"?>
            <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" viewBox="0 0 \(Int(width)) \(Int(height))" font-family="DejaVu Sans, Helvetica, Arial, sans-serif" font-size="12">
            <rect x="0" y="0" width="\(Int(width))" height="\(Int(height))" fill="#ffffff"/>
            <text x="\(Int(width / 2))" y="24" text-anchor="middle" font-size="15" font-weight="bold">\(escape(title(report.machine)))</text>

            """
        svg += throughputPanel(results, originY: 40)
        svg += latencyPanel(results, originY: 40 + panelHeight)
        svg += invocationPanel(results, originY: 40 + 2 * panelHeight)
        svg += "</svg>\n"
        return svg
    }

    static func title(_ machine: MachineInfo) -> String {
        "ringbench compare — \(machine.cores) CPUs, Linux \(machine.kernel)"
            + (machine.loadAverage.map { ", load avg \(Format.fixed($0, 2))" } ?? "")
    }

    static func throughputPanel(_ results: [BenchResult], originY: Double) -> String {
        var series: [Series] = []
        for name in orderedTransports(results.filter { $0.scenario == CompareScenario.throughput.rawValue }) {
            let rows = results.filter { $0.scenario == CompareScenario.throughput.rawValue && $0.transport == name }
                .sorted { $0.messageSize < $1.messageSize }
            series.append(Series(
                name: name, points: rows.map { (x: Double($0.messageSize), y: $0.bytesPerSecond) },
                ranges: rows.map { (low: $0.messagesPerSecondMin * Double($0.messageSize), high: $0.messagesPerSecondMax * Double($0.messageSize)) }))
        }
        let memcpy = results.filter { $0.transport == "memcpy" }.sorted { $0.messageSize < $1.messageSize }
        if !memcpy.isEmpty {
            series.append(Series(name: "memcpy (limit)", points: memcpy.map { (x: Double($0.messageSize), y: $0.bytesPerSecond) }, dashed: true))
        }
        let sizes = Array(Set(series.flatMap { $0.points.map(\.x) })).sorted()
        return panel(
            id: "throughput", title: "One-way throughput vs message size (median of repetitions)", originY: originY, series: series,
            xAxis: sizes.isEmpty ? nil : .logarithmic(min: sizes.first!, max: sizes.last!, ticks: sizes.map { ($0, Format.bytes(Int($0))) }),
            xLabel: "message size (log)", yLabel: "bytes/s (log)", yFormat: { decade($0, units: [(1e12, "TB/s"), (1e9, "GB/s"), (1e6, "MB/s"), (1e3, "KB/s"), (1, "B/s")]) })
    }

    static var percentiles: [(String, KeyPath<LatencyPercentiles, UInt64>)] {
        [("p50", \.p50), ("p90", \.p90), ("p99", \.p99), ("p99.9", \.p999), ("max", \.max)]
    }

    static func latencyPanel(_ results: [BenchResult], originY: Double) -> String {
        let pingpong = results.filter { $0.scenario == CompareScenario.pingpong.rawValue && $0.latencyNanoseconds != nil }
        let size = pingpong.map(\.messageSize).min()
        var series: [Series] = []
        for name in orderedTransports(pingpong) {
            guard let latency = pingpong.first(where: { $0.transport == name && $0.messageSize == size })?.latencyNanoseconds else { continue }
            series.append(Series(name: name, points: percentiles.enumerated().map { (x: Double($0.offset), y: Double(max(latency[keyPath: $0.element.1], 1))) }))
        }
        if let floor = results.first(where: { $0.transport == "spin-floor" })?.latencyNanoseconds {
            series.append(Series(name: "spin floor (limit)", points: percentiles.enumerated().map { (x: Double($0.offset), y: Double(max(floor[keyPath: $0.element.1], 1))) }, dashed: true))
        }
        return panel(
            id: "latency", title: "Round-trip latency percentiles" + (size.map { ", \(Format.bytes($0)) ping-pong" } ?? ""), originY: originY,
            series: series,
            xAxis: .categorical(percentiles.map(\.0)), xLabel: "percentile", yLabel: "round trip (log)",
            yFormat: { decade($0, units: [(1e9, "s"), (1e6, "ms"), (1e3, "µs"), (1, "ns")]) })
    }

    /// Invocations (`invoke` rows) at the smallest invoke size: invocations/s (median, min–max whisker)
    /// and p50 latency against invocations in flight, one curve per transport (and worker count,
    /// when it is not 1), the two plots side by side sharing one legend.
    static func invocationPanel(_ results: [BenchResult], originY: Double) -> String {
        let invoke = results.filter { $0.scenario == CompareScenario.invoke.rawValue }
        let size = invoke.map(\.messageSize).min()
        return ratePanel(
            id: "invocations", rows: invoke.filter { $0.messageSize == size }, originY: originY,
            title: "Invocations vs in flight" + (size.map { ", \(Format.bytes($0)) echo (FunctionHost or unary RPC)" } ?? ""),
            xLabel: "in flight (log)", rateLabel: "invocations/s (log)", latency: ("p50", \.p50))
    }

    /// `ringbench http` rows: requests/s and p99 against HTTP connections, one curve per route.
    static func httpPanel(_ results: [BenchResult], originY: Double) -> String {
        let http = results.filter { $0.scenario == "http" }
        let size = http.map(\.messageSize).min()
        return ratePanel(
            id: "http", rows: http.filter { $0.messageSize == size }, originY: originY,
            title: "HTTP requests vs connections (wrk)" + (size.map { ", \(Format.bytes($0)) POST bodies" } ?? ""),
            xLabel: "connections (log)", rateLabel: "requests/s (log)", latency: ("p99", \.p99))
    }

    /// `ringbench http`'s SVG: the HTTP panel alone.
    static func renderHTTP(_ report: BenchReport) -> String {
        let results = report.results.filter(\.isMeasured)
        let height = panelHeight + 40
        return """
            <?xml version="1.0" encoding="UTF-8"?>
            <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" viewBox="0 0 \(Int(width)) \(Int(height))" font-family="DejaVu Sans, Helvetica, Arial, sans-serif" font-size="12">
            <rect x="0" y="0" width="\(Int(width))" height="\(Int(height))" fill="#ffffff"/>
            <text x="\(Int(width / 2))" y="24" text-anchor="middle" font-size="15" font-weight="bold">\(escape(title(report.machine).replacingOccurrences(of: "compare", with: "http")))</text>

            """ + httpPanel(results, originY: 40) + "</svg>\n"
    }

    /// Rate (median, min–max whisker) and one latency percentile against concurrency, one curve per
    /// transport (and worker count, when it is not 1), the two plots side by side sharing one legend.
    static func ratePanel(
        id: String, rows atSize: [BenchResult], originY: Double, title: String, xLabel: String, rateLabel: String,
        latency: (name: String, key: KeyPath<LatencyPercentiles, UInt64>)
    ) -> String {
        func name(_ result: BenchResult) -> String { result.workers == 1 ? result.transport : "\(result.transport) (\(result.workers) workers)" }
        var rates: [Series] = []
        var latencies: [Series] = []
        for series in orderedNames(atSize.map(name)) {
            let rows = atSize.filter { name($0) == series }.sorted { $0.concurrency < $1.concurrency }
            rates.append(Series(
                name: series, points: rows.map { (x: Double($0.concurrency), y: $0.messagesPerSecond) },
                ranges: rows.map { (low: $0.messagesPerSecondMin, high: $0.messagesPerSecondMax) }))
            latencies.append(Series(
                name: series, points: rows.compactMap { row in row.latencyNanoseconds.map { (x: Double(row.concurrency), y: Double(max($0[keyPath: latency.key], 1))) } }))
        }
        let levels = Array(Set(atSize.map(\.concurrency))).sorted().map(Double.init)
        let xAxis: XAxis? = levels.isEmpty ? nil : .logarithmic(min: levels.first!, max: levels.last!, ticks: levels.map { ($0, String(Int($0))) })
        let gap = left
        let plotWidth = (width - left - right - gap) / 2
        let plotHeight = panelHeight - top - bottom
        return "<g id=\"panel-\(id)\">\n" + heading(title, originY: originY)
            + plot(
                id: "\(id)-rate", frame: Frame(x: left, y: originY + top, width: plotWidth, height: plotHeight), series: rates,
                xAxis: xAxis, xLabel: xLabel, yLabel: rateLabel,
                yFormat: { decade($0, units: [(1e9, "G/s"), (1e6, "M/s"), (1e3, "K/s"), (1, "/s")]) }, legend: false)
            + plot(
                id: "\(id)-\(latency.name)", frame: Frame(x: left + plotWidth + gap, y: originY + top, width: plotWidth, height: plotHeight),
                series: latencies, xAxis: xAxis, xLabel: xLabel, yLabel: "\(latency.name) latency (log)",
                yFormat: { decade($0, units: [(1e9, "s"), (1e6, "ms"), (1e3, "µs"), (1, "ns")]) }, legend: true)
            + "</g>\n"
    }

    enum XAxis {
        case logarithmic(min: Double, max: Double, ticks: [(Double, String)])
        case categorical([String])
    }

    /// A panel of one plot across the width, its legend on the right.
    static func panel(id: String, title: String, originY: Double, series: [Series], xAxis: XAxis?, xLabel: String, yLabel: String,
                      yFormat: (Double) -> String) -> String {
        let frame = Frame(x: left, y: originY + top, width: width - left - right, height: panelHeight - top - bottom)
        return "<g id=\"panel-\(id)\">\n" + heading(title, originY: originY)
            + plot(id: id, frame: frame, series: series, xAxis: xAxis, xLabel: xLabel, yLabel: yLabel, yFormat: yFormat, legend: true)
            + "</g>\n"
    }

    static func heading(_ title: String, originY: Double) -> String {
        "<text x=\"\(f(left))\" y=\"\(f(originY + 28))\" font-size=\"14\" font-weight=\"bold\">\(escape(title))</text>\n"
    }

    /// Where a plot's axes go.
    struct Frame {
        var x: Double
        var y: Double
        var width: Double
        var height: Double
    }

    /// One plot: log y axis in whole decades, the series as polylines with points (and whiskers), and
    /// the legend right of the frame when `legend` (series keep their palette colour by index, so two
    /// plots given the same series in the same order share one legend).
    static func plot(id: String, frame: Frame, series: [Series], xAxis: XAxis?, xLabel: String, yLabel: String,
                     yFormat: (Double) -> String, legend: Bool) -> String {
        let plotWidth = frame.width
        let plotHeight = frame.height
        let x0 = frame.x, y0 = frame.y
        var out = "<g id=\"plot-\(id)\">\n"
        let values = (series.flatMap { $0.points.map(\.y) } + series.flatMap { $0.ranges.flatMap { [$0.low, $0.high] } }).filter { $0 > 0 }
        guard let xAxis, let lowest = values.min(), let highest = values.max() else {
            return out + "<text x=\"\(f(x0))\" y=\"\(f(y0 + 40))\">no results for this panel</text>\n</g>\n"
        }
        // y: whole decades around the data.
        let yLow = floor(log10(lowest)), yHigh = max(ceil(log10(highest)), yLow + 1)
        func py(_ value: Double) -> Double { y0 + plotHeight - (log10(max(value, 1e-300)) - yLow) / (yHigh - yLow) * plotHeight }
        let px: (Double) -> Double
        var xTicks: [(Double, String)]
        switch xAxis {
        case .logarithmic(let lo, let hi, let ticks):
            let a = log10(lo) - 0.15, b = log10(max(hi, lo * 2)) + 0.15
            px = { x0 + (log10($0) - a) / (b - a) * plotWidth }
            xTicks = ticks
        case .categorical(let labels):
            let step = plotWidth / Double(max(labels.count, 1))
            px = { x0 + step * ($0 + 0.5) }
            xTicks = labels.enumerated().map { (Double($0.offset), $0.element) }
        }
        out += "<rect x=\"\(f(x0))\" y=\"\(f(y0))\" width=\"\(f(plotWidth))\" height=\"\(f(plotHeight))\" fill=\"none\" stroke=\"#444444\"/>\n"
        for exponent in stride(from: yLow, through: yHigh, by: 1) {
            let y = py(pow(10, exponent))
            out += "<line x1=\"\(f(x0))\" y1=\"\(f(y))\" x2=\"\(f(x0 + plotWidth))\" y2=\"\(f(y))\" stroke=\"#dddddd\"/>\n"
            out += "<text x=\"\(f(x0 - 6))\" y=\"\(f(y + 4))\" text-anchor=\"end\">\(escape(yFormat(pow(10, exponent))))</text>\n"
        }
        for (value, label) in xTicks {
            let x = px(value)
            out += "<line x1=\"\(f(x))\" y1=\"\(f(y0))\" x2=\"\(f(x))\" y2=\"\(f(y0 + plotHeight))\" stroke=\"#eeeeee\"/>\n"
            out += "<text x=\"\(f(x))\" y=\"\(f(y0 + plotHeight + 18))\" text-anchor=\"middle\">\(escape(label))</text>\n"
        }
        out += "<text x=\"\(f(x0 + plotWidth / 2))\" y=\"\(f(y0 + plotHeight + 40))\" text-anchor=\"middle\">\(escape(xLabel))</text>\n"
        out += "<text x=\"\(f(x0 - 76))\" y=\"\(f(y0 + plotHeight / 2))\" text-anchor=\"middle\" transform=\"rotate(-90 \(f(x0 - 76)) \(f(y0 + plotHeight / 2)))\">\(escape(yLabel))</text>\n"
        for (index, s) in series.enumerated() {
            let color = s.dashed ? "#555555" : palette[index % palette.count]
            out += "<g data-series=\"\(escape(s.name))\">\n"
            let points = s.points.filter { $0.y > 0 }.map { "\(f(px($0.x))),\(f(py($0.y)))" }
            if points.count > 1 {
                out += "<polyline points=\"\(points.joined(separator: " "))\" fill=\"none\" stroke=\"\(color)\" stroke-width=\"2\""
                    + (s.dashed ? " stroke-dasharray=\"6 4\"" : "") + "/>\n"
            }
            for (point, range) in zip(s.points, s.ranges) where range.low > 0 && range.high > range.low {
                out += "<line x1=\"\(f(px(point.x)))\" y1=\"\(f(py(range.low)))\" x2=\"\(f(px(point.x)))\" y2=\"\(f(py(range.high)))\" stroke=\"\(color)\" stroke-width=\"1.5\" opacity=\"0.6\"/>\n"
            }
            for point in s.points where point.y > 0 {
                out += "<circle cx=\"\(f(px(point.x)))\" cy=\"\(f(py(point.y)))\" r=\"3.5\" fill=\"\(color)\"><title>\(escape("\(s.name): \(yFormat(point.y))"))</title></circle>\n"
            }
            out += "</g>\n"
            guard legend else { continue }
            let ly = y0 + 10 + Double(index) * 20
            let lx = x0 + plotWidth + 16
            out += "<line x1=\"\(f(lx))\" y1=\"\(f(ly))\" x2=\"\(f(lx + 24))\" y2=\"\(f(ly))\" stroke=\"\(color)\" stroke-width=\"2\""
                + (s.dashed ? " stroke-dasharray=\"6 4\"" : "") + "/>\n"
            out += "<text x=\"\(f(lx + 30))\" y=\"\(f(ly + 4))\">\(escape(s.name))</text>\n"
        }
        return out + "</g>\n"
    }

    /// Transports in first-seen order.
    static func orderedTransports(_ results: [BenchResult]) -> [String] { orderedNames(results.map(\.transport)) }

    /// Names without repeats, in first-seen order.
    static func orderedNames(_ names: [String]) -> [String] {
        var seen: [String] = []
        for name in names where !seen.contains(name) { seen.append(name) }
        return seen
    }

    static func f(_ value: Double) -> String { Format.fixed(value, 1) }

    /// Compact labels for decades and data points: "100 MB/s", "1.5 µs".
    static func decade(_ value: Double, units: [(Double, String)]) -> String {
        let (scale, unit) = units.first { value >= $0.0 * 0.9995 } ?? units.last!
        let scaled = value / scale
        let text = scaled >= 100 || scaled.rounded() == scaled ? String(Int(scaled.rounded())) : Format.fixed(scaled, scaled >= 10 ? 1 : 2)
        return text + " " + unit
    }

    static func escape(_ text: String) -> String {
        var out = ""
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            default: out.append(character)
            }
        }
        return out
    }
}
