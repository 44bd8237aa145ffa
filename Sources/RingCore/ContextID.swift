/// A 128-bit identifier (an invocation id or a forwarding id), UUID-compatible in text form.
public struct ContextID: Hashable, Sendable, CustomStringConvertible {
    public var high: UInt64
    public var low: UInt64

    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    public static let zero = ContextID(high: 0, low: 0)

    /// Parses the 8-4-4-4-12 hexadecimal form (case-insensitive), or nil.
    public init?(uuidString: String) {
        let hex = uuidString.utf8.filter { $0 != UInt8(ascii: "-") }
        guard hex.count == 32, uuidString.utf8.count == 36 else { return nil }
        var value: (UInt64, UInt64) = (0, 0)
        for (i, c) in hex.enumerated() {
            let nibble: UInt64
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): nibble = UInt64(c - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): nibble = UInt64(c - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): nibble = UInt64(c - UInt8(ascii: "A") + 10)
            default: return nil
            }
            if i < 16 { value.0 = value.0 << 4 | nibble } else { value.1 = value.1 << 4 | nibble }
        }
        self.init(high: value.0, low: value.1)
    }

    /// Lower-case 8-4-4-4-12 form.
    public var description: String {
        func hex(_ v: UInt64, _ digits: Int) -> String {
            let s = String(v, radix: 16)
            return String(repeating: "0", count: digits - s.count) + s
        }
        let h = hex(high, 16)
        let l = hex(low, 16)
        return "\(h.prefix(8))-\(h.dropFirst(8).prefix(4))-\(h.suffix(4))-\(l.prefix(4))-\(l.suffix(12))"
    }
}
