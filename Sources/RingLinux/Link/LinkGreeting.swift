// LinkGreeting — the one message that opens every link handed over a Unix socket, whichever
// protocol runs on top: the accepting side sends it with the segment memfd (and, on the eventfd
// backend, doorbells) as SCM_RIGHTS; the connecting side parses it before it touches a descriptor.
//
//     RINGLINK/1\n                 version line: the greeting's own format
//     protocol=<ringchannel|grpc>\n the protocol the rings carry (each has its own handshake frame)
//     pid=<decimal>\n               the sender's pid (the receiver also has SO_PEERCRED)
//     backend=<wait backend>\n      iouring-futex | iouring-eventfd | futex-thread
//     name=<text>\n                 optional: the worker id the host assigned (ringchannel)
//
// Lines are `key=value`; unknown keys are ignored (a later minor addition does not break an older
// reader); a missing required key, a repeated key, a bad number or anything over 4096 bytes is a
// `LinkError.malformedGreeting`. A different version line is `versionMismatch` — including the
// greetings this project used before the link layer (`RINGCHANNEL1`, `GRPCRING1`).

/// The protocol carried by a link's rings.
public enum LinkProtocol: String, Sendable, CaseIterable, CustomStringConvertible {
    /// RingChannel: a function host and its worker (Docs/Protocol.md).
    case ringChannel = "ringchannel"
    /// GRPCRingTransport: a gRPC client and server (Docs/GRPC.md).
    case grpc = "grpc"

    public var description: String { rawValue }
}

/// Why a link could not be set up over its socket.
public enum LinkError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The socket could not be reached or read.
    case unreachable(path: String, SystemError)
    /// The peer speaks another version of the link greeting (its first line is quoted).
    case versionMismatch(offered: String, supported: String)
    /// The peer's link carries another protocol (e.g. a gRPC client at a function host's socket).
    case protocolMismatch(offered: String, expected: LinkProtocol)
    /// The greeting is not what the format allows; the reason names the line.
    case malformedGreeting(String)
    /// The greeting came without a segment descriptor, or with more descriptors than allowed.
    case descriptors(String)

    public var description: String {
        switch self {
        case .unreachable(let path, let error): "cannot reach the link socket \(path): \(error)"
        case .versionMismatch(let offered, let supported):
            "the peer speaks link greeting \"\(offered)\"; this side speaks \"\(supported)\""
        case .protocolMismatch(let offered, let expected):
            "the peer's link carries protocol \"\(offered)\"; this side expects \"\(expected)\""
        case .malformedGreeting(let reason): "malformed link greeting: \(reason)"
        case .descriptors(let reason): "link hand-over: \(reason)"
        }
    }
}

/// The parsed greeting (see the file comment for its bytes).
package struct LinkGreeting: Equatable, Sendable {
    package static let versionLine = "RINGLINK/1"
    package static let maximumBytes = 4096

    package var linkProtocol: LinkProtocol
    package var pid: Int32
    package var backend: ReactorBackendKind
    package var name: String?

    package init(linkProtocol: LinkProtocol, pid: Int32, backend: ReactorBackendKind, name: String? = nil) {
        self.linkProtocol = linkProtocol
        self.pid = pid
        self.backend = backend
        self.name = name
    }

    package var bytes: [UInt8] {
        var text = "\(Self.versionLine)\nprotocol=\(linkProtocol.rawValue)\npid=\(pid)\nbackend=\(backend.rawValue)\n"
        if let name { text += "name=\(name.filter { $0 != "\n" })\n" }
        return Array(text.utf8)
    }

    /// Parses `bytes` as a greeting that must carry `expected`. Reads each line once; never trusts
    /// a length or a count the peer wrote.
    package static func parse(_ bytes: [UInt8], expecting expected: LinkProtocol) throws(LinkError) -> LinkGreeting {
        guard bytes.count <= maximumBytes else { throw .malformedGreeting("\(bytes.count) bytes (at most \(maximumBytes))") }
        guard let text = String(validating: bytes, as: UTF8.self) else { throw .malformedGreeting("not UTF-8") }
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        guard lines.last == "" else { throw .malformedGreeting("the last line is not terminated") }
        lines.removeLast()
        guard let first = lines.first, !first.isEmpty else { throw .malformedGreeting("empty") }
        guard first == versionLine else {
            throw .versionMismatch(offered: String(first.prefix(64)), supported: versionLine)
        }
        var fields: [Substring: Substring] = [:]
        for line in lines.dropFirst() {
            guard let equals = line.firstIndex(of: "="), equals != line.startIndex else {
                throw .malformedGreeting("line \"\(line.prefix(64))\" is not key=value")
            }
            let key = line[..<equals]
            guard fields.updateValue(line[line.index(after: equals)...], forKey: key) == nil else {
                throw .malformedGreeting("key \"\(key.prefix(64))\" repeated")
            }
        }
        func required(_ key: Substring) throws(LinkError) -> Substring {
            guard let value = fields[key] else { throw .malformedGreeting("no \(key)= line") }
            return value
        }
        let offered = try required("protocol")
        guard let linkProtocol = LinkProtocol(rawValue: String(offered)), linkProtocol == expected else {
            throw .protocolMismatch(offered: String(offered.prefix(64)), expected: expected)
        }
        let pidText = try required("pid")
        guard let pid = Int32(pidText), pid > 0 else { throw .malformedGreeting("pid=\(pidText.prefix(64)) is not a pid") }
        let backendText = try required("backend")
        guard let backend = ReactorBackendKind(rawValue: String(backendText)) else {
            throw .malformedGreeting("backend=\(backendText.prefix(64)) is not a wait backend")
        }
        return LinkGreeting(linkProtocol: linkProtocol, pid: pid, backend: backend, name: fields["name"].map(String.init))
    }
}
