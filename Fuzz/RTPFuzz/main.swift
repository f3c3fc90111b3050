// libFuzzer entry for the RTP header view, full header parse, extension lookup, RTX and in-place rewriting.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    var bytes = Array(UnsafeBufferPointer(start: data, count: size))
    _ = RTP.isRtcp(bytes)
    if let view = try? RTPHeaderView(bytes) {
        for id: UInt8 in 0...15 { _ = view.extensionElement(id: id, in: bytes) }
        _ = try? AudioLevel(view.extensionElement(id: 1, in: bytes) ?? [])
    }
    if let (header, payload) = try? RTPHeader.parse(bytes) {
        // Rebuilt with the same payload and padding, the header must parse back equal.
        guard payload.upperBound <= bytes.count,
              let rebuilt = try? header.packet(payload: Array(bytes[payload]), paddingLength: bytes.count - payload.upperBound),
              let (back, backPayload) = try? RTPHeader.parse(rebuilt), back == header,
              rebuilt[backPayload] == bytes[payload] else {
            fatalError("RTP header serialize → parse changed the header")
        }
    }
    _ = try? RTX.originalSequenceNumber(bytes)
    _ = try? RTX.unwrap(bytes, payloadType: 96, ssrc: 1)
    _ = try? RTX.wrap(bytes, rtxPayloadType: 97, rtxSSRC: 2, rtxSequenceNumber: 3)
    _ = try? bytes.withUnsafeMutableBytes { try RTP.remapExtensionIDs(in: $0) { $0 &+ 1 } }
    _ = try? RTP.rewrite(&bytes, ssrc: 1, sequenceNumber: 2, timestamp: 3, payloadType: 4)
    return 0
}
