// STUN (RFC 8489) as an ICE-lite server needs it (RFC 8445 §2.5, §7.3): parse binding requests, check their
// MESSAGE-INTEGRITY and FINGERPRINT, and build the binding success response with XOR-MAPPED-ADDRESS.
// Long-term credentials (REALM/NONCE, MD5 keys) are TURN business and not handled here.

import COpenSSL

/// STUN message class: the two C bits spread through the message type.
public enum STUNClass: UInt8, Sendable {
    case request = 0, indication = 1, successResponse = 2, errorResponse = 3
}

/// STUN method (12 bits). ICE only uses Binding.
public struct STUNMethod: RawRepresentable, Hashable, Sendable {
    public var rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue & 0x0FFF }
    public static let binding = STUNMethod(rawValue: 0x001)
}

/// A transport address as carried in (XOR-)MAPPED-ADDRESS: 4 or 16 address bytes in network order.
public struct STUNAddress: Equatable, Hashable, Sendable, CustomStringConvertible {
    public let ip: [UInt8]
    public var port: UInt16

    /// Fails unless `ip` has 4 (IPv4) or 16 (IPv6) bytes.
    public init?(ip: [UInt8], port: UInt16) {
        guard ip.count == 4 || ip.count == 16 else { return nil }
        self.ip = ip
        self.port = port
    }

    public var isIPv6: Bool { ip.count == 16 }

    public var description: String {
        if !isIPv6 { return ip.map(String.init).joined(separator: ".") + ":\(port)" }
        var groups: [String] = []
        for i in stride(from: 0, to: 16, by: 2) {
            groups.append(String(UInt16(ip[i]) << 8 | UInt16(ip[i + 1]), radix: 16))
        }
        return "[" + groups.joined(separator: ":") + "]:\(port)"
    }
}

/// One STUN attribute. Attributes this server does not interpret are kept raw so that nothing is lost.
public enum STUNAttribute: Equatable, Sendable {
    case username(String)
    case messageIntegrity([UInt8])          // HMAC-SHA1, 20 bytes
    case messageIntegritySHA256([UInt8])    // HMAC-SHA256, 16...32 bytes (RFC 8489 §14.6)
    case fingerprint(UInt32)
    case xorMappedAddress(STUNAddress)
    case priority(UInt32)
    case useCandidate
    case iceControlling(tieBreaker: UInt64)
    case iceControlled(tieBreaker: UInt64)
    case errorCode(code: Int, reason: String)
    case other(type: UInt16, value: [UInt8])

    public enum Kind {
        static let username: UInt16 = 0x0006
        static let messageIntegrity: UInt16 = 0x0008
        static let errorCode: UInt16 = 0x0009
        static let messageIntegritySHA256: UInt16 = 0x001C
        static let xorMappedAddress: UInt16 = 0x0020
        static let priority: UInt16 = 0x0024
        static let useCandidate: UInt16 = 0x0025
        static let fingerprint: UInt16 = 0x8028
        static let iceControlled: UInt16 = 0x8029
        static let iceControlling: UInt16 = 0x802A
    }

    public var type: UInt16 {
        switch self {
        case .username: return Kind.username
        case .messageIntegrity: return Kind.messageIntegrity
        case .messageIntegritySHA256: return Kind.messageIntegritySHA256
        case .fingerprint: return Kind.fingerprint
        case .xorMappedAddress: return Kind.xorMappedAddress
        case .priority: return Kind.priority
        case .useCandidate: return Kind.useCandidate
        case .iceControlling: return Kind.iceControlling
        case .iceControlled: return Kind.iceControlled
        case .errorCode: return Kind.errorCode
        case .other(let type, _): return type
        }
    }
}

public struct STUNMessage: Equatable, Sendable {
    public static let magicCookie: UInt32 = 0x2112_A442
    static let headerLength = 20
    static let fingerprintXor: UInt32 = 0x5354_554E

    public var method: STUNMethod
    public var messageClass: STUNClass
    /// 96-bit transaction id, always 12 bytes.
    public var transactionID: [UInt8]
    public var attributes: [STUNAttribute]

