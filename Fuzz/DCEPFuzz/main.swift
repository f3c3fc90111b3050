// libFuzzer entry for the DCEP parser (RFC 8832); compiled together with Sources/SFU/Wire (see Fuzz/README.md).
// Besides "never trap", checks that a parsed message survives serialize → parse unchanged.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    _ = DataChannelAck.isAck(bytes)
    _ = try? DataChannelOpen.parse(bytes)
    guard let message = try? DCEPMessage.parse(bytes) else { return 0 }
    guard let again = try? DCEPMessage.parse(message.serialize()), again == message else {
        fatalError("DCEP serialize → parse changed the message")
    }
    return 0
}
