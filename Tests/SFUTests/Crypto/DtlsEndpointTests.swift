import XCTest
@testable import SFU

final class DtlsEndpointTests: XCTestCase {
    func testCertificateFingerprintIsSDPForm() throws {
        let fingerprint = CryptoFixtures.serverCertificate.fingerprintSHA256
        let pairs = fingerprint.split(separator: ":")
        XCTAssertEqual(pairs.count, 32)
        XCTAssertTrue(pairs.allSatisfy { $0.count == 2 && $0.allSatisfy { "0123456789ABCDEF".contains($0) } })
        XCTAssertNotEqual(fingerprint, CryptoFixtures.clientCertificate.fingerprintSHA256)
        XCTAssertEqual(normalizeSHA256Fingerprint("sha-256 " + fingerprint.lowercased()), fingerprint)
        XCTAssertNil(normalizeSHA256Fingerprint("AB:CD"))
        XCTAssertFalse(CryptoFixtures.serverCertificate.derEncoded.isEmpty)
    }

    func testHandshakeInMemoryDerivesMatchingSrtpKeys() throws {
        let (server, client) = try CryptoFixtures.endpoints()
        XCTAssertEqual(server.state, .new)
        XCTAssertEqual(server.start(), [], "a server does not initiate")
        let hello = client.start()
        XCTAssertFalse(hello.isEmpty)
        XCTAssertEqual(client.state, .connecting)
        XCTAssertNotNil(client.retransmissionTimeout)

        let traffic = try shuttleDtls(server: server, client: client, initial: hello)
        XCTAssertTrue(server.isConnected)
        XCTAssertTrue(client.isConnected)
        XCTAssertNil(client.retransmissionTimeout)
        for datagram in traffic.fromClient + traffic.fromServer {
            XCTAssertLessThanOrEqual(datagram.count, DtlsEndpoint.defaultMTU)
        }
        XCTAssertEqual(server.remoteFingerprintSHA256, CryptoFixtures.clientCertificate.fingerprintSHA256)
        XCTAssertEqual(client.remoteFingerprintSHA256, CryptoFixtures.serverCertificate.fingerprintSHA256)
        XCTAssertEqual(server.selectedProfile, .aeadAes128Gcm, "GCM is preferred")
        XCTAssertEqual(client.selectedProfile, .aeadAes128Gcm)

        let serverKeys = try server.srtpKeyingMaterial()
        let clientKeys = try client.srtpKeyingMaterial()
        XCTAssertEqual(serverKeys, clientKeys)
        XCTAssertEqual(serverKeys.clientKey.count, 16)
        XCTAssertEqual(serverKeys.clientSalt.count, 12)
        XCTAssertEqual(serverKeys.serverKey.count, 16)
        XCTAssertEqual(serverKeys.serverSalt.count, 12)
        XCTAssertNotEqual(serverKeys.clientKey, serverKeys.serverKey)

        // The keys work: what the client protects, the server unprotects, and back.
        let serverSrtp = try SrtpSession(profile: serverKeys.profile, keys: serverKeys, role: .server)
        let clientSrtp = try SrtpSession(profile: clientKeys.profile, keys: clientKeys, role: .client)
        let rtp = CryptoFixtures.rtpPacket(sequence: 1)
        var packet = rtp
        try clientSrtp.protectRtp(&packet)
        try serverSrtp.unprotectRtp(&packet)
        XCTAssertEqual(packet, rtp)
        packet = rtp
        try serverSrtp.protectRtp(&packet)
        try clientSrtp.unprotectRtp(&packet)
        XCTAssertEqual(packet, rtp)
    }

    func testAesCmProfileWhenPeerOffersOnlyIt() throws {
        let (server, client) = try CryptoFixtures.endpoints(clientProfiles: [.aes128CmHmacSha1_80])
        try shuttleDtls(server: server, client: client, initial: client.start())
        XCTAssertEqual(server.selectedProfile, .aes128CmHmacSha1_80)
        let keys = try server.srtpKeyingMaterial()
        XCTAssertEqual(keys, try client.srtpKeyingMaterial())
        XCTAssertEqual(keys.clientKey.count, 16)
        XCTAssertEqual(keys.clientSalt.count, 14)
    }

    func testNoCommonSrtpProfileStillConnectsButHasNoKeys() throws {
        let (server, client) = try CryptoFixtures.endpoints(clientProfiles: [])
        try shuttleDtls(server: server, client: client, initial: client.start())
        XCTAssertTrue(server.isConnected)
        XCTAssertNil(server.selectedProfile)
        XCTAssertThrowsError(try server.srtpKeyingMaterial()) { XCTAssertEqual($0 as? DtlsError, .noSrtpProfileNegotiated) }
    }

