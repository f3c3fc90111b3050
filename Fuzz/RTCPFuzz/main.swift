// libFuzzer entry for RTCP compound parsing, the feedback expansions, and re-serialization.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard let packets = try? RTCP.parseCompound(bytes) else { return 0 }
    for p in packets {
        switch p {
        case .transportCC(let t): _ = t.packets
        case .nack(let n): _ = RTCPNack(senderSSRC: 0, mediaSSRC: 0, sequenceNumbers: n.sequenceNumbers)
        default: break
        }
    }
    if let out = try? RTCP.serialize(packets) { _ = try? RTCP.parseCompound(out) }
    return 0
}
