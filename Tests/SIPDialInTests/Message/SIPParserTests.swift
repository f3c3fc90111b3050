// Parser and serializer: valid messages (many adapted from RFC 4475 §3.1.1) must parse and round-trip;
// invalid ones (RFC 4475 §3.1.2 and hostile input) must throw the precise error, never trap.

import XCTest
@testable import SIPDialIn

final class SIPParserTests: XCTestCase {
    func request(_ bytes: [UInt8], file: StaticString = #filePath, line: UInt = #line) throws -> SIPRequest {
        guard case .request(let r) = try SIPParser.parse(bytes) else {
            XCTFail("not a request", file: file, line: line)
            throw SIPParseError.empty
        }
        return r
    }

    func assertRoundTrip(_ message: SIPMessage, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(try SIPParser.parse(message.serialize()), message, "serialize → parse changed the message", file: file, line: line)
    }

    func assertError(_ bytes: [UInt8], _ expected: SIPParseError, limits: SIPParserLimits = SIPParserLimits(),
                     file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try SIPParser.parse(bytes, limits: limits), file: file, line: line) { error in
            XCTAssertEqual(error as? SIPParseError, expected, file: file, line: line)
        }
    }

    func testBasicInviteParsesWithTypedHeaders() throws {
        let r = try request(invite(body: "v=0\r\n"))
        XCTAssertEqual(r.method, .invite)
        XCTAssertEqual(r.uri.user, "bob")
        XCTAssertEqual(r.uri.host, "biloxi.example.com")
        XCTAssertEqual(r.topVia?.branch, "z9hG4bK776asdhds")
        XCTAssertEqual(r.topVia?.transport, "UDP")
        XCTAssertEqual(r.cseq, SIPCSeq(314159, .invite))
        XCTAssertEqual(r.from?.tag, "1928301774")
        XCTAssertEqual(r.from?.displayName, "Alice")
        XCTAssertNil(r.to?.tag)
        XCTAssertEqual(r.body, Array("v=0\r\n".utf8))
        XCTAssertNil(r.headers["Content-Length"], "Content-Length is derived from the body, not stored")
        assertRoundTrip(.request(r))
    }

    /// RFC 4475 §3.1.1.1 (wsinv), shortened: compact forms, case-insensitive names, folding, LWS around Via
    /// separators, escaped display-name quotes, an unknown header with odd content.
    func testTortuousInvite() throws {
        let bytes = wire([
            "INVITE sip:vivekg@chair-dnrc.example.com;unknownparam SIP/2.0",
            "TO :",
            " sip:vivekg@chair-dnrc.example.com ;   tag    = 1918181833n",
            "from   : \"J Rosenberg \\\\\\\"\"       <sip:jdrosen@example.com>",
            "  ;",
            "  tag = 98asjd8",
            "MaX-fOrWaRdS: 0068",
            "Call-ID: wsinv.ndaksdj@192.0.2.1",
            "cseq: 0009",
            "  INVITE",
            "Via  : SIP  /   2.0",
            " /UDP",
            "    192.0.2.2;branch=390skdjuw",
            "s :",
            "NewFangledHeader:   newfangled value",
            " continued newfangled value",
            "UnknownHeaderWithUnusualValue: ;;,,;;,;",
            "v:  SIP  / 2.0  / TCP     spindle.example.com   ;",
            "  branch  =   z9hG4bK9ikj8  ,",
            " SIP  /    2.0   / UDP  192.168.255.111   ; branch=",
            " z9hG4bK30239",
            "m:\"Quoted string \\\"\\\"\" <sip:jdrosen@example.com> ; newparam =",
            "      newvalue ;",
            "  secondparam ; q = 0.33",
        ])
        // `tag    = 1918181833n` has LWS around '=', which our parameter splitter trims.
        let r = try request(bytes)
        XCTAssertEqual(r.uri.parameters, [SIPParameter("unknownparam")])
        XCTAssertEqual(r.to?.tag, "1918181833n")
        XCTAssertEqual(r.from?.displayName, "J Rosenberg \\\"")
        XCTAssertEqual(r.from?.tag, "98asjd8")
        XCTAssertEqual(r.cseq, SIPCSeq(9, .invite))
        XCTAssertEqual(r.vias.count, 3, "Via line plus two in the compact line")
        XCTAssertEqual(r.vias.map(\.transport), ["UDP", "TCP", "UDP"])
        XCTAssertEqual(r.vias[1].host, "spindle.example.com")
        XCTAssertEqual(r.vias[1].branch, "z9hG4bK9ikj8")
        XCTAssertEqual(r.vias[2].branch, "z9hG4bK30239")
        XCTAssertEqual(r.headers["Subject"], "")
        XCTAssertEqual(r.headers["NewFangledHeader"], "newfangled value continued newfangled value")
        XCTAssertEqual(r.contacts.first?.displayName, "Quoted string \"\"")
        XCTAssertEqual(r.contacts.first?.parameters.lookup("q"), .some("0.33"))
        assertRoundTrip(.request(r))
    }

    func testCompactFormsExpandToCanonicalNames() throws {
        let bytes = wire([
            "OPTIONS sip:user@example.com SIP/2.0",
            "v: SIP/2.0/UDP host;branch=z9hG4bK1",
            "f: <sip:a@example.com>;tag=1",
            "t: <sip:user@example.com>",
            "i: compact@host",
            "CSeq: 1 OPTIONS",
            "k: timer",
            "c: text/plain",
            "l: 2",
        ], body: "hi")
        let r = try request(bytes)
        XCTAssertEqual(r.headers.lines.map(\.name), ["Via", "From", "To", "Call-ID", "CSeq", "Supported", "Content-Type"])
        XCTAssertEqual(r.callID, "compact@host")
        XCTAssertEqual(r.body, Array("hi".utf8))
        XCTAssertTrue(text(r.serialize()).contains("Call-ID: compact@host\r\n"))
    }

    /// RFC 4475 §3.1.1.2 (intmeth): a method is any token; §3.1.1.3 (esc01), §3.1.1.4 (escnull), §3.1.1.10 (semiuri).
    func testUnusualMethodAndEscapedURIs() throws {
        let method = "!interesting-Method0123456789_*+`.%indeed'~"
        let bytes = wire([
            "\(method) sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*:&it+has=1,weird!*pas$wo~d_too.(doesn't-it)@example.com SIP/2.0",
            "Via: SIP/2.0/TCP host1.example.com;branch=z9hG4bK-.!%66*_+`'~",
            "To: \"BEL:\\\u{07} NUL:\\\u{00} DEL:\\\u{7F}\" <sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*@example.com>",
            "From: token1~` token2'+_ token3*%!.- <sip:mundane@example.com>;fromParam''~+*_!.-%=\"\u{0440}\u{0430}\u{0431}\u{043E}\u{0442}\u{0430}\u{044E}\u{0449}\u{0438}\u{0439}\";tag=_token~1'+`*%!-.",
            "Call-ID: intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{",
            "CSeq: 139122385 \(method)",
            "Max-Forwards: 255",
        ])
        // NUL inside a quoted string is not allowed by our parser (it never reaches a header value).
        XCTAssertThrowsError(try SIPParser.parse(bytes))
        let withoutNUL = wire([
            "\(method) sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*:&it+has=1,weird!*pas$wo~d_too.(doesn't-it)@example.com SIP/2.0",
            "Via: SIP/2.0/TCP host1.example.com;branch=z9hG4bK-.!%66*_+`'~",
            "To: <sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*@example.com>",
            "From: token1~` token2'+_ token3*%!.- <sip:mundane@example.com>;tag=_token~1'+`*%!-.",
            "Call-ID: intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{",
            "CSeq: 139122385 \(method)",
        ])
        let r = try request(withoutNUL)
        XCTAssertEqual(r.method.rawValue, method)
        XCTAssertEqual(r.uri.user, "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*", "password dropped")
        XCTAssertEqual(r.from?.displayName, "token1~` token2'+_ token3*%!.-")
        assertRoundTrip(.request(r))

        let esc = try SIPURI(parsing: "sip:sips%3Auser%40example.com@example.net")
        XCTAssertEqual(esc.user, "sips:user@example.com")
        XCTAssertEqual(try SIPURI(parsing: esc.description), esc)
        let null = try SIPURI(parsing: "sip:null-%00-null@example.com")
        XCTAssertEqual(null.user, "null-\u{0}-null")
        XCTAssertEqual(null.description, "sip:null-%00-null@example.com")
        let semi = try SIPURI(parsing: "sip:user;par=u%40example.net@example.com")
        XCTAssertEqual(semi.user, "user;par=u@example.net")
        XCTAssertEqual(semi.host, "example.com")
        XCTAssertEqual(try SIPURI(parsing: "sip:%61lice@EXAMPLE.com"), try SIPURI(parsing: "sip:alice@example.com"))
        let v6 = try SIPURI(parsing: "sips:[2001:db8::10]:5061;transport=tcp;lr?subject=x")
        XCTAssertEqual(v6.host, "2001:db8::10")
        XCTAssertEqual(v6.port, 5061)
        XCTAssertTrue(v6.secure)
        XCTAssertTrue(v6.isLooseRouter)
        XCTAssertEqual(v6.transport, "tcp")
        XCTAssertEqual(v6.headers, [SIPParameter("subject", "x")])
        XCTAssertEqual(v6.description, "sips:[2001:db8::10]:5061;transport=tcp;lr?subject=x")
    }

    func testBadURIs() {
        for bad in ["sip:", "sip:@host", "sip:user@", "sip:host:99999", "sip:host:+5", "sip:[::1", "sip:a b@host", "sip:u@h;=x",
                    "sip:%zz@host", "nocolon", "sip:user@ho_st"] {
            XCTAssertThrowsError(try SIPURI(parsing: bad), bad)
        }
        XCTAssertThrowsError(try SIPURI(parsing: "tel:+1234")) { error in
            XCTAssertEqual(error as? SIPURIError, .unsupportedScheme("tel"))
        }
    }

    /// RFC 4475 §3.1.1.6 (lwsdisp) and name-addr versus addr-spec parameters.
    func testNameAddressForms() throws {
        let a = try SIPNameAddress(parsing: "caller<sip:caller@example.com>;tag=323")
        XCTAssertEqual(a.displayName, "caller")
        XCTAssertEqual(a.tag, "323")
        let spec = try SIPNameAddress(parsing: "sip:caller@example.com;tag=323")
        XCTAssertEqual(spec.tag, "323", "addr-spec parameters belong to the header")
        XCTAssertEqual(spec.uri.parameters, [])
        let bracketed = try SIPNameAddress(parsing: "<sip:caller@example.com;transport=tcp>;tag=1")
        XCTAssertEqual(bracketed.uri.transport, "tcp")
        XCTAssertEqual(bracketed.tag, "1")
        XCTAssertEqual(try SIPNameAddress(parsing: a.description), a)
        let quoted = SIPNameAddress(displayName: "Say \"hi\" \\ bye", uri: try SIPURI(parsing: "sip:x@y"))
        XCTAssertEqual(try SIPNameAddress(parsing: quoted.description), quoted)
        // RFC 4475 §3.1.2.15 (badaspec): addr-spec with '?' needs brackets; §3.1.2.13 (quotbal).
        XCTAssertThrowsError(try SIPNameAddress(parsing: "sip:user@example.org?Route=%3Csip:example.com%3E"))
        XCTAssertThrowsError(try SIPNameAddress(parsing: "\"Mr. J. User <sip:j.user@example.com>"))
        XCTAssertThrowsError(try SIPNameAddress(parsing: "<sip:a@b"))
        XCTAssertThrowsError(try SIPNameAddress(parsing: "<sip:a@b> junk"))
    }

    func testResponseParsing() throws {
        let bytes = wire([
            "SIP/2.0 180 Ringing \u{00E7}a sonne",
            "Via: SIP/2.0/UDP server10.biloxi.example.com;branch=z9hG4bK4b43c2ff8.1;received=192.0.2.3",
            "Via: SIP/2.0/UDP bigbox3.site3.atlanta.example.com;branch=z9hG4bK77ef4c2312983.1, SIP/2.0/UDP pc33;branch=z9hG4bKnashds8;rport=5060",
            "To: Bob <sip:bob@biloxi.example.com>;tag=a6c85cf",
            "From: Alice <sip:alice@atlanta.example.com>;tag=1928301774",
            "Call-ID: a84b4c76e66710",
            "CSeq: 314159 INVITE",
            "Content-Length: 0",
        ])
        guard case .response(let r) = try SIPParser.parse(bytes) else { return XCTFail("not a response") }
        XCTAssertEqual(r.status, 180)
        XCTAssertEqual(r.reason, "Ringing \u{00E7}a sonne")
        XCTAssertEqual(r.vias.count, 3)
        XCTAssertEqual(r.vias[0].received, "192.0.2.3")
        XCTAssertEqual(r.vias[2].rport, 5060)
        assertRoundTrip(.response(r))
        // RFC 4475 §3.1.1.13 (noreason): an empty reason phrase.
        let noReason = wire(["SIP/2.0 100 ", "Via: SIP/2.0/UDP h;branch=z9hG4bK1", "From: <sip:a@b>;tag=1", "To: <sip:c@d>",
                             "Call-ID: x", "CSeq: 1 INVITE", "Content-Length: 0"])
        guard case .response(let nr) = try SIPParser.parse(noReason) else { return XCTFail("not a response") }
        XCTAssertEqual(nr.reason, "")
    }

    func testLeadingCRLFIgnored() throws {
        XCTAssertNoThrow(try SIPParser.parse(Array("\r\n\r\n".utf8) + invite()))
    }

    // MARK: - Invalid messages

    func testContentLengthLongerThanBody() {
        // RFC 4475 §3.1.2.7 (clerr).
        assertError(invite(body: "v=0\r\n", contentLength: 9999), .bodyShorterThanContentLength(declared: 9999, available: 5))
    }

    func testContentLengthShorterThanBodyTruncates() throws {
        // RFC 3261 §18.3: extra bytes of a datagram beyond Content-Length are discarded.
        let r = try request(invite(body: "v=0\r\ngarbage", contentLength: 5))
        XCTAssertEqual(r.body, Array("v=0\r\n".utf8))
    }

    func testNegativeHugeAndConflictingContentLength() {
        // RFC 4475 §3.1.2.2 (ncl), a value past any sane size, and two lines that disagree.
        assertError(invite(contentLength: -999), .badContentLength("-999"))
        assertError(invite(extra: ["Content-Length: 99999999999999999999"]), .badContentLength("99999999999999999999"))
        assertError(invite(extra: ["l: 3"]), .badContentLength("3, 0"))
    }

    func testScalarsOutOfRange() {
        // RFC 4475 §3.1.2.3 (scalar02): CSeq beyond 2^31, Max-Forwards beyond 255.
        let cseq = wire(["OPTIONS sip:u@h SIP/2.0", "Via: SIP/2.0/UDP h;branch=z9hG4bK1", "From: <sip:a@b>;tag=1", "To: <sip:c@d>",
                         "Call-ID: x", "CSeq: 36893488147419103232 OPTIONS", "Content-Length: 0"])
        XCTAssertThrowsError(try SIPParser.parse(cseq)) { error in
            guard case .badHeaderValue(header: "CSeq", _) = error as? SIPParseError else { return XCTFail("\(error)") }
        }
        assertError(invite(extra: ["Max-Forwards: 300"]).replacingMaxForwards(),
                    .badHeaderValue(header: "Max-Forwards", reason: "'300' is not 0-255"))
    }

    func testStartLineErrors() {
        let tail = ["Via: SIP/2.0/UDP h;branch=z9hG4bK1", "From: <sip:a@b>;tag=1", "To: <sip:c@d>", "Call-ID: x", "CSeq: 1 INVITE",
                    "Content-Length: 0"]
        // RFC 4475 §3.1.2.11 (lwsstart) and §3.1.2.10 (lwsruri), trailing whitespace (trws), <> around the URI (ltgtruri).
        for line in ["INVITE  sip:u@h SIP/2.0", "INVITE sip:u@h; lr SIP/2.0", "INVITE sip:u@h SIP/2.0 ", "INVITE SIP/2.0"] {
            assertError(wire([line] + tail), .badStartLine(line))
        }
        XCTAssertThrowsError(try SIPParser.parse(wire(["INVITE <sip:u@h> SIP/2.0"] + tail))) { error in
            guard case .badRequestURI = error as? SIPParseError else { return XCTFail("\(error)") }
        }
        // RFC 4475 §3.1.2.14 (badvers) → 505, §3.1.2.12 (unksm) → 416.
        assertError(wire(["INVITE sip:u@h SIP/7.0"] + tail), .unsupportedVersion("SIP/7.0"))
        XCTAssertEqual(SIPParseError.unsupportedVersion("SIP/7.0").status, 505)
        assertError(wire(["INVITE nobodyknowsthisscheme:totallyopaquecontent SIP/2.0"] + tail),
                    .unsupportedURIScheme("nobodyknowsthisscheme"))
        XCTAssertEqual(SIPParseError.unsupportedURIScheme("x").status, 416)
        assertError(wire(["SIP/2.0 2000 OK"] + tail), .badStartLine("SIP/2.0 2000 OK"))
        assertError(wire(["SIP/3.0 200 OK"] + tail), .unsupportedVersion("SIP/3.0"))
    }

    func testMissingAndDuplicateHeaders() {
        // RFC 4475 §3.1.2.18 (insuf): no Call-ID, From, CSeq or To.
        let insuf = wire(["INVITE sip:user@example.com SIP/2.0", "Via: SIP/2.0/UDP 192.0.2.250;branch=z9hG4bK3", "Max-Forwards: 70",
                          "Content-Length: 0"])
        assertError(insuf, .missingHeader("From"))
        assertError(invite(extra: ["i: another@host"]), .badHeaderValue(header: "Call-ID", reason: "appears more than once"))
        // RFC 4475 §3.1.2.16 (mismatch01): CSeq method differs from the request line.
        let mismatch = invite().replacing("CSeq: 314159 INVITE", with: "CSeq: 314159 OPTIONS")
        assertError(mismatch, .methodMismatch(requestLine: "INVITE", cseq: "OPTIONS"))
        let badVia = invite().replacing("Via: SIP/2.0/UDP pc33", with: "Via: SIP/2.0 pc33")
        XCTAssertThrowsError(try SIPParser.parse(badVia)) { error in
            guard case .badHeaderValue(header: "Via", _) = error as? SIPParseError else { return XCTFail("\(error)") }
        }
    }

    func testHostileBytes() {
        assertError([], .empty)
        assertError(Array("\r\n\r\n".utf8), .empty)
        assertError(Array("INVITE sip:u@h SIP/2.0\r\nVia: x".utf8), .noEndOfHeaders)
        assertError(invite(extra: ["Subject: a\u{0}b"]), .nulByte)
        var nonUTF8 = invite(extra: ["Subject: XX"])
        let at = Array(text(nonUTF8).utf8).firstIndex(of: UInt8(ascii: "X"))!
        nonUTF8[at] = 0xFF
        nonUTF8[at + 1] = 0xFE
        assertError(nonUTF8, .notUTF8)
        assertError(invite(extra: ["Subject: bare\rCR"]), .badHeaderLine("Subject: bare\rCR"))
        assertError(invite(extra: ["NoColonHere"]), .badHeaderLine("NoColonHere"))
        assertError(invite(extra: ["Bad Name: x"]), .badHeaderLine("Bad Name: x"))
        let huge = invite(body: String(repeating: "a", count: 70_000))
        assertError(huge, .messageTooLarge(size: huge.count, limit: 65536))
        let longLine = invite(extra: ["Subject: " + String(repeating: "x", count: 9000)])
        assertError(longLine, .lineTooLong(length: 9009, limit: 8192))
        let many = invite(extra: (0..<300).map { "X-H\($0): v" })
        assertError(many, .tooManyHeaders(limit: 256))
        // A body may hold anything (binary, NUL, invalid UTF-8).
        let binary = invite(extra: ["Content-Type: application/octet-stream"], contentLength: 3) + [0, 0xFF, 0xFE]
        XCTAssertEqual(try SIPParser.parse(binary).body, [0, 0xFF, 0xFE])
    }

    /// Pseudo-random mutations of valid messages: whatever parses must round-trip; nothing may trap.
    func testMutatedMessagesNeverTrap() throws {
        var rng = SplitMix(seed: 42)
        let seeds = [invite(body: "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\n"), Array(text(invite()).replacingOccurrences("INVITE", "BYE").utf8)]
        var parsed = 0
        for _ in 0..<3000 {
            var bytes = seeds[Int(rng.next() % 2)]
            for _ in 0..<(1 + rng.next() % 4) {
                let i = Int(rng.next() % UInt64(bytes.count))
                switch rng.next() % 3 {
                case 0: bytes[i] = UInt8(truncatingIfNeeded: rng.next())
                case 1: bytes.remove(at: i)
                default:
                    let specials = Array(";:<>\" ,\r\n%@".utf8)
                    bytes.insert(specials[Int(rng.next() % UInt64(specials.count))], at: i)
                }
            }
            guard let message = try? SIPParser.parse(bytes) else { continue }
            parsed += 1
            XCTAssertEqual(try SIPParser.parse(message.serialize()), message)
        }
        XCTAssertGreaterThan(parsed, 100, "some mutations stay valid")
    }

    func testHeadersListOperations() {
        var h = SIPHeaders([("Via", "SIP/2.0/UDP a;branch=z9hG4bK1, SIP/2.0/UDP b;branch=z9hG4bK2"), ("route", "<sip:p1;lr>"),
                            ("Content-Length", "5")])
        XCTAssertEqual(h.count, 2, "Content-Length is never stored")
        XCTAssertEqual(h.listValues("v").count, 2)
        h.removeFirstElement("Via")
        XCTAssertEqual(h["via"], "SIP/2.0/UDP b;branch=z9hG4bK2")
        h.set("Route", "<sip:p2;lr>")
        XCTAssertEqual(h.values("Route"), ["<sip:p2;lr>"])
        h.remove("ROUTE")
        XCTAssertFalse(h.contains("Route"))
    }
}

/// Deterministic generator for the mutation test.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

extension Array where Element == UInt8 {
    func replacing(_ a: String, with b: String) -> [UInt8] { Array(text(self).replacingOccurrences(a, b).utf8) }
    /// Drops the default Max-Forwards: 70 so that an extra one is the only one.
    func replacingMaxForwards() -> [UInt8] { replacing("Max-Forwards: 70\r\n", with: "") }
}

extension String {
    func replacingOccurrences(_ a: String, _ b: String) -> String {
        var out = ""
        var rest = Substring(self)
        while let r = rest.firstRange(of: a) {
            out += rest[..<r.lowerBound] + b
            rest = rest[r.upperBound...]
        }
        return out + rest
    }
}