    func testFingerprintMismatchIsDetected() throws {
        let other = try DtlsCertificate()
        let server = try DtlsEndpoint(certificate: CryptoFixtures.serverCertificate, role: .server,
                                      expectedRemoteFingerprint: other.fingerprintSHA256)
        let client = try DtlsEndpoint(certificate: CryptoFixtures.clientCertificate, role: .client,
                                      expectedRemoteFingerprint: CryptoFixtures.serverCertificate.fingerprintSHA256)
        XCTAssertThrowsError(try shuttleDtls(server: server, client: client, initial: client.start())) { error in
            guard case .fingerprintMismatch(let expected, let actual)? = error as? DtlsError else {
                return XCTFail("unexpected \(error)")
            }
            XCTAssertEqual(expected, other.fingerprintSHA256)
            XCTAssertEqual(actual, CryptoFixtures.clientCertificate.fingerprintSHA256)
        }
        XCTAssertEqual(server.state, .failed)
        XCTAssertFalse(server.isConnected)
        XCTAssertThrowsError(try server.srtpKeyingMaterial())
        XCTAssertThrowsError(try server.send([1, 2, 3]))
        XCTAssertFalse(server.takeOutgoingDatagrams().isEmpty, "close_notify is queued for the peer")
    }

    func testFingerprintMismatchDetectedByClient() throws {
        let other = try DtlsCertificate()
        let server = try DtlsEndpoint(certificate: CryptoFixtures.serverCertificate, role: .server)
        let client = try DtlsEndpoint(certificate: CryptoFixtures.clientCertificate, role: .client,
                                      expectedRemoteFingerprint: other.fingerprintSHA256)
        XCTAssertThrowsError(try shuttleDtls(server: server, client: client, initial: client.start())) {
            guard case .fingerprintMismatch? = $0 as? DtlsError else { return XCTFail("unexpected \($0)") }
        }
        XCTAssertEqual(client.state, .failed)
    }

    func testFingerprintArrivingAfterHandshake() throws {
        let (server, client) = try CryptoFixtures.endpoints(verify: false)
        try shuttleDtls(server: server, client: client, initial: client.start())
        XCTAssertEqual(server.state, .awaitingFingerprint)
        XCTAssertEqual(client.state, .awaitingFingerprint)
        XCTAssertThrowsError(try server.srtpKeyingMaterial()) { XCTAssertEqual($0 as? DtlsError, .notConnected) }

        // Client is verified first and sends data; the unverified server holds it back.
        XCTAssertEqual(try client.setExpectedRemoteFingerprint(CryptoFixtures.serverCertificate.fingerprintSHA256), [])
        XCTAssertTrue(client.isConnected)
        let sent = try client.send(Array("early".utf8))
        for datagram in sent {
            XCTAssertEqual(try server.feed(datagram).applicationData, [])
        }
        XCTAssertThrowsError(try server.setExpectedRemoteFingerprint("nonsense")) {
            XCTAssertEqual($0 as? DtlsError, .invalidFingerprint("nonsense"))
        }
        let held = try server.setExpectedRemoteFingerprint(CryptoFixtures.clientCertificate.fingerprintSHA256.lowercased())
        XCTAssertEqual(held, [Array("early".utf8)])
        XCTAssertTrue(server.isConnected)
        XCTAssertEqual(try server.srtpKeyingMaterial(), try client.srtpKeyingMaterial())
    }

    func testLateFingerprintMismatch() throws {
        let (server, client) = try CryptoFixtures.endpoints(verify: false)
        try shuttleDtls(server: server, client: client, initial: client.start())
        XCTAssertThrowsError(try server.setExpectedRemoteFingerprint(CryptoFixtures.serverCertificate.fingerprintSHA256)) {
            guard case .fingerprintMismatch? = $0 as? DtlsError else { return XCTFail("unexpected \($0)") }
        }
        XCTAssertEqual(server.state, .failed)
    }

