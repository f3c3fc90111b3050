import COpenSSL
import CSFUShim

/// What one call into a `DtlsEndpoint` produced.
public struct DtlsOutput: Sendable, Equatable {
    /// DTLS datagrams to send to the peer, in order (each at most the endpoint's MTU during the handshake).
    public var datagrams: [[UInt8]]
    /// Decrypted application-data records from the peer (one element per record; SCTP packets for data channels).
    public var applicationData: [[UInt8]]

    public init(datagrams: [[UInt8]] = [], applicationData: [[UInt8]] = []) {
        self.datagrams = datagrams
        self.applicationData = applicationData
    }
}

/// Life cycle of a `DtlsEndpoint`.
public enum DtlsState: Sendable, Equatable {
    /// Created; a client has not called `start()`, a server has seen no ClientHello yet.
    case new
    /// Handshake in progress.
    case connecting
    /// Handshake done, but no expected fingerprint was set yet (the peer's SDP has not arrived): keys and
    /// application data are held back until `setExpectedRemoteFingerprint(_:)` verifies the peer.
    case awaitingFingerprint
    /// Handshake done and the peer's certificate matches the SDP fingerprint.
    case connected
    /// close_notify sent or received.
    case closed
    /// Fatal error (handshake failure, fingerprint mismatch, retransmission limit).
    case failed
}

/// One DTLS 1.2 association (DTLS-SRTP, RFC 5763/5764) driven entirely by the caller: no sockets, no timers.
///
/// Datagrams received from the peer go into `feed(_:)`; every call returns the datagrams to send. The caller
/// runs the retransmission timer: after `retransmissionTimeout` elapses, call `handleTimeout()`.
///
/// Authentication follows WebRTC: any self-signed peer certificate is accepted during the handshake, and the
/// SHA-256 digest of the certificate is then compared with the `a=fingerprint` from SDP. Only when that
/// comparison succeeds does the endpoint become `.connected` and hand out SRTP keys or application data.
///
/// Threading: an endpoint belongs to one event loop (the loop of the room's Router) and must only be used
/// from it; it holds OpenSSL state that is not thread-safe, so it is deliberately not `Sendable`.
/// Ownership: the endpoint owns its `SSL` (which owns its BIO and holds a reference to its `SSL_CTX`); all are
/// freed in `deinit`.
public final class DtlsEndpoint {
    /// Default maximum DTLS datagram size during the handshake (fits any path with a 1280-byte IPv6 MTU).
    public static let defaultMTU = 1200
    /// Largest application-data message `send(_:)` accepts (one DTLS record, 2^14 bytes).
    public static let maxApplicationDataLength = 16_384
    /// Exporter label for DTLS-SRTP keys (RFC 5764 §4.2).
    static let srtpExporterLabel = "EXTRACTOR-dtls_srtp"
    /// Maximum number of application-data records held back while awaiting the SDP fingerprint.
    static let maxHeldApplicationData = 64

    public let role: DtlsRole
    public let certificate: DtlsCertificate
    public private(set) var state: DtlsState = .new
    /// SHA-256 fingerprint of the peer's certificate in SDP form, once the handshake has completed.
    public private(set) var remoteFingerprintSHA256: String?
    /// The fingerprint the peer's certificate must have (normalised SDP form), if known.
    public private(set) var expectedRemoteFingerprint: String?
    /// The SRTP protection profile negotiated through use_srtp; nil before the handshake or if none was agreed.
    public private(set) var selectedProfile: SrtpProfile?
    /// OpenSSL's reasons for the failure, when `state == .failed`.
    public private(set) var failureReasons: [String] = []

    public var isConnected: Bool { state == .connected }

    private let ssl: OpaquePointer
    private let io: DtlsDatagramIO
    private var handshakeComplete = false
    private var heldApplicationData: [[UInt8]] = []
    private var readBuffer = [UInt8](repeating: 0, count: DtlsEndpoint.maxApplicationDataLength + 1024)

