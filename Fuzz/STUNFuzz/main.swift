// libFuzzer entry for the STUN parser and verifiers; compiled together with Sources/SFU/Wire (see Fuzz/README.md).
// Besides "never trap", checks that a parsed message survives serialize → parse unchanged.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    _ = STUNMessage.isStun(bytes)
    _ = try? STUNMessage.verifyIntegrity(bytes, key: Array("VOkJxbRl1RmTxUk/WvJxBt".utf8))
    _ = try? STUNMessage.verifyFingerprint(bytes)
    guard let message = try? STUNMessage.parse(bytes) else { return 0 }
    guard let again = try? STUNMessage.parse(message.serialize()), again == message else {
        fatalError("STUN serialize → parse changed the message")
    }
    _ = message.encode(integrityKey: [1, 2, 3])
    return 0
}