    func testApplicationDataRoundTrip() throws {
        let (server, client) = try CryptoFixtures.endpoints()
        try shuttleDtls(server: server, client: client, initial: client.start())
        XCTAssertThrowsError(try server.send(Array(repeating: 0, count: DtlsEndpoint.maxApplicationDataLength + 1)))

        let messages: [[UInt8]] = [Array("hello sctp".utf8), Array(repeating: 0xAB, count: 1100), [0]]
        var toServer: [[UInt8]] = []
        for message in messages { toServer += try client.send(message) }
        XCTAssertEqual(toServer.count, messages.count, "one record per message")
        var received: [[UInt8]] = []
        for datagram in toServer {
            let output = try server.feed(datagram)
            XCTAssertEqual(output.datagrams, [])
            received += output.applicationData
        }
        XCTAssertEqual(received, messages)

        // And back, several records in one datagram.
        let reply = try server.send(Array("pong".utf8)) + server.send(Array("pong2".utf8))
        let output = try client.feed(reply.flatMap { $0 })
        XCTAssertEqual(output.applicationData, [Array("pong".utf8), Array("pong2".utf8)])
    }

    func testSendBeforeConnectedFails() throws {
        let (_, client) = try CryptoFixtures.endpoints()
        XCTAssertThrowsError(try client.send([1])) { XCTAssertEqual($0 as? DtlsError, .notConnected) }
    }

    func testCloseNotify() throws {
        let (server, client) = try CryptoFixtures.endpoints()
        try shuttleDtls(server: server, client: client, initial: client.start())
        let goodbye = client.close()
        XCTAssertFalse(goodbye.isEmpty)
        XCTAssertEqual(client.state, .closed)
        for datagram in goodbye { _ = try server.feed(datagram) }
        XCTAssertEqual(server.state, .closed)
        XCTAssertThrowsError(try server.feed(goodbye[0])) { XCTAssertEqual($0 as? DtlsError, .closed) }
        XCTAssertThrowsError(try server.send([1])) { XCTAssertEqual($0 as? DtlsError, .closed) }
    }

    func testLostClientHelloIsRetransmittedOnTimeout() throws {
        let (server, client) = try CryptoFixtures.endpoints()
        let lost = client.start()
        XCTAssertFalse(lost.isEmpty)
        XCTAssertEqual(client.handleTimeout(), [], "timer has not expired yet")
        let timeout = try XCTUnwrap(client.retransmissionTimeout)
        XCTAssertLessThanOrEqual(timeout, .milliseconds(250))
        Thread.sleep(forTimeInterval: 0.3)
        let again = client.handleTimeout()
        XCTAssertFalse(again.isEmpty)
        try shuttleDtls(server: server, client: client, initial: again)
        XCTAssertTrue(server.isConnected && client.isConnected)
    }

    func testLostFinalServerFlightIsRecoveredByClientRetransmission() throws {
        let (server, client) = try CryptoFixtures.endpoints()
        var toServer = client.start()
        var lastServerFlight: [[UInt8]] = []
        // Run the handshake, but drop whatever the server sends once it considers itself connected.
        while !server.isConnected {
            var toClient: [[UInt8]] = []
            for datagram in toServer { toClient += try server.feed(datagram).datagrams }
            toServer = []
            if server.isConnected { lastServerFlight = toClient; break }
            for datagram in toClient { toServer += try client.feed(datagram).datagrams }
        }
        XCTAssertFalse(lastServerFlight.isEmpty)
        XCTAssertEqual(client.state, .connecting)
        Thread.sleep(forTimeInterval: 0.3)
        let retransmitted = client.handleTimeout()
        XCTAssertFalse(retransmitted.isEmpty)
        try shuttleDtls(server: server, client: client, initial: retransmitted)
        XCTAssertTrue(client.isConnected)
        XCTAssertEqual(try server.srtpKeyingMaterial(), try client.srtpKeyingMaterial())
    }

    func testDuplicatedAndReorderedFlightsStillConnect() throws {
        let (server, client) = try CryptoFixtures.endpoints()
        var toServer = client.start()
        var rounds = 0
        while !(server.isConnected && client.isConnected) && rounds < 20 {
            rounds += 1
            var toClient: [[UInt8]] = []
            for datagram in (toServer + toServer).reversed() { toClient += try server.feed(datagram).datagrams }
            toServer = []
            for datagram in toClient + toClient { toServer += try client.feed(datagram).datagrams }
        }
        XCTAssertTrue(server.isConnected && client.isConnected)
        XCTAssertEqual(try server.srtpKeyingMaterial(), try client.srtpKeyingMaterial())
    }