    /// - Parameters:
    ///   - certificate: our certificate (shared by all endpoints).
    ///   - role: `.server` (passive, the SFU's usual role) or `.client` (active).
    ///   - expectedRemoteFingerprint: the peer's `a=fingerprint:sha-256` value, if SDP already gave it.
    ///   - srtpProfiles: use_srtp profiles in order of preference.
    ///   - mtu: maximum datagram size for handshake flights.
    public init(
        certificate: DtlsCertificate,
        role: DtlsRole,
        expectedRemoteFingerprint: String? = nil,
        srtpProfiles: [SrtpProfile] = SrtpProfile.defaultPreference,
        mtu: Int = DtlsEndpoint.defaultMTU
    ) throws(DtlsError) {
        if let expected = expectedRemoteFingerprint {
            guard let normalized = normalizeSHA256Fingerprint(expected) else { throw .invalidFingerprint(expected) }
            self.expectedRemoteFingerprint = normalized
        }
        self.role = role
        self.certificate = certificate
        ERR_clear_error()

        guard let ctx = SSL_CTX_new(DTLS_method()) else { throw openSSLError("SSL_CTX_new") }
        // The SSL object takes its own reference to the context; ours is dropped on every path.
        defer { SSL_CTX_free(ctx) }
        try Self.configure(ctx, certificate: certificate, srtpProfiles: srtpProfiles)

        guard let ssl = SSL_new(ctx) else { throw openSSLError("SSL_new") }
        guard let method = datagramBIOMethod.method, let bio = BIO_new(method) else {
            SSL_free(ssl)
            throw openSSLError("BIO_new")
        }
        let io = DtlsDatagramIO()
        // The BIO owns one retain of `io`, released by its destroy callback when SSL_free frees the BIO.
        BIO_set_data(bio, Unmanaged.passRetained(io).toOpaque())
        BIO_set_init(bio, 1)
        SSL_set_bio(ssl, bio, bio) // one reference, used for both directions
        self.ssl = ssl
        self.io = io

        guard csfushim_DTLS_set_link_mtu(ssl, mtu) == 1 else { throw openSSLError("DTLS_set_link_mtu") }
        DTLS_set_timer_cb(ssl, dtlsRetransmissionTimer)
        switch role {
        case .server: SSL_set_accept_state(ssl)
        case .client: SSL_set_connect_state(ssl)
        }
    }

    deinit {
        SSL_free(ssl) // frees the BIO, which releases `io`, and drops the SSL_CTX reference
    }

