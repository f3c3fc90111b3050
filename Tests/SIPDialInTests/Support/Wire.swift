// Builds wire messages for tests: lines joined with CRLF, a blank line, then the body.

@testable import SIPDialIn

func wire(_ lines: [String], body: String = "") -> [UInt8] {
    Array((lines.joined(separator: "\r\n") + "\r\n\r\n" + body).utf8)
}

func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

/// A minimal valid INVITE with the given extra lines and body.
func invite(extra: [String] = [], body: String = "", contentLength: Int? = nil, branch: String = "z9hG4bK776asdhds") -> [UInt8] {
    var lines = [
        "INVITE sip:bob@biloxi.example.com SIP/2.0",
        "Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=\(branch)",
        "Max-Forwards: 70",
        "To: Bob <sip:bob@biloxi.example.com>",
        "From: Alice <sip:alice@atlanta.example.com>;tag=1928301774",
        "Call-ID: a84b4c76e66710@pc33.atlanta.example.com",
        "CSeq: 314159 INVITE",
        "Contact: <sip:alice@pc33.atlanta.example.com>",
    ] + extra
    lines.append("Content-Length: \(contentLength ?? body.utf8.count)")
    return wire(lines, body: body)
}