    public init(method: STUNMethod, messageClass: STUNClass, transactionID: [UInt8], attributes: [STUNAttribute] = []) {
        precondition(transactionID.count == 12, "STUN transaction id is 96 bits")
        self.method = method
        self.messageClass = messageClass
        self.transactionID = transactionID
        self.attributes = attributes
    }

    /// RFC 7983 demux: STUN starts with 0...3; with 8 bytes or more the magic cookie must also match.
    public static func isStun(_ firstBytes: [UInt8]) -> Bool {
        guard let first = firstBytes.first, first < 4 else { return false }
        guard firstBytes.count >= 8 else { return true }
        return firstBytes[4] == 0x21 && firstBytes[5] == 0x12 && firstBytes[6] == 0xA4 && firstBytes[7] == 0x42
    }

    // MARK: message type (method and class bits are interleaved: M11-M7 C1 M6-M4 C0 M3-M0)

    static func messageType(_ method: STUNMethod, _ cls: STUNClass) -> UInt16 {
        let m = method.rawValue, c = UInt16(cls.rawValue)
        return (m & 0x000F) | (m & 0x0070) << 1 | (m & 0x0F80) << 2 | (c & 1) << 4 | (c & 2) << 7
    }

    static func split(_ type: UInt16) -> (STUNMethod, STUNClass) {
        let m = (type & 0x000F) | (type >> 1) & 0x0070 | (type >> 2) & 0x0F80
        let c = UInt8((type >> 4) & 1 | (type >> 7) & 2)
        return (STUNMethod(rawValue: m), STUNClass(rawValue: c) ?? .request)
    }

    public func attribute(_ type: UInt16) -> STUNAttribute? { attributes.first { $0.type == type } }

    public var username: String? {
        for case .username(let u) in attributes { return u }
        return nil
    }

    public var priority: UInt32? {
        for case .priority(let p) in attributes { return p }
        return nil
    }

    public var hasUseCandidate: Bool { attributes.contains(.useCandidate) }
}

// MARK: - Parsing

extension STUNMessage {
    /// Parses one whole STUN message; `bytes` must be exactly the message (datagram, or a TCP frame).
    public static func parse(_ bytes: [UInt8]) throws -> STUNMessage {
        var r = ByteReader(bytes)
        let (method, cls, tid, length) = try parseHeader(&r)
        guard r.remaining == length else { throw WireError.badLength("STUN message length") }
        var attributes: [STUNAttribute] = []
        while !r.isAtEnd {
            let type = try r.u16("STUN attribute type")
            let len = Int(try r.u16("STUN attribute length"))
            let value = try r.slice(len, "STUN attribute value")
            try r.skip(paddedTo4(len) - len, "STUN attribute padding")
            attributes.append(try parseAttribute(type: type, value: value, transactionID: tid))
        }
        return STUNMessage(method: method, messageClass: cls, transactionID: tid, attributes: attributes)
    }

    static func parseHeader(_ r: inout ByteReader) throws -> (STUNMethod, STUNClass, [UInt8], Int) {
        let type = try r.u16("STUN header")
        guard type & 0xC000 == 0 else { throw WireError.notSTUN }
        let length = Int(try r.u16("STUN header"))
        guard try r.u32("STUN header") == magicCookie else { throw WireError.notSTUN }
        let tid = try r.bytes(12, "STUN transaction id")
        guard length % 4 == 0 else { throw WireError.badLength("STUN length not a multiple of 4") }
        let (method, cls) = split(type)
        return (method, cls, tid, length)
    }