    private static func configure(_ ctx: OpaquePointer, certificate: DtlsCertificate, srtpProfiles: [SrtpProfile]) throws(DtlsError) {
        guard csfushim_SSL_CTX_set_min_proto_version(ctx, DTLS1_2_VERSION) == 1 else {
            throw openSSLError("SSL_CTX_set_min_proto_version")
        }
        guard SSL_CTX_use_certificate(ctx, certificate.x509) == 1 else { throw openSSLError("SSL_CTX_use_certificate") }
        guard SSL_CTX_use_PrivateKey(ctx, certificate.privateKey) == 1 else { throw openSSLError("SSL_CTX_use_PrivateKey") }
        guard SSL_CTX_check_private_key(ctx) == 1 else { throw openSSLError("SSL_CTX_check_private_key") }
        // Ask for (server) and accept any peer certificate; the SDP fingerprint check authenticates it.
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, acceptAnyCertificate)
        SSL_CTX_set_verify_depth(ctx, 4)
        // ECDHE only (forward secrecy), AEAD first; RSA entries so that we can be the client of RSA-certificate peers.
        let ciphers = "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
            + "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
            + "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:"
            + "ECDHE-ECDSA-AES128-SHA:ECDHE-RSA-AES128-SHA:ECDHE-ECDSA-AES256-SHA:ECDHE-RSA-AES256-SHA"
        guard SSL_CTX_set_cipher_list(ctx, ciphers) == 1 else { throw openSSLError("SSL_CTX_set_cipher_list") }
        guard csfushim_SSL_CTX_set1_groups_list(ctx, "X25519:P-256:P-384") == 1 else {
            throw openSSLError("SSL_CTX_set1_groups_list")
        }
        if !srtpProfiles.isEmpty {
            let list = srtpProfiles.map(\.openSSLName).joined(separator: ":")
            // Note the inverted convention: 0 means success.
            guard SSL_CTX_set_tlsext_use_srtp(ctx, list) == 0 else { throw openSSLError("SSL_CTX_set_tlsext_use_srtp") }
        }
        // We set the MTU ourselves (there is no socket to query) and refuse renegotiation.
        SSL_CTX_set_options(ctx, csfushim_SSL_OP_NO_QUERY_MTU() | csfushim_SSL_OP_NO_RENEGOTIATION())
    }

    // MARK: - Driving the handshake

    /// Client role: starts the handshake and returns the ClientHello flight. Server role: nothing to do, returns [].
    public func start() -> [[UInt8]] {
        guard role == .client, state == .new else { return [] }
        state = .connecting
        do {
            try advanceHandshake()
        } catch {
            // Recorded in `state` / `failureReasons`; any alert stays available from takeOutgoingDatagrams().
            return []
        }
        return io.takeOutput()
    }

    /// Processes one datagram received from the peer (a DTLS datagram, first byte 20…63 per RFC 7983).
    ///
    /// - Throws: `.malformedDatagram` when the bytes are not a sequence of DTLS records (the datagram is dropped
    ///   and the association is unaffected); `.failed`, `.fingerprintMismatch` or `.noPeerCertificate`
    ///   when the association fails (`state` becomes `.failed`; get any alert with `takeOutgoingDatagrams()`);
    ///   `.closed` when the association is already closed or failed.
    public func feed(_ datagram: [UInt8]) throws(DtlsError) -> DtlsOutput {
        guard state != .closed, state != .failed else { throw .closed }
        guard Self.isWellFormedRecordSequence(datagram) else { throw .malformedDatagram }
        if handshakeComplete, let minimum = minimumProtectedRecordLength,
           !Self.protectedRecordsAreLongEnough(datagram, minimum: minimum) {
            // OpenSSL 3.0.19 does not recover from an encrypted record shorter than its cipher's overhead (every
            // later SSL_read fails): such records can only be forged, so they never reach it.
            throw .malformedDatagram
        }
        if state == .new { state = .connecting }
        io.input = datagram
        defer { io.input = nil }

        if !handshakeComplete {
            try advanceHandshake()
        }
        var received: [[UInt8]] = []
        if handshakeComplete {
            try readRecords(into: &received)
        }
        if state == .awaitingFingerprint {
            let room = max(0, Self.maxHeldApplicationData - heldApplicationData.count)
            heldApplicationData.append(contentsOf: received.prefix(room))
            received = []
        }
        return DtlsOutput(datagrams: io.takeOutput(), applicationData: received)
    }

    /// Time until `handleTimeout()` should be called, while a handshake flight awaits its answer; nil otherwise.
    public var retransmissionTimeout: Duration? {
        guard state == .connecting else { return nil }
        var seconds = 0, microseconds = 0
        guard csfushim_DTLSv1_get_timeout(ssl, &seconds, &microseconds) == 1 else { return nil }
        return .seconds(seconds) + .microseconds(microseconds)
    }

    /// Retransmits the last handshake flight if its timer has expired (DTLSv1_handle_timeout). The timer starts
    /// at 250 ms and doubles up to 4 s; after OpenSSL's retry limit the endpoint becomes `.failed`.
    public func handleTimeout() -> [[UInt8]] {
        guard state == .connecting else { return [] }
        ERR_clear_error()
        if csfushim_DTLSv1_handle_timeout(ssl) < 0 {
            fail(drainOpenSSLErrors())
        }
        return io.takeOutput()
    }

    /// Sets (or confirms) the peer's SDP fingerprint. If the handshake has already completed, the peer's
    /// certificate is checked now.
    /// - Returns: application data that arrived after the handshake but before the fingerprint was known.
    /// - Throws: `.invalidFingerprint`, or `.fingerprintMismatch` (the endpoint becomes `.failed`).
    @discardableResult
    public func setExpectedRemoteFingerprint(_ fingerprint: String) throws(DtlsError) -> [[UInt8]] {
        guard let normalized = normalizeSHA256Fingerprint(fingerprint) else { throw .invalidFingerprint(fingerprint) }
        guard state != .failed else { throw .closed }
        expectedRemoteFingerprint = normalized
        guard state == .awaitingFingerprint, let actual = remoteFingerprintSHA256 else { return [] }
        guard actual == normalized else {
            failForMismatch(expected: normalized, actual: actual)
            throw .fingerprintMismatch(expected: normalized, actual: actual)
        }
        state = .connected
        defer { heldApplicationData = [] }
        return heldApplicationData
    }

    /// Datagrams produced by a call that threw (a fatal alert or close_notify): send them, then drop the endpoint.
    public func takeOutgoingDatagrams() -> [[UInt8]] {
        io.takeOutput()
    }

    // MARK: - Application data

    /// Encrypts one application-data message (e.g. an SCTP packet) into one DTLS record.
    /// Keep messages below about 1150 bytes to stay within the path MTU; larger ones are sent as one big
    /// datagram (IP fragmentation), up to `maxApplicationDataLength`.
    public func send(_ data: [UInt8]) throws(DtlsError) -> [[UInt8]] {
        switch state {
        case .connected: break
        case .closed, .failed: throw .closed
        case .new, .connecting, .awaitingFingerprint: throw .notConnected
        }
        guard data.count <= Self.maxApplicationDataLength else { throw .applicationDataTooLarge(data.count) }
        guard !data.isEmpty else { return [] }
        ERR_clear_error()
        let written = SSL_write(ssl, data, Int32(data.count))
        guard written == Int32(data.count) else {
            let reasons = drainOpenSSLErrors()
            fail(reasons)
            throw .failed(reasons: reasons)
        }
        return io.takeOutput()
    }

    /// Sends close_notify and closes the association.
    public func close() -> [[UInt8]] {
        guard state != .closed, state != .failed else { return [] }
        if state != .new {
            ERR_clear_error()
            _ = SSL_shutdown(ssl)
            ERR_clear_error()
        }
        state = .closed
        heldApplicationData = []
        return io.takeOutput()
    }

    // MARK: - SRTP keys

    /// SRTP master keys and salts from the exporter (RFC 5764 §4.2), for the negotiated profile.
    /// - Throws: `.notConnected` before the handshake completed and the peer was verified;
    ///   `.noSrtpProfileNegotiated` when use_srtp was not agreed.
    public func srtpKeyingMaterial() throws(DtlsError) -> SrtpKeys {
        guard state == .connected else { throw state == .closed || state == .failed ? .closed : .notConnected }
        guard let profile = selectedProfile else { throw .noSrtpProfileNegotiated }
        let length = 2 * (profile.keyLength + profile.saltLength)
        var material = [UInt8](repeating: 0, count: length)
        let label = Self.srtpExporterLabel
        ERR_clear_error()
        guard SSL_export_keying_material(ssl, &material, length, label, label.utf8.count, nil, 0, 0) == 1 else {
            throw openSSLError("SSL_export_keying_material")
        }
        defer { for i in material.indices { material[i] = 0 } }
        do {
            return try SrtpKeys(profile: profile, exporterOutput: material)
        } catch {
            throw .openSSL(operation: "SSL_export_keying_material", reasons: ["unexpected length"])
        }
    }

    // MARK: - Internals

    private func advanceHandshake() throws(DtlsError) {
        ERR_clear_error()
        let result = SSL_do_handshake(ssl)
        if result == 1 {
            handshakeComplete = true
            try completeHandshake()
            return
        }
        let error = SSL_get_error(ssl, result)
        if error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE { return }
        let reasons = drainOpenSSLErrors()
        fail(reasons.isEmpty ? ["SSL_do_handshake: SSL_get_error \(error)"] : reasons)
        throw .failed(reasons: failureReasons)
    }

    private func completeHandshake() throws(DtlsError) {
        if let profile = SSL_get_selected_srtp_profile(ssl) {
            let id = profile.pointee.id
            guard let known = SrtpProfile(rawValue: id) else {
                fail(["unsupported SRTP profile \(id)"])
                throw .unsupportedSrtpProfile(id)
            }
            selectedProfile = known
        }
        guard let peer = SSL_get1_peer_certificate(ssl) else {
            fail(["no peer certificate"])
            throw .noPeerCertificate
        }
        defer { X509_free(peer) }
        let actual: String
        do {
            actual = try DtlsCertificate.sha256Fingerprint(of: peer)
        } catch {
            fail(["X509_digest failed"])
            throw error
        }
        remoteFingerprintSHA256 = actual
        guard let expected = expectedRemoteFingerprint else {
            state = .awaitingFingerprint
            return
        }
        guard expected == actual else {
            failForMismatch(expected: expected, actual: actual)
            throw .fingerprintMismatch(expected: expected, actual: actual)
        }
        state = .connected
    }

    /// Reads every record OpenSSL can decode from the current input (application data, alerts, retransmitted
    /// handshake messages that OpenSSL answers by itself).
    private func readRecords(into received: inout [[UInt8]]) throws(DtlsError) {
        // Each SSL_read returns one record; a datagram holds at most a few hundred, so the bound is generous.
        for _ in 0 ..< 1024 {
            ERR_clear_error()
            let capacity = Int32(readBuffer.count)
            let count = readBuffer.withUnsafeMutableBytes { SSL_read(ssl, $0.baseAddress, capacity) }
            if count > 0 {
                received.append(Array(readBuffer[0 ..< Int(count)]))
                continue
            }
            let error = SSL_get_error(ssl, count)
            switch error {
            case SSL_ERROR_WANT_READ, SSL_ERROR_WANT_WRITE:
                return
            case SSL_ERROR_ZERO_RETURN:
                // close_notify from the peer: answer with ours and close.
                _ = SSL_shutdown(ssl)
                ERR_clear_error()
                state = .closed
                heldApplicationData = []
                return
            default:
                let reasons = drainOpenSSLErrors()
                fail(reasons.isEmpty ? ["SSL_read: SSL_get_error \(error)"] : reasons)
                throw .failed(reasons: failureReasons)
            }
        }
    }

    private func fail(_ reasons: [String]) {
        state = .failed
        failureReasons = reasons
        heldApplicationData = []
    }

    private func failForMismatch(expected: String, actual: String) {
        fail(["fingerprint mismatch: expected \(expected), got \(actual)"])
        ERR_clear_error()
        _ = SSL_shutdown(ssl) // queue close_notify for takeOutgoingDatagrams()
        ERR_clear_error()
    }

    /// True when `datagram` is one or more complete DTLS records (RFC 6347 §4.1: content type 20…25, version
    /// 254.x, 13-byte header, length within the datagram).
    /// The shortest record a peer can send under the negotiated cipher once the handshake is done: explicit
    /// nonce + tag for AES-GCM, the tag for ChaCha20-Poly1305, IV + MAC + one padding block for CBC.
    private lazy var minimumProtectedRecordLength: Int? = {
        guard let cipher = SSL_get_current_cipher(ssl), let cName = SSL_CIPHER_get_name(cipher) else { return nil }
        let name = String(cString: cName)
        if name.contains("GCM") { return 24 }
        if name.contains("CHACHA20") { return 16 }
        return 48
    }()

    /// Whether every record of a later epoch (encrypted) is at least `minimum` bytes long.
    static func protectedRecordsAreLongEnough(_ datagram: [UInt8], minimum: Int) -> Bool {
        var offset = 0
        while offset + 13 <= datagram.count {
            let epoch = Int(datagram[offset + 3]) << 8 | Int(datagram[offset + 4])
            let length = Int(datagram[offset + 11]) << 8 | Int(datagram[offset + 12])
            if epoch != 0 && length < minimum { return false }
            offset += 13 + length
        }
        return true
    }

    static func isWellFormedRecordSequence(_ datagram: [UInt8]) -> Bool {
        guard !datagram.isEmpty else { return false }
        var offset = 0
        while offset < datagram.count {
            guard datagram.count - offset >= 13 else { return false }
            guard (20 ... 25).contains(datagram[offset]), datagram[offset + 1] == 0xFE else { return false }
            let length = Int(datagram[offset + 11]) << 8 | Int(datagram[offset + 12])
            offset += 13
            guard length <= datagram.count - offset else { return false }
            offset += length
        }
        return true
    }
}

