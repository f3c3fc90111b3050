/// SRTP protection profiles negotiated through the DTLS use_srtp extension (RFC 5764, RFC 7714).
public enum SrtpProfile: UInt, Sendable, CaseIterable, CustomStringConvertible {
    /// SRTP_AES128_CM_SHA1_80 (0x0001): AES-128 counter mode, HMAC-SHA1 80-bit tag. Slow with Debian's libsrtp2.
    case aes128CmHmacSha1_80 = 0x0001
    /// SRTP_AEAD_AES_128_GCM (0x0007): the preferred profile (about 6× cheaper here, offered by all browsers).
    case aeadAes128Gcm = 0x0007
    /// SRTP_AEAD_AES_256_GCM (0x0008).
    case aeadAes256Gcm = 0x0008

    /// Master key length in bytes.
    public var keyLength: Int {
        switch self {
        case .aes128CmHmacSha1_80, .aeadAes128Gcm: return 16
        case .aeadAes256Gcm: return 32
        }
    }

    /// Master salt length in bytes (14 for AES-CM, 12 for the AEAD profiles).
    public var saltLength: Int {
        switch self {
        case .aes128CmHmacSha1_80: return 14
        case .aeadAes128Gcm, .aeadAes256Gcm: return 12
        }
    }

    /// The name used in OpenSSL's `SSL_CTX_set_tlsext_use_srtp` list and in RFC 5764's registry.
    public var openSSLName: String {
        switch self {
        case .aes128CmHmacSha1_80: return "SRTP_AES128_CM_SHA1_80"
        case .aeadAes128Gcm: return "SRTP_AEAD_AES_128_GCM"
        case .aeadAes256Gcm: return "SRTP_AEAD_AES_256_GCM"
        }
    }

    public var description: String { openSSLName }

    /// Our default offer/preference: GCM first (see ARCHITECTURE.md for the measured costs), then AES-CM for
    /// older peers.
    public static let defaultPreference: [SrtpProfile] = [.aeadAes128Gcm, .aes128CmHmacSha1_80]
}

/// SRTP master keys and salts exported from a DTLS association (RFC 5764 §4.2).
///
/// The exporter output is laid out as client key | server key | client salt | server salt; the DTLS client's
/// key and salt protect what the client sends, the server's protect what the server sends.
public struct SrtpKeys: Sendable, Equatable {
    public var profile: SrtpProfile
    public var clientKey: [UInt8]
    public var clientSalt: [UInt8]
    public var serverKey: [UInt8]
    public var serverSalt: [UInt8]

    public init(profile: SrtpProfile, clientKey: [UInt8], clientSalt: [UInt8], serverKey: [UInt8], serverSalt: [UInt8]) {
        self.profile = profile
        self.clientKey = clientKey
        self.clientSalt = clientSalt
        self.serverKey = serverKey
        self.serverSalt = serverSalt
    }

    /// Splits RFC 5764 exporter output (`2 × (keyLength + saltLength)` bytes) into keys and salts.
    public init(profile: SrtpProfile, exporterOutput material: [UInt8]) throws {
        let k = profile.keyLength, s = profile.saltLength
        guard material.count == 2 * (k + s) else { throw SrtpError.badKeyLength(expected: 2 * (k + s), actual: material.count) }
        self.profile = profile
        clientKey = Array(material[0 ..< k])
        serverKey = Array(material[k ..< 2 * k])
        clientSalt = Array(material[2 * k ..< 2 * k + s])
        serverSalt = Array(material[2 * k + s ..< 2 * k + 2 * s])
    }

    /// Key followed by salt, the layout libsrtp expects, for what `role` sends.
    public func sendingKeyAndSalt(for role: DtlsRole) -> [UInt8] {
        role == .client ? clientKey + clientSalt : serverKey + serverSalt
    }

    /// Key followed by salt for what the peer of `role` sends (what `role` receives).
    public func receivingKeyAndSalt(for role: DtlsRole) -> [UInt8] {
        role == .client ? serverKey + serverSalt : clientKey + clientSalt
    }
}

/// The DTLS role of this side of an association (RFC 8842 `a=setup`).
public enum DtlsRole: Sendable, Equatable {
    /// `a=setup:passive`: waits for the peer's ClientHello. The SFU's usual role when it offers.
    case server
    /// `a=setup:active`: sends the ClientHello (when the SFU answers a browser's `actpass` offer).
    case client
}