    static func parseAttribute(type: UInt16, value: ArraySlice<UInt8>, transactionID: [UInt8]) throws -> STUNAttribute {
        var r = ByteReader(value)
        func exact(_ n: Int, _ what: String) throws {
            guard value.count == n else { throw WireError.badLength(what) }
        }
        switch type {
        case STUNAttribute.Kind.username:
            guard value.count <= 513, let s = String(validating: value, as: UTF8.self) else {
                throw WireError.badValue("USERNAME")
            }
            return .username(s)
        case STUNAttribute.Kind.messageIntegrity:
            try exact(20, "MESSAGE-INTEGRITY")
            return .messageIntegrity(Array(value))
        case STUNAttribute.Kind.messageIntegritySHA256:
            guard (16...32).contains(value.count), value.count % 4 == 0 else {
                throw WireError.badLength("MESSAGE-INTEGRITY-SHA256")
            }
            return .messageIntegritySHA256(Array(value))
        case STUNAttribute.Kind.fingerprint:
            try exact(4, "FINGERPRINT")
            return .fingerprint(try r.u32("FINGERPRINT"))
        case STUNAttribute.Kind.priority:
            try exact(4, "PRIORITY")
            return .priority(try r.u32("PRIORITY"))
        case STUNAttribute.Kind.useCandidate:
            try exact(0, "USE-CANDIDATE")
            return .useCandidate
        case STUNAttribute.Kind.iceControlling:
            try exact(8, "ICE-CONTROLLING")
            return .iceControlling(tieBreaker: try r.u64("ICE-CONTROLLING"))
        case STUNAttribute.Kind.iceControlled:
            try exact(8, "ICE-CONTROLLED")
            return .iceControlled(tieBreaker: try r.u64("ICE-CONTROLLED"))
        case STUNAttribute.Kind.errorCode:
            _ = try r.u16("ERROR-CODE")
            let cls = Int(try r.u8("ERROR-CODE") & 0x07)
            let number = Int(try r.u8("ERROR-CODE"))
            guard (3...6).contains(cls), number < 100 else { throw WireError.badValue("ERROR-CODE") }
            guard let reason = String(validating: r.rest(), as: UTF8.self) else { throw WireError.badValue("ERROR-CODE") }
            return .errorCode(code: cls * 100 + number, reason: reason)
        case STUNAttribute.Kind.xorMappedAddress:
            _ = try r.u8("XOR-MAPPED-ADDRESS")
            let family = try r.u8("XOR-MAPPED-ADDRESS")
            let port = try r.u16("XOR-MAPPED-ADDRESS") ^ UInt16(magicCookie >> 16)
            let ipLength: Int
            switch family {
            case 0x01: ipLength = 4
            case 0x02: ipLength = 16
            default: throw WireError.badValue("XOR-MAPPED-ADDRESS family")
            }
            try exact(4 + ipLength, "XOR-MAPPED-ADDRESS")
            let mask = xorMask(transactionID)
            var ip = try r.bytes(ipLength, "XOR-MAPPED-ADDRESS")
            for i in ip.indices { ip[i] ^= mask[i] }
            guard let address = STUNAddress(ip: ip, port: port) else { throw WireError.badValue("XOR-MAPPED-ADDRESS") }
            return .xorMappedAddress(address)
        default:
            return .other(type: type, value: Array(value))
        }
    }

    /// The cookie followed by the transaction id: IPv4 uses the first 4 bytes, IPv6 all 16.
    static func xorMask(_ transactionID: [UInt8]) -> [UInt8] {
        [0x21, 0x12, 0xA4, 0x42] + transactionID
    }
}

// MARK: - Serializing

extension STUNMessage {
    /// Writes the message with its attributes exactly as held (integrity and fingerprint values are not recomputed).
    public func serialize() -> [UInt8] {
        var out = headerBytes()
        for a in attributes { Self.append(a, to: &out, transactionID: transactionID) }
        out.setU16(UInt16(out.count - Self.headerLength), at: 2)
        return out
    }

    /// Writes the message, dropping any held MESSAGE-INTEGRITY(-SHA256)/FINGERPRINT and appending freshly computed
    /// ones: MESSAGE-INTEGRITY when `integrityKey` is given (the ICE password for short-term credentials), then
    /// FINGERPRINT when asked (ICE always uses it, RFC 8445 §7.3).
    public func encode(integrityKey: [UInt8]?, sha256: Bool = false, fingerprint: Bool = true) -> [UInt8] {
        var out = headerBytes()
        for a in attributes {
            switch a {
            case .messageIntegrity, .messageIntegritySHA256, .fingerprint: continue
            default: Self.append(a, to: &out, transactionID: transactionID)
            }
        }
        if let key = integrityKey {
            let macLength = sha256 ? 32 : 20
            // The MAC covers the message with its length field already counting the MAC attribute itself.
            out.setU16(UInt16(out.count - Self.headerLength + 4 + macLength), at: 2)
            let mac = sha256 ? Self.hmacSHA256(key: key, data: out[...]) : Self.hmacSHA1(key: key, data: out[...])
            Self.append(sha256 ? .messageIntegritySHA256(mac) : .messageIntegrity(mac), to: &out, transactionID: transactionID)
        }
        if fingerprint {
            out.setU16(UInt16(out.count - Self.headerLength + 8), at: 2)
            let crc = CRC32.checksum(out[...]) ^ Self.fingerprintXor
            Self.append(.fingerprint(crc), to: &out, transactionID: transactionID)
        }
        out.setU16(UInt16(out.count - Self.headerLength), at: 2)
        return out
    }