// MARK: - Datagram BIO

/// Per-endpoint buffers behind the custom BIO: at most one received datagram waiting to be read, and the
/// datagrams OpenSSL wrote. A custom BIO rather than a memory BIO keeps datagram boundaries: a memory BIO
/// would concatenate a whole flight into one byte stream.
final class DtlsDatagramIO {
    var input: [UInt8]?
    var output: [[UInt8]] = []

    func takeOutput() -> [[UInt8]] {
        defer { output = [] }
        return output
    }
}

private struct BIOMethodBox: @unchecked Sendable {
    let method: OpaquePointer?
}

/// One BIO_METHOD for the process (immutable after creation; OpenSSL only reads it).
private let datagramBIOMethod: BIOMethodBox = {
    guard let method = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "rooms-dtls-datagram") else {
        return BIOMethodBox(method: nil)
    }
    _ = BIO_meth_set_write(method, datagramBIOWrite)
    _ = BIO_meth_set_read(method, datagramBIORead)
    _ = BIO_meth_set_ctrl(method, datagramBIOCtrl)
    _ = BIO_meth_set_create(method, datagramBIOCreate)
    _ = BIO_meth_set_destroy(method, datagramBIODestroy)
    return BIOMethodBox(method: method)
}()

private let bioRetryFlags = Int32(BIO_FLAGS_READ | BIO_FLAGS_WRITE | BIO_FLAGS_IO_SPECIAL | BIO_FLAGS_SHOULD_RETRY)

