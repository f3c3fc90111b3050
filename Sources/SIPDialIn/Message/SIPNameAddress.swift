// name-addr / addr-spec values of From, To, Contact, Route and Record-Route (RFC 3261 §20.10, §25.1).
// Without angle brackets, parameters after the URI belong to the header (a `;tag=` is never a URI
// parameter there), which is why the two forms are parsed differently.

public struct SIPNameAddress: Equatable, Sendable, CustomStringConvertible {
    public var displayName: String?
    public var uri: SIPURI
    /// Header parameters after the address: tag, expires, q, lr on Record-Route is a URI parameter instead.
    public var parameters: [SIPParameter]

    public init(displayName: String? = nil, uri: SIPURI, parameters: [SIPParameter] = []) {
        self.displayName = displayName
        self.uri = uri
        self.parameters = parameters
    }

    public var tag: String? {
        get { parameters.lookup("tag").flatMap { $0 } }
        set {
            if let newValue { parameters.set("tag", newValue) } else { parameters.remove("tag") }
        }
    }

    /// Always written in name-addr form: unambiguous whatever the URI holds.
    public var description: String {
        var s = ""
        if let displayName, !displayName.isEmpty { s = SIPSyntax.quote(displayName) + " " }
        return s + "<\(uri)>" + parameters.wireForm
    }

    public init(parsing text: some StringProtocol) throws {
        let s = SIPSyntax.trim(Substring(text))
        var displayName: String?
        var rest: Substring
        if let lt = SIPNameAddress.openingBracket(in: s) {
            let name = SIPSyntax.trim(s[..<lt])
            if name.first == "\"" {
                do { displayName = try SIPSyntax.unquote(name) } catch { throw SIPSyntaxError("bad display name") }
            } else if !name.isEmpty {
                // Unquoted display names are a sequence of tokens separated by LWS.
                guard name.split(whereSeparator: { $0 == " " || $0 == "\t" }).allSatisfy({ SIPSyntax.isToken($0) }) else {
                    throw SIPSyntaxError("bad display name '\(name)'")
                }
                displayName = name.split(whereSeparator: { $0 == " " || $0 == "\t" }).joined(separator: " ")
            }
            let afterLt = s[s.index(after: lt)...]
            guard let gt = afterLt.firstIndex(of: ">") else { throw SIPSyntaxError("missing '>'") }
            do { self.uri = try SIPURI(parsing: afterLt[..<gt]) } catch let e as SIPURIError { throw SIPSyntaxError(e.description) }
            rest = SIPSyntax.trim(afterLt[afterLt.index(after: gt)...])
            guard rest.isEmpty || rest.first == ";" else { throw SIPSyntaxError("junk after '>'") }
        } else {
            // addr-spec: the URI ends at the first ';' after its host (a user part may itself contain ';').
            let hostStart = s.firstIndex(of: "@").map { s.index(after: $0) } ?? s.startIndex
            let end = s[hostStart...].firstIndex(of: ";") ?? s.endIndex
            guard !s[..<end].contains("?") && !s[..<end].contains(",") else {
                throw SIPSyntaxError("addr-spec with '?' or ',' must be in angle brackets")
            }
            do { self.uri = try SIPURI(parsing: SIPSyntax.trim(s[..<end])) } catch let e as SIPURIError { throw SIPSyntaxError(e.description) }
            rest = s[end...]
        }
        self.displayName = displayName
        self.parameters = try SIPSyntax.parseParameters(rest)
    }

    /// The `<` that starts the address, skipping any inside a quoted display name.
    private static func openingBracket(in s: Substring) -> Substring.Index? {
        var inQuotes = false, escaped = false
        var i = s.startIndex
        while i < s.endIndex {
            let c = s[i]
            if inQuotes {
                if escaped { escaped = false } else if c == "\\" { escaped = true } else if c == "\"" { inQuotes = false }
            } else if c == "\"" {
                inQuotes = true
            } else if c == "<" {
                return i
            }
            i = s.index(after: i)
        }
        return nil
    }
}