    private func headerBytes() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(128)
        out.appendU16(Self.messageType(method, messageClass))
        out.appendU16(0)
        out.appendU32(Self.magicCookie)
        out.append(contentsOf: transactionID)
        return out
    }

    static func append(_ attribute: STUNAttribute, to out: inout [UInt8], transactionID: [UInt8]) {
        var value: [UInt8] = []
        switch attribute {
        case .username(let s): value = Array(s.utf8)
        case .messageIntegrity(let mac), .messageIntegritySHA256(let mac): value = mac
        case .fingerprint(let v), .priority(let v): value.appendU32(v)
        case .useCandidate: break
        case .iceControlling(let t), .iceControlled(let t): value.appendU64(t)
        case .errorCode(let code, let reason):
            value.appendU16(0)
            value.append(UInt8(truncatingIfNeeded: code / 100))
            value.append(UInt8(truncatingIfNeeded: code % 100))
            value.append(contentsOf: reason.utf8)
        case .xorMappedAddress(let a):
            value.append(0)
            value.append(a.isIPv6 ? 0x02 : 0x01)
            value.appendU16(a.port ^ UInt16(magicCookie >> 16))
            let mask = xorMask(transactionID)
            for (i, b) in a.ip.enumerated() { value.append(b ^ mask[i]) }
        case .other(_, let v): value = v
        }
        out.appendU16(attribute.type)
        out.appendU16(UInt16(truncatingIfNeeded: value.count))
        out.append(contentsOf: value)
        out.padTo4()
    }

    /// The ICE-lite answer to a binding request: same transaction id, the peer's source address XOR-mapped,
    /// to be sent through `encode(integrityKey: localPassword)` so that it carries MESSAGE-INTEGRITY and FINGERPRINT.
    public static func bindingSuccess(for request: STUNMessage, mappedAddress: STUNAddress) -> STUNMessage {
        STUNMessage(method: .binding, messageClass: .successResponse, transactionID: request.transactionID,
                    attributes: [.xorMappedAddress(mappedAddress)])
    }

    /// A binding error response (e.g. 400 Bad Request, 401 Unauthorized, 487 Role Conflict).
    public static func bindingError(for request: STUNMessage, code: Int, reason: String) -> STUNMessage {
        STUNMessage(method: .binding, messageClass: .errorResponse, transactionID: request.transactionID,
                    attributes: [.errorCode(code: code, reason: reason)])
    }
}

// MARK: - Verification on the received bytes

extension STUNMessage {
    /// Where MESSAGE-INTEGRITY(-SHA256) and FINGERPRINT start in `raw` (offsets of their attribute headers).
    struct Offsets { var integrity: Int?; var integritySHA256: Int?; var fingerprint: Int? }

    static func offsets(_ raw: [UInt8]) throws -> Offsets {
        var r = ByteReader(raw)
        let (_, _, _, length) = try parseHeader(&r)
        guard r.remaining == length else { throw WireError.badLength("STUN message length") }
        var o = Offsets()
        while !r.isAtEnd {
            let start = r.offset
            let type = try r.u16("STUN attribute type")
            let len = Int(try r.u16("STUN attribute length"))
            try r.skip(paddedTo4(len), "STUN attribute value")
            switch type {
            case STUNAttribute.Kind.messageIntegrity where o.integrity == nil && len == 20: o.integrity = start
            case STUNAttribute.Kind.messageIntegritySHA256 where o.integritySHA256 == nil: o.integritySHA256 = start
            case STUNAttribute.Kind.fingerprint where o.fingerprint == nil && len == 4: o.fingerprint = start
            default: break
            }
        }
        return o
    }

