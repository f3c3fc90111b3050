// libFuzzer entry for the SDP parser and accessors. Checks that serialize → parse gives back the same description.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    _ = try? SDPCandidate(parsing: text)
    guard let sdp = try? SessionDescription.parse(text) else { return 0 }
    guard let again = try? SessionDescription.parse(sdp.serialize()), again == sdp else {
        fatalError("SDP serialize → parse changed the description")
    }
    _ = sdp.bundleMids
    for m in sdp.media {
        _ = (m.codecs, m.rtxAssociations, m.candidates, m.simulcastSendRids, m.ssrcs, m.extmaps)
        _ = sdp.iceCredentials(of: m)
    }
    return 0
}