private func datagramIO(_ bio: OpaquePointer?) -> DtlsDatagramIO? {
    guard let bio, let raw = BIO_get_data(bio) else { return nil }
    return Unmanaged<DtlsDatagramIO>.fromOpaque(raw).takeUnretainedValue()
}

private let datagramBIOWrite: @convention(c) (OpaquePointer?, UnsafePointer<CChar>?, Int32) -> Int32 = { bio, data, length in
    guard let io = datagramIO(bio), let data, length > 0 else { return length == 0 ? 0 : -1 }
    BIO_clear_flags(bio, bioRetryFlags)
    io.output.append(Array(UnsafeRawBufferPointer(start: data, count: Int(length))))
    return length
}

private let datagramBIORead: @convention(c) (OpaquePointer?, UnsafeMutablePointer<CChar>?, Int32) -> Int32 = { bio, buffer, length in
    guard let io = datagramIO(bio), let buffer, length > 0 else { return -1 }
    BIO_clear_flags(bio, bioRetryFlags)
    guard let input = io.input, !input.isEmpty else {
        BIO_set_flags(bio, Int32(BIO_FLAGS_READ | BIO_FLAGS_SHOULD_RETRY))
        return -1
    }
    io.input = nil
    // Datagram semantics: one read returns one datagram; a longer datagram is truncated.
    let count = min(Int(length), input.count)
    input.withUnsafeBytes { source in
        guard let base = source.baseAddress else { return }
        UnsafeMutableRawPointer(buffer).copyMemory(from: base, byteCount: count)
    }
    return Int32(count)
}