    /// Checks the MESSAGE-INTEGRITY (HMAC-SHA1, or -SHA256 if that is what the message carries) of a received
    /// message with `key` (for ICE: the local ice-pwd as UTF-8). False when absent or wrong; throws if not STUN.
    public static func verifyIntegrity(_ raw: [UInt8], key: [UInt8]) throws -> Bool {
        let o = try offsets(raw)
        let useSHA256 = o.integrity == nil
        guard let start = o.integrity ?? o.integritySHA256 else { return false }
        // Both the header and MAC attribute header are inside `raw`: offsets() walked them with bounds checks.
        let macLength = Int(UInt16(raw[start + 2]) << 8 | UInt16(raw[start + 3]))
        guard raw.count >= start + 4 + macLength else { return false }
        var covered = Array(raw[0..<start])
        covered.setU16(UInt16(start + 4 + macLength - headerLength), at: 2)
        let expected = useSHA256 ? hmacSHA256(key: key, data: covered[...]) : hmacSHA1(key: key, data: covered[...])
        let received = raw[(start + 4)..<(start + 4 + macLength)]
        // Truncated SHA-256 MACs compare their prefix (RFC 8489 §14.6).
        return constantTimeEqual(expected.prefix(macLength), received)
    }

    /// Checks the FINGERPRINT attribute. False when absent or wrong; throws if not STUN.
    public static func verifyFingerprint(_ raw: [UInt8]) throws -> Bool {
        guard let start = try offsets(raw).fingerprint, raw.count >= start + 8 else { return false }
        var covered = Array(raw[0..<start])
        covered.setU16(UInt16(start + 8 - headerLength), at: 2)
        let crc = CRC32.checksum(covered[...]) ^ fingerprintXor
        var r = ByteReader(raw[(start + 4)..<(start + 8)])
        return try r.u32("FINGERPRINT") == crc
    }

    static func constantTimeEqual(_ a: ArraySlice<UInt8>, _ b: ArraySlice<UInt8>) -> Bool {
        guard a.count == b.count else { return false }
        var diff: UInt8 = 0
        for (x, y) in zip(a, b) { diff |= x ^ y }
        return diff == 0
    }

    static func hmacSHA1(key: [UInt8], data: ArraySlice<UInt8>) -> [UInt8] { hmac(EVP_sha1(), 20, key, data) }
    static func hmacSHA256(key: [UInt8], data: ArraySlice<UInt8>) -> [UInt8] { hmac(EVP_sha256(), 32, key, data) }

    /// OpenSSL's one-shot HMAC() is not deprecated in OpenSSL 3 (only the HMAC_CTX API is).
    private static func hmac(_ md: OpaquePointer?, _ size: Int, _ key: [UInt8], _ data: ArraySlice<UInt8>) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: size)
        var outLength: UInt32 = 0
        key.withUnsafeBytes { k in
            data.withUnsafeBytes { d in
                out.withUnsafeMutableBytes { o in
                    _ = HMAC(md, k.baseAddress, Int32(k.count), d.bindMemory(to: UInt8.self).baseAddress, d.count,
                             o.bindMemory(to: UInt8.self).baseAddress, &outLength)
                }
            }
        }
        return out
    }
}

/// CRC-32 (ISO-HDLC, the zlib/Ethernet one) for STUN FINGERPRINT. Written here rather than linking zlib:
/// it is a dozen lines, runs on every binding request, and a 1 KiB table makes it one lookup per byte.
public enum CRC32 {
    static let table: [UInt32] = (0..<256).map { n -> UInt32 in
        var c = UInt32(n)
        for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }

    public static func checksum(_ bytes: ArraySlice<UInt8>) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        table.withUnsafeBufferPointer { t in
            for b in bytes { crc = t[Int((crc ^ UInt32(b)) & 0xFF)] ^ (crc >> 8) }
        }
        return crc ^ 0xFFFF_FFFF
    }
}