    func testGarbageDatagramsThrowWithoutBreakingTheAssociation() throws {
        let (server, client) = try CryptoFixtures.endpoints()
        let garbage: [[UInt8]] = [[], [0x16], [0x00, 0x01, 0x02], Array(repeating: 0xFF, count: 100),
                                  [0x16, 0xFE, 0xFD, 0, 0, 0, 0, 0, 0, 0, 0, 0x10, 0x00, 1, 2, 3]]
        for datagram in garbage {
            XCTAssertThrowsError(try server.feed(datagram)) { XCTAssertEqual($0 as? DtlsError, .malformedDatagram) }
        }
        XCTAssertEqual(server.state, .new)
        try shuttleDtls(server: server, client: client, initial: client.start())
        XCTAssertTrue(server.isConnected)
        for datagram in garbage {
            XCTAssertThrowsError(try server.feed(datagram)) { XCTAssertEqual($0 as? DtlsError, .malformedDatagram) }
        }
        XCTAssertTrue(server.isConnected)
    }

    /// 2000 random buffers (fixed seed): half pure noise, half well-formed record headers with random bodies.
    /// Nothing may crash; a connected endpoint must keep working (bad records are dropped, RFC 6347 §4.1.2.7).
    func testRandomDatagramsNeverCrash() throws {
        var rng = CryptoTestRNG(seed: 0x5EED_F00D)
        var fresh = try DtlsEndpoint(certificate: CryptoFixtures.serverCertificate, role: .server)
        var freshClient = try DtlsEndpoint(certificate: CryptoFixtures.clientCertificate, role: .client)
        _ = freshClient.start()
        let (server, client) = try CryptoFixtures.endpoints()
        try shuttleDtls(server: server, client: client, initial: client.start())

        var malformed = 0, failures = 0
        for index in 0 ..< 2000 {
            var buffer: [UInt8]
            if index % 2 == 0 {
                buffer = (0 ..< Int.random(in: 0 ... 1500, using: &rng)).map { _ in UInt8.random(in: 0 ... 255, using: &rng) }
            } else {
                buffer = []
                for _ in 0 ..< Int.random(in: 1 ... 3, using: &rng) {
                    let body = (0 ..< Int.random(in: 0 ... 300, using: &rng)).map { _ in UInt8.random(in: 0 ... 255, using: &rng) }
                    buffer += [UInt8.random(in: 20 ... 25, using: &rng), 0xFE, [0xFD, 0xFF].randomElement(using: &rng) ?? 0xFD,
                               0, UInt8.random(in: 0 ... 1, using: &rng)]
                    buffer += (0 ..< 6).map { _ in UInt8.random(in: 0 ... 255, using: &rng) }
                    buffer += [UInt8(body.count >> 8), UInt8(body.count & 0xFF)] + body
                }
            }
            for target in [fresh, freshClient, server] {
                do {
                    _ = try target.feed(buffer)
                } catch DtlsError.malformedDatagram {
                    malformed += 1
                } catch {
                    failures += 1
                }
            }
            if fresh.state == .failed || fresh.state == .closed {
                fresh = try DtlsEndpoint(certificate: CryptoFixtures.serverCertificate, role: .server)
            }
            if freshClient.state == .failed || freshClient.state == .closed {
                freshClient = try DtlsEndpoint(certificate: CryptoFixtures.clientCertificate, role: .client)
                _ = freshClient.start()
            }
        }
        XCTAssertGreaterThan(malformed, 900)
        XCTAssertTrue(server.isConnected, "random records must not break an established association")
        let output = try client.send([42])
        XCTAssertEqual(try output.flatMap { try server.feed($0).applicationData }, [[42]])
        XCTAssertGreaterThan(failures, 0, "well-formed records with random bodies reach OpenSSL")
    }

    /// OpenSSL 3.0.19 stops reading for good after an encrypted record shorter than the cipher's overhead; such
    /// records must be dropped before they reach it, and the association must keep working.
    func testTooShortEncryptedRecordIsDroppedAndTheAssociationLives() throws {
        let (server, client) = try CryptoFixtures.endpoints()
        try shuttleDtls(server: server, client: client, initial: client.start())
        let short: [UInt8] = [23, 0xFE, 0xFD, 0, 1, 6, 161, 68, 194, 179, 40, 0, 20] + [UInt8](repeating: 0x5A, count: 20)
        XCTAssertThrowsError(try server.feed(short)) { XCTAssertEqual($0 as? DtlsError, .malformedDatagram) }
        let output = try client.send([42])
        XCTAssertEqual(try output.flatMap { try server.feed($0).applicationData }, [[42]])
    }

    func testInvalidExpectedFingerprintRejected() {
        XCTAssertThrowsError(try DtlsEndpoint(certificate: CryptoFixtures.serverCertificate, role: .server,
                                              expectedRemoteFingerprint: "12:34")) {
            XCTAssertEqual($0 as? DtlsError, .invalidFingerprint("12:34"))
        }
    }
}
