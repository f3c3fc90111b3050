import CompressNIO
import Foundation
import Hummingbird
import NIOCore

/// Response builders shared by every handler: the REST error shape, indented JSON, plain text, redirects, gzip.
enum Reply {
    static let jsonUTF8 = "application/json; charset=utf-8"

    static func bytes(_ status: HTTPResponse.Status, _ body: some Collection<UInt8>, type: String?, headers: HTTPFields = [:]) -> Response {
        var h = headers
        if let type { h[.contentType] = type }
        return Response(status: status, headers: h, body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }

    static func text(_ status: HTTPResponse.Status, _ body: String, type: String = "text/plain; charset=utf-8") -> Response {
        bytes(status, Array(body.utf8), type: type)
    }

    /// An empty body and no content type (the original's answer to an unimplemented method).
    static func empty(_ status: HTTPResponse.Status) -> Response {
        var h = HTTPFields()
        h[.contentLength] = "0"
        return Response(status: status, headers: h)
    }

    /// REST JSON, pretty-printed with two-space indentation and no trailing newline (as the original).
    static func json(_ status: HTTPResponse.Status = .ok, _ object: JSONValue, type: String = jsonUTF8, headers: HTTPFields = [:]) -> Response {
        bytes(status, Array(object.serialized(indent: true).utf8), type: type, headers: headers)
    }

    /// `{"code","message","success":false}`, key order as the original.
    static func error(_ status: HTTPResponse.Status, _ code: String, _ message: String) -> Response {
        json(status, .object([("code", .string(code)), ("message", .string(message)), ("success", .bool(false))]))
    }

    static func redirect(_ location: String, htmlBody: Bool) -> Response {
        var h = HTTPFields()
        h[.location] = location
        if htmlBody {
            let body = "<a href=\"\(htmlEscape(location))\">Moved Permanently</a>.\n\n"
            return bytes(.movedPermanently, Array(body.utf8), type: "text/html; charset=utf-8", headers: h)
        }
        h[.contentLength] = "0"
        return Response(status: .movedPermanently, headers: h)
    }

    /// gzip/deflate when `Accept-Encoding` lists a bare `gzip` or `deflate` token (whichever comes first).
    static func compressed(_ response: Response, for request: Request, body: [UInt8]) -> Response {
        var response = response
        response.headers[.vary] = "Accept-Encoding"
        guard body.count > 0, let accept = request.headers[.acceptEncoding] else { return response }
        let tokens = accept.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        guard let choice = tokens.first(where: { $0 == "gzip" || $0 == "deflate" }) else { return response }
        var input = ByteBuffer(bytes: body)
        guard let out = try? input.compress(with: choice == "gzip" ? .gzip() : .deflate()) else { return response }
        response.headers[.contentEncoding] = choice
        response.headers[.contentLength] = nil
        response.body = .init(byteBuffer: out)
        return response
    }
}

func htmlEscape(_ s: String) -> String {
    var out = ""
    out.reserveCapacity(s.count)
    for c in s {
        switch c {
        case "<": out += "&lt;"
        case ">": out += "&gt;"
        case "&": out += "&amp;"
        case "\"": out += "&#34;"
        case "'": out += "&#39;"
        default: out.append(c)
        }
    }
    return out
}

/// An ordered JSON value: the Spreed REST documents and `globalcontext` have a fixed key order that
/// `JSONSerialization` would not keep, so documents are built as this small tree and serialised by hand.
indirect enum JSONValue: Sendable {
    case string(String)
    case int(Int64)
    case double(Double)
    case bool(Bool)
    case null
    case array([JSONValue])
    case object([(String, JSONValue)])

    func serialized(indent: Bool, escapeHTML: Bool = false) -> String {
        var out = ""
        write(into: &out, indent: indent ? 0 : -1, escapeHTML: escapeHTML)
        return out
    }

    private func write(into out: inout String, indent level: Int, escapeHTML: Bool) {
        let pretty = level >= 0
        switch self {
        case .string(let s): Self.quote(s, into: &out, escapeHTML: escapeHTML)
        case .int(let i): out += String(i)
        case .double(let d): out += d == d.rounded() && abs(d) < 1e15 ? String(Int64(d)) : String(d)
        case .bool(let b): out += b ? "true" : "false"
        case .null: out += "null"
        case .array(let items):
            if items.isEmpty { out += "[]"; return }
            out += "["
            for (i, item) in items.enumerated() {
                if i > 0 { out += "," }
                if pretty { out += "\n" + String(repeating: "  ", count: level + 1) }
                item.write(into: &out, indent: pretty ? level + 1 : -1, escapeHTML: escapeHTML)
            }
            if pretty { out += "\n" + String(repeating: "  ", count: level) }
            out += "]"
        case .object(let members):
            if members.isEmpty { out += "{}"; return }
            out += "{"
            for (i, (key, value)) in members.enumerated() {
                if i > 0 { out += "," }
                if pretty { out += "\n" + String(repeating: "  ", count: level + 1) }
                Self.quote(key, into: &out, escapeHTML: escapeHTML)
                out += pretty ? ": " : ":"
                value.write(into: &out, indent: pretty ? level + 1 : -1, escapeHTML: escapeHTML)
            }
            if pretty { out += "\n" + String(repeating: "  ", count: level) }
            out += "}"
        }
    }

    /// `escapeHTML` writes `<`, `>`, `&` as `\u003c` etc. so no value can close a `<script>` element.
    static func quote(_ s: String, into out: inout String, escapeHTML: Bool) {
        out += "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "<" where escapeHTML: out += "\\u003c"
            case ">" where escapeHTML: out += "\\u003e"
            case "&" where escapeHTML: out += "\\u0026"
            case "\u{2028}": out += "\\u2028"
            case "\u{2029}": out += "\\u2029"
            default:
                if scalar.value < 0x20 {
                    out += String(format: "\\u%04x", scalar.value)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        out += "\""
    }

    static func strings(_ list: [String]) -> JSONValue { .array(list.map { .string($0) }) }
}
