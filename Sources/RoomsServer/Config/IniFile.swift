import Foundation

/// The INI dialect of Spreed's `server.conf` (goconf), read exactly as the original reads it so that an
/// existing installation's file runs unchanged. Written by hand because no Swift INI library implements
/// this dialect's quirks (`rem` comments, `:` separators, continuation lines, `%(name)s` references).
struct IniFile: Sendable {
    struct Entry: Sendable, Equatable {
        var value: String
        var line: Int
    }

    struct ParseError: Error, CustomStringConvertible, Equatable {
        var file: String
        var line: Int
        var message: String
        var description: String { "\(file):\(line): \(message)" }
    }

    /// Section name (lower-cased) → key (lower-cased) → entry. Lines before the first section go to `default`.
    private(set) var sections: [String: [String: Entry]] = [:]
    /// Section and key order as written, for diagnostics (unknown keys).
    private(set) var order: [(section: String, key: String)] = []
    let path: String

    init(path: String, text: String) throws {
        self.path = path
        var section = "default"
        var lastKey: String? = nil
        sections[section] = [:]
        let lines = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" })
        for (index, raw) in lines.enumerated() {
            let number = index + 1
            let line = raw.trimmingCharacters(in: .whitespacesAndNewlines)
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") || line.lowercased().hasPrefix("rem") {
                continue
            }
            if line.hasPrefix("[") && line.hasSuffix("]") && line.count >= 2 {
                section = String(line.dropFirst().dropLast()).trimmingCharacters(in: .whitespaces).lowercased()
                if sections[section] == nil { sections[section] = [:] }
                lastKey = nil
                continue
            }
            let separator = line.firstIndex(where: { $0 == "=" || $0 == ":" })
            guard let separator else {
                // A bare line continues the most recent option of this section.
                guard let key = lastKey, var entry = sections[section]?[key] else {
                    throw ParseError(file: path, line: number, message: "line is neither a section, an option nor a continuation: \(line)")
                }
                entry.value += "\n" + Self.cutInlineComment(line)
                sections[section]?[key] = entry
                continue
            }
            let key = line[..<separator].trimmingCharacters(in: .whitespaces).lowercased()
            let value = Self.cutInlineComment(line[line.index(after: separator)...].trimmingCharacters(in: .whitespaces))
            if key.isEmpty {
                throw ParseError(file: path, line: number, message: "option without a name")
            }
            if sections[section]?[key] == nil { order.append((section, key)) }
            sections[section]?[key] = Entry(value: value, line: number)
            lastKey = key
        }
    }

    /// The value is cut at the first ` ;`, `\t;`, ` #` or `\t#`.
    private static func cutInlineComment(_ value: String) -> String {
        let chars = Array(value)
        var i = 1
        while i < chars.count {
            if (chars[i] == ";" || chars[i] == "#") && (chars[i - 1] == " " || chars[i - 1] == "\t") {
                return String(chars[..<(i - 1)]).trimmingCharacters(in: .whitespaces)
            }
            i += 1
        }
        return value
    }

    /// The raw entry: this section first, then `[default]`.
    func entry(_ section: String, _ key: String) -> Entry? {
        let s = section.lowercased(), k = key.lowercased()
        return sections[s]?[k] ?? sections["default"]?[k]
    }

    /// The value with `%(name)s` references expanded; nil when absent or when a reference is undefined.
    func value(_ section: String, _ key: String) -> String? {
        guard let entry = entry(section, key) else { return nil }
        return expand(entry.value, section: section, depth: 0)
    }

    private func expand(_ value: String, section: String, depth: Int) -> String? {
        guard value.contains("%("), depth < 10 else { return value }
        var result = ""
        var rest = Substring(value)
        while let start = rest.range(of: "%(") {
            result += rest[..<start.lowerBound]
            guard let end = rest[start.upperBound...].range(of: ")s") else {
                result += rest[start.lowerBound...]
                return result
            }
            let name = String(rest[start.upperBound..<end.lowerBound])
            guard let referenced = entry(section, name),
                  let expanded = expand(referenced.value, section: section, depth: depth + 1) else { return nil }
            result += expanded
            rest = rest[end.upperBound...]
        }
        return result + rest
    }

    func sectionKeys(_ section: String) -> [(key: String, entry: Entry)] {
        let s = section.lowercased()
        return order.filter { $0.section == s }.compactMap { item in
            sections[s]?[item.key].map { (item.key, $0) }
        }
    }

    /// Applies an override (`-oc` file, `--set`, environment). Overrides carry line 0.
    mutating func set(_ section: String, _ key: String, _ value: String, line: Int = 0) {
        let s = section.lowercased(), k = key.lowercased()
        if sections[s] == nil { sections[s] = [:] }
        if sections[s]?[k] == nil { order.append((s, k)) }
        sections[s]?[k] = Entry(value: value, line: line)
    }

    /// Fills keys that this file lacks from `defaults` (`-dc`).
    mutating func fillMissing(from defaults: IniFile) {
        for (section, key) in defaults.order where entry(section, key) == nil {
            if let e = defaults.sections[section]?[key] { set(section, key, e.value, line: e.line) }
        }
    }

    mutating func override(with other: IniFile) {
        for (section, key) in other.order {
            if let e = other.sections[section]?[key] { set(section, key, e.value, line: e.line) }
        }
    }
}
