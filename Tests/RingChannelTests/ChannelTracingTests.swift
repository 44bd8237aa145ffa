// ChannelTracingTests — one trace across host and worker: the host injects the caller's
// ServiceContext into the forwarding context through its instrument, the worker (RingExampleWorker
// with RING_EXAMPLE_TRACING=1, a W3C pass-through instrument) extracts it and runs the handler inside
// it; the `trace` function answers the traceparent it found there. A caller outside any
// ServiceContext keeps the context it passed.
import Instrumentation
import RingChannel
import RingCore
import RingLinux
import RingTestSupport
import Testing

/// The test's side of the W3C trace context.
enum TestTraceparent: ServiceContextKey {
    typealias Value = String
}

struct TestW3CInstrument: Instrument {
    func extract<Carrier, Extract>(_ carrier: Carrier, into context: inout ServiceContext, using extractor: Extract)
    where Extract: Extractor, Extract.Carrier == Carrier {
        if let value = extractor.extract(key: "traceparent", from: carrier) { context[TestTraceparent.self] = value }
    }

    func inject<Carrier, Inject>(_ context: ServiceContext, into carrier: inout Carrier, using injector: Inject)
    where Inject: Injector, Inject.Carrier == Carrier {
        if let value = context[TestTraceparent.self] { injector.inject(value, forKey: "traceparent", into: &carrier) }
        injector.inject("ring=1", forKey: "tracestate", into: &carrier)
    }
}

extension ChannelProcessTests {
    @Suite(.serialized) struct ChannelTracingTests {
        static let traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

        @Test func theWorkersHandlerRunsInTheCallersTrace() async throws {
            try await withWatchdog(seconds: 60) {
                var configuration = testConfiguration()
                configuration.instrument = TestW3CInstrument()
                try await withHost(configuration) { host in
                    try await host.addWorker(exampleLaunch(environment: ["RING_EXAMPLE_TRACING": "1"]))
                    var service = ServiceContext.topLevel
                    service[TestTraceparent.self] = Self.traceparent
                    let result = try await ServiceContext.withValue(service) {
                        try await host.invoke(function: "trace", payload: [], context: context(1))
                    }
                    #expect(String(decoding: result.payload, as: UTF8.self) == Self.traceparent)
                    #expect(result.context.traceparent == Self.traceparent && result.context.tracestate == "ring=1")
                    // Outside any ServiceContext nothing is injected: the context's own traceparent (the
                    // caller set it explicitly) is what the worker's handler runs in.
                    let explicit = context(2)
                    let untraced = try await host.invoke(function: "trace", payload: [], context: explicit)
                    #expect(String(decoding: untraced.payload, as: UTF8.self) == explicit.traceparent)
                    #expect(untraced.context.traceparent == explicit.traceparent && untraced.context.tracestate.isEmpty)
                }
            }
        }

        @Test func theCarrierKeepsTheBoundsOfTheContext() throws {
            var carrier = ForwardingContext(invocationId: ContextID(high: 1, low: 1))
            let injector = ForwardingContextInjector()
            injector.inject(String(repeating: "x", count: ForwardingContext.Limits.maxTraceparentBytes + 1), forKey: "traceparent", into: &carrier)
            injector.inject("vendor-value", forKey: "x-vendor", into: &carrier)
            injector.inject("vendor-value-2", forKey: "x-vendor", into: &carrier)
            #expect(carrier.traceparent.isEmpty, "an over-long traceparent is dropped, not sent")
            #expect(carrier.attributes == [ForwardingContext.Attribute(key: "x-vendor", value: "vendor-value-2")])
            let extractor = ForwardingContextExtractor()
            #expect(extractor.extract(key: "x-vendor", from: carrier) == "vendor-value-2")
            #expect(extractor.extract(key: "traceparent", from: carrier) == nil)
            #expect(try carrier.encoded().count > 0)
        }
    }
}
