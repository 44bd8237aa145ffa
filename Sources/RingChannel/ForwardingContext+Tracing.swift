// ForwardingContext+Tracing — the forwarding context as a carrier for swift-distributed-tracing's
// instruments: the host injects the caller's `ServiceContext` into it (W3C `traceparent` and
// `tracestate` go to their own fields, anything else an instrument propagates to attributes), and
// the worker extracts a `ServiceContext` from it and runs each handler inside that context — so a
// Swift worker's spans join the host's trace with no code of its own. With no instrument
// bootstrapped (the NoOpInstrument) nothing is injected or extracted and nothing is spent.
public import Instrumentation
public import RingCore

/// Writes an instrument's values into a forwarding context. Values over the context's bounds are
/// dropped rather than making the invocation fail.
public struct ForwardingContextInjector: Injector {
    public init() {}

    public func inject(_ value: String, forKey key: String, into carrier: inout ForwardingContext) {
        typealias L = ForwardingContext.Limits
        switch key.lowercased() {
        case "traceparent": if value.utf8.count <= L.maxTraceparentBytes { carrier.traceparent = value }
        case "tracestate": if value.utf8.count <= L.maxTracestateBytes { carrier.tracestate = value }
        default:
            guard key.utf8.count <= L.maxAttributeKeyBytes, value.utf8.count <= L.maxAttributeValueBytes else { return }
            if let index = carrier.attributes.firstIndex(where: { $0.key == key }) {
                carrier.attributes[index].value = value
            } else if carrier.attributes.count < L.maxAttributes {
                carrier.attributes.append(ForwardingContext.Attribute(key: key, value: value))
            }
        }
    }
}

/// Reads an instrument's values from a forwarding context.
public struct ForwardingContextExtractor: Extractor {
    public init() {}

    public func extract(key: String, from carrier: ForwardingContext) -> String? {
        switch key.lowercased() {
        case "traceparent": carrier.traceparent.isEmpty ? nil : carrier.traceparent
        case "tracestate": carrier.tracestate.isEmpty ? nil : carrier.tracestate
        default: carrier.attributes.first { $0.key == key }?.value
        }
    }
}

extension ForwardingContext {
    /// `self` with the current task's `ServiceContext` injected by `instrument` (unchanged when the
    /// task has none, or the instrument is the no-op one). The task-local is read first: the
    /// instrument is looked up only for a caller that has a context.
    func injectingCurrentServiceContext(_ instrument: @autoclosure () -> any Instrument) -> ForwardingContext {
        guard let service = ServiceContext.current else { return self }
        let instrument = instrument()
        guard !(instrument is NoOpInstrument) else { return self }
        var context = self
        instrument.inject(service, into: &context, using: ForwardingContextInjector())
        return context
    }

    /// The `ServiceContext` `instrument` extracts from `self`; nil for the no-op instrument, and nil
    /// without asking it when the context carries nothing an instrument could read.
    func extractedServiceContext(_ instrument: @autoclosure () -> any Instrument) -> ServiceContext? {
        guard !traceparent.isEmpty || !tracestate.isEmpty || !attributes.isEmpty else { return nil }
        let instrument = instrument()
        guard !(instrument is NoOpInstrument) else { return nil }
        var service = ServiceContext.topLevel
        instrument.extract(self, into: &service, using: ForwardingContextExtractor())
        return service
    }
}
