import Foundation

/// Durations as Go's `time.ParseDuration` writes them (`1h`, `90m`, `3m50s`, `1.5h`, `250ms`), the format of the
/// MX Proxy configuration this section mirrors; a bare number means seconds.
enum GoDuration {
    private static let units: [(String, TimeInterval)] = [
        ("ns", 1e-9), ("us", 1e-6), ("µs", 1e-6), ("ms", 1e-3), ("s", 1), ("m", 60), ("h", 3600),
    ]

    /// Seconds, or nil when `text` is not a duration (or is negative).
    static func seconds(_ text: String) -> TimeInterval? {
        let s = text.trimmingCharacters(in: .whitespaces)
        if let plain = Double(s), plain.isFinite { return plain >= 0 ? plain : nil }
        guard !s.isEmpty, !s.hasPrefix("-") else { return nil }
        var rest = Substring(s.hasPrefix("+") ? String(s.dropFirst()) : s)
        var total: TimeInterval = 0
        while !rest.isEmpty {
            let number = rest.prefix { $0.isASCII && ($0.isNumber || $0 == ".") }
            guard !number.isEmpty, let value = Double(number) else { return nil }
            rest = rest.dropFirst(number.count)
            // Longest unit first, so that "ms" is not read as "m" followed by "s".
            guard let (unit, factor) = units.sorted(by: { $0.0.count > $1.0.count }).first(where: { rest.hasPrefix($0.0) }) else {
                return nil
            }
            rest = rest.dropFirst(unit.count)
            total += value * factor
        }
        return total
    }
}
