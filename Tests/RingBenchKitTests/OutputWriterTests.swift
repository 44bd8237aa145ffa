import Foundation
import Testing

#if canImport(FoundationXML)
import FoundationXML
#endif

@testable import RingBenchKit

/// The JSON, CSV and SVG outputs of `compare` parse back for a known set of results.
@Suite struct OutputWriterTests {
    @Test func jsonDecodesBackWithTheDocumentedFields() throws {
        let data = try SampleResults.report.encoded()
        #expect(try JSONDecoder().decode(BenchReport.self, from: data) == SampleResults.report)
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let machine = try #require(object["machine"] as? [String: Any])
        for key in ["cores", "kernel", "ioUringBackend"] { #expect(machine[key] != nil, "machine.\(key)") }
        let results = try #require(object["results"] as? [[String: Any]])
        #expect(results.count == SampleResults.report.results.count)
        let pingpong = try #require(results.first { $0["scenario"] as? String == "pingpong" })
        for key in ["scenario", "transport", "messageSize", "concurrency", "workers", "messagesPerSecond", "bytesPerSecond",
                    "latencyNanoseconds", "repetitions"] {
            #expect(pingpong[key] != nil, "missing \(key)")
        }
        let latency = try #require(pingpong["latencyNanoseconds"] as? [String: Any])
        for key in ["p50", "p90", "p99", "p999", "max"] { #expect(latency[key] != nil, "missing latencyNanoseconds.\(key)") }
        let throughput = try #require(results.first { $0["scenario"] as? String == "throughput" })
        #expect(throughput["cpuSecondsPerMillion"] != nil)
    }

    @Test func csvHasOneRowPerResultAndEqualFieldCounts() throws {
        let results = SampleResults.report.results
        let text = CSVWriter.render(results)
        let rows = try CSV.parse(text)
        #expect(rows.count == results.count + 1)
        #expect(rows[0] == CSVWriter.header)
        for row in rows { #expect(row.count == CSVWriter.header.count) }
        let column = { (name: String) in CSVWriter.header.firstIndex(of: name)! }
        for (row, result) in zip(rows.dropFirst(), results) {
            #expect(row[column("transport")] == result.transport)
            #expect(Int(row[column("messageSize")]) == result.messageSize)
            #expect(Double(row[column("messagesPerSecond")]) == result.messagesPerSecond)
            #expect(row[column("p50Nanoseconds")] == (result.latencyNanoseconds.map { String($0.p50) } ?? ""))
        }
    }

    @Test func csvQuotesFieldsThatNeedIt() throws {
        #expect(CSVWriter.escape("plain") == "plain")
        #expect(CSVWriter.escape("a,b") == "\"a,b\"")
        #expect(CSVWriter.escape("say \"hi\"") == "\"say \"\"hi\"\"\"")
        #expect(try CSV.parse("x,\"a,b\",\"q\"\"q\"\n") == [["x", "a,b", "q\"q"]])
    }

    /// The sample report rendered, and parsed back (it must be well-formed XML).
    private func renderedSample() throws -> (svg: String, parsed: SVGCollector) {
        let svg = SVGPlot.render(SampleResults.report)
        let delegate = SVGCollector()
        let parser = XMLParser(data: Data(svg.utf8))
        parser.delegate = delegate
        #expect(parser.parse(), "XMLParser: \(String(describing: parser.parserError))")
        return (svg, delegate)
    }

    @Test func svgIsWellFormedAndDrawsEveryTransport() throws {
        let (svg, delegate) = try renderedSample()
        #expect(delegate.root == "svg")
        #expect(delegate.namespace == "http://www.w3.org/2000/svg")
        #expect(delegate.elements["polyline", default: 0] >= 4)  // 3 throughput series + memcpy, 3 latency + floor
        #expect(!svg.contains("<script"))
        for name in ["ring-latency", "unix", "pipe", "memcpy (limit)", "spin floor (limit)"] {
            #expect(delegate.texts.contains(name), "legend lacks \(name)")
        }
        #expect(delegate.texts.contains { $0.contains("<test & \"quotes\">") })  // escaped, then parsed back
        #expect(delegate.series["plot-throughput"] == ["ring-latency", "unix", "pipe", "memcpy (limit)"])
        #expect(delegate.series["plot-latency"] == ["ring-latency", "unix", "pipe", "spin floor (limit)"])
    }

    /// The invocations panel: invocations/s and p50 against invocations in flight, one curve per
    /// transport (at the smallest invoke size), each a line through its three concurrencies.
    @Test func svgHasAnInvocationsPanelWithOneSeriesPerTransport() throws {
        let (_, delegate) = try renderedSample()
        #expect(delegate.ids.contains("panel-invocations"))
        let transports = ["ring-latency", "ring-efficiency", "grpc-ring", "grpc-h2-unix"]
        for plot in ["plot-invocations-rate", "plot-invocations-p50"] {
            #expect(delegate.series[plot] == transports, "\(plot)")
            #expect(delegate.elementsIn[plot]?["polyline"] == transports.count, "\(plot): one line per transport")
            #expect(delegate.elementsIn[plot]?["circle"] == transports.count * 3, "\(plot): a point per concurrency")
        }
        let invocations = delegate.textsIn["panel-invocations"] ?? []
        for label in ["1", "16", "64", "in flight (log)", "invocations/s (log)", "p50 latency (log)"] + transports {
            #expect(invocations.contains(label), "invocations panel lacks \(label)")
        }
        #expect(invocations.contains { $0.contains("64 B") })
    }

    @Test func svgWithoutResultsIsStillWellFormed() {
        let svg = SVGPlot.render(BenchReport(results: [], machine: MachineInfo(cores: 2, kernel: "6.18")))
        let parser = XMLParser(data: Data(svg.utf8))
        #expect(parser.parse())
        #expect(svg.contains("no results for this panel"))
    }
}

/// Collects element names and text of a parsed SVG, overall and per enclosing `id` (panels and plots),
/// and the `data-series` curves of each plot in order.
final class SVGCollector: NSObject, XMLParserDelegate {
    var root: String?
    var namespace: String?
    var elements: [String: Int] = [:]
    var texts: [String] = []
    var ids: [String] = []
    /// Element counts and texts inside each element with an id (at any depth).
    var elementsIn: [String: [String: Int]] = [:]
    var textsIn: [String: [String]] = [:]
    /// The `data-series` names inside each `plot-…` group, in document order.
    var series: [String: [String]] = [:]
    private var text = ""
    /// The id of every open element (nil when it has none).
    private var open: [String?] = []

    func parser(_ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?, qualifiedName: String?,
                attributes: [String: String] = [:]) {
        if root == nil {
            root = elementName
            namespace = attributes["xmlns"]
        }
        elements[elementName, default: 0] += 1
        let enclosing = open.compactMap { $0 }
        for id in enclosing { elementsIn[id, default: [:]][elementName, default: 0] += 1 }
        if let name = attributes["data-series"], let plot = enclosing.last(where: { $0.hasPrefix("plot-") }) {
            series[plot, default: []].append(name)
        }
        if let id = attributes["id"] { ids.append(id) }
        open.append(attributes["id"])
        text = ""
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) { text += string }

    func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName: String?) {
        open.removeLast()
        if elementName == "text" {
            texts.append(text)
            for id in open.compactMap({ $0 }) { textsIn[id, default: []].append(text) }
        }
        text = ""
    }
}

/// A small RFC 4180 reader for the tests.
enum CSV {
    struct Malformed: Error {}

    static func parse(_ text: String) throws -> [[String]] {
        var rows: [[String]] = []
        var row: [String] = []
        var field = ""
        var quoted = false
        var characters = Array(text)[...]
        while let c = characters.popFirst() {
            if quoted {
                if c == "\"" {
                    if characters.first == "\"" {
                        field.append("\"")
                        characters.removeFirst()
                    } else {
                        quoted = false
                    }
                } else {
                    field.append(c)
                }
            } else if c == "\"" {
                guard field.isEmpty else { throw Malformed() }
                quoted = true
            } else if c == "," {
                row.append(field)
                field = ""
            } else if c == "\n" {
                row.append(field)
                rows.append(row)
                row = []
                field = ""
            } else {
                field.append(c)
            }
        }
        guard !quoted else { throw Malformed() }
        if !field.isEmpty || !row.isEmpty {
            row.append(field)
            rows.append(row)
        }
        return rows
    }
}
