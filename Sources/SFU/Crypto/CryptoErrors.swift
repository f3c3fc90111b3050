import COpenSSL

/// Errors raised by `DtlsCertificate` and `DtlsEndpoint`.
public enum DtlsError: Error, Equatable, Sendable {
    /// An OpenSSL call failed; `reasons` holds the drained OpenSSL error queue (may be empty).
    case openSSL(operation: String, reasons: [String])
    /// The datagram is not a well-formed sequence of DTLS records (RFC 6347 §4.1). The association is not
    /// affected: such datagrams are dropped, as RFC 6347 §4.1.2.7 asks; the error only tells the caller.
    case malformedDatagram
    /// The handshake, or a later record, failed fatally (bad handshake message, alert from the peer, retry
    /// limit); the endpoint is now `.failed`. Any alert to send is available from
    /// `DtlsEndpoint.takeOutgoingDatagrams()`.
    case failed(reasons: [String])
    /// The peer's certificate digest differs from the `a=fingerprint` given in SDP. The endpoint is now `.failed`.
    case fingerprintMismatch(expected: String, actual: String)
    /// The fingerprint string is not in SDP form (32 colon-separated hex pairs for sha-256).
    case invalidFingerprint(String)
    /// The peer presented no certificate.
    case noPeerCertificate
    /// The operation needs an established, verified association.
    case notConnected
    /// The association is closed (close_notify sent or received) or failed.
    case closed
    /// The peer did not negotiate any of our SRTP profiles (use_srtp).
    case noSrtpProfileNegotiated
    /// The negotiated SRTP protection profile id is not one `SrtpProfile` supports.
    case unsupportedSrtpProfile(UInt)
    /// `send` was given more than `DtlsEndpoint.maxApplicationDataLength` bytes.
    case applicationDataTooLarge(Int)
}

/// Drains OpenSSL's (thread-local) error queue into readable strings.
func drainOpenSSLErrors() -> [String] {
    var reasons: [String] = []
    while true {
        let code = ERR_get_error()
        if code == 0 { break }
        var buffer = [CChar](repeating: 0, count: 256)
        ERR_error_string_n(code, &buffer, buffer.count)
        let text = buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
        reasons.append(String(decoding: text, as: UTF8.self))
        if reasons.count >= 16 { ERR_clear_error(); break }
    }
    return reasons
}

func openSSLError(_ operation: String) -> DtlsError {
    .openSSL(operation: operation, reasons: drainOpenSSLErrors())
}
