// libFuzzer entry for the SIP message layer; compiled together with Sources/SIPDialIn/Message (see Fuzz/README.md).
// Besides "never trap", checks that a parsed message, URI or name-addr survives serialize → parse unchanged.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let limits = SIPParserLimits(maxMessageSize: 4096, maxHeaderCount: 64, maxLineLength: 1024)
    _ = try? SIPParser.parseHead(bytes, limits: limits)
    if let message = try? SIPParser.parse(bytes, limits: limits) {
        guard let again = try? SIPParser.parse(message.serialize()), again == message else {
            fatalError("SIP serialize → parse changed the message")
        }
        // Typed accessors on whatever parsed.
        _ = (message.headers.listValues("Via"), message.headers["Contact"])
        if case .request(let r) = message { _ = (r.vias, r.contacts, r.recordRoutes, r.cseq, r.from?.tag) }
    }
    // The TCP framer, with the input cut in two at a byte-determined point.
    var framer = SIPStreamFramer(limits: limits)
    let cut = bytes.isEmpty ? 0 : Int(bytes[0]) % (bytes.count + 1)
    framer.append(bytes[..<cut])
    while (try? framer.next()) != nil {}
    framer.append(bytes[cut...])
    while (try? framer.next()) != nil {}
    let text = String(decoding: bytes, as: UTF8.self)
    if let uri = try? SIPURI(parsing: text) {
        guard let again = try? SIPURI(parsing: uri.description), again == uri else { fatalError("SIPURI round trip: \(uri)") }
    }
    if let address = try? SIPNameAddress(parsing: text) {
        guard let again = try? SIPNameAddress(parsing: address.description), again == address else {
            fatalError("SIPNameAddress round trip: \(address)")
        }
    }
    if let via = try? SIPVia(parsing: text) {
        guard let again = try? SIPVia(parsing: via.description), again == via else { fatalError("SIPVia round trip: \(via)") }
    }
    _ = try? DTMFInfo(contentType: "application/dtmf-relay", body: bytes)
    _ = try? DTMFInfo(contentType: "application/dtmf", body: bytes)
    return 0
}
