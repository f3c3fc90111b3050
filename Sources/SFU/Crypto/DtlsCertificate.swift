import COpenSSL

/// A self-signed ECDSA P-256 certificate and its private key, generated at start and used for every DTLS
/// association (its SHA-256 fingerprint goes into SDP as `a=fingerprint:sha-256 …`).
///
/// Immutable after `init`; the OpenSSL objects are only read (and reference-counted by each SSL_CTX that uses
/// them), so one instance may be shared by all event loops: hence `@unchecked Sendable`.
public final class DtlsCertificate: @unchecked Sendable {
    /// Owned: one reference, freed in deinit.
    let x509: OpaquePointer
    /// Owned: one reference, freed in deinit.
    let privateKey: OpaquePointer

    /// SHA-256 digest of the DER certificate in SDP form: upper-case hex pairs joined by colons.
    public let fingerprintSHA256: String

    /// Generates a new key pair and certificate.
    /// - Parameters:
    ///   - commonName: subject and issuer CN (browsers ignore it; WebRTC uses a random string).
    ///   - validityDays: the certificate is valid from one day ago until this many days from now.
    public init(commonName: String = "rooms-sfu", validityDays: Int = 30) throws(DtlsError) {
        ERR_clear_error()
        // Key: EVP_PKEY_CTX by name, group P-256 (EVP_EC_gen is a variadic-backed macro Swift cannot call).
        guard let keyContext = EVP_PKEY_CTX_new_from_name(nil, "EC", nil) else { throw openSSLError("EVP_PKEY_CTX_new_from_name") }
        defer { EVP_PKEY_CTX_free(keyContext) }
        guard EVP_PKEY_keygen_init(keyContext) == 1 else { throw openSSLError("EVP_PKEY_keygen_init") }
        guard EVP_PKEY_CTX_set_group_name(keyContext, "P-256") == 1 else { throw openSSLError("EVP_PKEY_CTX_set_group_name") }
        var generated: OpaquePointer?
        guard EVP_PKEY_generate(keyContext, &generated) == 1, let key = generated else { throw openSSLError("EVP_PKEY_generate") }

        guard let cert = X509_new() else {
            EVP_PKEY_free(key)
            throw openSSLError("X509_new")
        }
        do {
            try Self.fill(cert, key: key, commonName: commonName, validityDays: validityDays)
            fingerprintSHA256 = try Self.sha256Fingerprint(of: cert)
        } catch {
            X509_free(cert)
            EVP_PKEY_free(key)
            throw error
        }
        x509 = cert
        privateKey = key
    }

    deinit {
        X509_free(x509)
        EVP_PKEY_free(privateKey)
    }

    private static func fill(_ cert: OpaquePointer, key: OpaquePointer, commonName: String, validityDays: Int) throws(DtlsError) {
        guard X509_set_version(cert, 2) == 1 else { throw openSSLError("X509_set_version") } // v3
        // Random positive 63-bit serial number.
        let serial = UInt64.random(in: 1 ... 0x7FFF_FFFF_FFFF_FFFF) // SystemRandomNumberGenerator (getrandom)
        guard let serialNumber = X509_get_serialNumber(cert), ASN1_INTEGER_set_uint64(serialNumber, serial) == 1 else {
            throw openSSLError("ASN1_INTEGER_set_uint64")
        }
        guard X509_gmtime_adj(X509_getm_notBefore(cert), -86_400) != nil,
              X509_gmtime_adj(X509_getm_notAfter(cert), 86_400 * max(1, validityDays)) != nil
        else { throw openSSLError("X509_gmtime_adj") }
        guard X509_set_pubkey(cert, key) == 1 else { throw openSSLError("X509_set_pubkey") }
        guard let name = X509_get_subject_name(cert) else { throw openSSLError("X509_get_subject_name") }
        let cn = Array(commonName.utf8.prefix(64))
        guard X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, cn, Int32(cn.count), -1, 0) == 1 else {
            throw openSSLError("X509_NAME_add_entry_by_txt")
        }
        guard X509_set_issuer_name(cert, name) == 1 else { throw openSSLError("X509_set_issuer_name") }
        guard X509_sign(cert, key, EVP_sha256()) > 0 else { throw openSSLError("X509_sign") }
    }

    /// SHA-256 digest of `cert`'s DER encoding in SDP form.
    static func sha256Fingerprint(of cert: OpaquePointer) throws(DtlsError) -> String {
        var digest = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        guard X509_digest(cert, EVP_sha256(), &digest, &length) == 1, length == 32 else { throw openSSLError("X509_digest") }
        return formatFingerprint(digest.prefix(Int(length)))
    }

    /// DER encoding of the certificate (for logging or for peers that want the raw certificate).
    public var derEncoded: [UInt8] {
        var out: UnsafeMutablePointer<UInt8>?
        let length = i2d_X509(x509, &out)
        guard length > 0, let bytes = out else { return [] }
        defer { CRYPTO_free(bytes, #fileID, #line) }
        return Array(UnsafeBufferPointer(start: bytes, count: Int(length)))
    }
}

private let hexDigits: [Character] = Array("0123456789ABCDEF")

func formatFingerprint<C: Collection>(_ digest: C) -> String where C.Element == UInt8 {
    var text = ""
    text.reserveCapacity(digest.count * 3)
    for (index, byte) in digest.enumerated() {
        if index > 0 { text.append(":") }
        text.append(hexDigits[Int(byte >> 4)])
        text.append(hexDigits[Int(byte & 0x0F)])
    }
    return text
}

/// Normalises an SDP sha-256 fingerprint ("ab:CD:…", optionally prefixed "sha-256 ") to upper-case colon form,
/// or nil when it is not 32 hex pairs.
func normalizeSHA256Fingerprint(_ text: String) -> String? {
    var value = Substring(text).trimmingWhitespace()
    if value.lowercased().hasPrefix("sha-256") { value = value.dropFirst(7).trimmingWhitespace() }
    let parts = value.split(separator: ":", omittingEmptySubsequences: false)
    guard parts.count == 32 else { return nil }
    var bytes: [UInt8] = []
    bytes.reserveCapacity(32)
    for part in parts {
        guard part.count == 2, let byte = UInt8(part, radix: 16) else { return nil }
        bytes.append(byte)
    }
    return formatFingerprint(bytes)
}

extension Substring {
    fileprivate func trimmingWhitespace() -> Substring {
        var s = self
        while let first = s.first, first == " " || first == "\t" { s = s.dropFirst() }
        while let last = s.last, last == " " || last == "\t" || last == "\r" || last == "\n" { s = s.dropLast() }
        return s
    }
}