private let datagramBIOCtrl: @convention(c) (OpaquePointer?, Int32, Int, UnsafeMutableRawPointer?) -> Int = { bio, command, _, _ in
    switch command {
    case BIO_CTRL_FLUSH:
        return 1
    case BIO_CTRL_PENDING:
        return datagramIO(bio)?.input?.count ?? 0
    case BIO_CTRL_WPENDING:
        return 0
    default:
        // Includes BIO_CTRL_DGRAM_QUERY_MTU and BIO_CTRL_DGRAM_GET_MTU_OVERHEAD: 0 (no socket; MTU is set).
        return 0
    }
}

private let datagramBIOCreate: @convention(c) (OpaquePointer?) -> Int32 = { _ in 1 }

private let datagramBIODestroy: @convention(c) (OpaquePointer?) -> Int32 = { bio in
    guard let bio else { return 0 }
    if let raw = BIO_get_data(bio) {
        Unmanaged<DtlsDatagramIO>.fromOpaque(raw).release()
        BIO_set_data(bio, nil)
    }
    BIO_set_init(bio, 0)
    return 1
}

/// Verify callback: accept whatever chain the peer sent (self-signed is the norm); the SDP fingerprint is the
/// authentication, checked after the handshake.
private let acceptAnyCertificate: @convention(c) (Int32, OpaquePointer?) -> Int32 = { _, _ in 1 }

/// DTLS retransmission timer: 250 ms first, then doubling, at most 4 s (OpenSSL's default starts at 1 s).
private let dtlsRetransmissionTimer: @convention(c) (OpaquePointer?, UInt32) -> UInt32 = { _, previous in
    previous == 0 ? 250_000 : min(previous * 2, 4_000_000)
}
