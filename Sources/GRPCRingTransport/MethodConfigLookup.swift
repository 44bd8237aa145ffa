import GRPCCore

/// Finds the `MethodConfig` for a method in a `ServiceConfig` the way gRPC defines it: an exact
/// service + method name, else the service's default (empty method), else the global default
/// (empty service).
struct MethodConfigLookup: Sendable {
    private var exact: [String: MethodConfig] = [:]
    private var services: [String: MethodConfig] = [:]
    private var global: MethodConfig?

    init(_ serviceConfig: ServiceConfig) {
        for config in serviceConfig.methodConfig {
            for name in config.names {
                if name.service.isEmpty {
                    global = config
                } else if name.method.isEmpty {
                    services[name.service] = config
                } else {
                    exact[name.service + "/" + name.method] = config
                }
            }
        }
    }

    subscript(descriptor: MethodDescriptor) -> MethodConfig? {
        exact[descriptor.fullyQualifiedMethod] ?? services[descriptor.service.fullyQualifiedService] ?? global
    }
}
