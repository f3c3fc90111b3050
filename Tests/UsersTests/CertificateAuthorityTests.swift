import Foundation
import SwiftASN1
import X509
import XCTest
@testable import Users

final class CertificateAuthorityTests: XCTestCase {
    var tool: OpenSSLTool!

    override func setUpWithError() throws {
        tool = try OpenSSLTool.make()
    }

    override func tearDown() {
        tool?.remove()
    }

    // MARK: fixtures made with the openssl CLI

    /// An RSA CA (PKCS#8 key, as `openssl req -newkey` writes it).
    func makeRSACA() throws -> (cert: String, key: String) {
        try tool.run(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem",
                      "-days", "30", "-subj", "/O=Rooms Test/CN=Rooms Test CA"])
        return (try tool.read("ca.pem"), try tool.read("ca.key"))
    }

    /// A P-256 CA with a SEC1 key (`openssl ecparam -genkey` writes an EC PARAMETERS block first).
    func makeECCA() throws -> (cert: String, key: String) {
        try tool.run(["ecparam", "-name", "prime256v1", "-genkey", "-out", "ecca.key"])
        try tool.run(["req", "-x509", "-new", "-key", "ecca.key", "-out", "ca.pem", "-days", "30",
                      "-subj", "/CN=Rooms EC CA"])
        return (try tool.read("ca.pem"), try tool.read("ecca.key"))
    }

    /// An SPKAC for a fresh user key; returns the SPKAC text (with "SPKAC=" prefix) and the key file name.
    func makeSPKAC(keyType: String = "rsa", digest: String = "sha256", name: String = "user") throws -> String {
        switch keyType {
        case "rsa": try tool.run(["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", "\(name).key"])
        case "ec256": try tool.run(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", "\(name).key"])
        case "ec384": try tool.run(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384", "-out", "\(name).key"])
        default: fatalError()
        }
        let (_, out) = try tool.run(["spkac", "-key", "\(name).key", "-challenge", "rooms-challenge", "-digest", digest])
        return out
    }

    /// Writes the DER certificate, checks it with `openssl verify` and returns `openssl x509 -text`.
    func verifyWithOpenSSL(_ der: [UInt8], userKey: String = "user") throws -> String {
        try tool.write("user.der", der)
        try tool.run(["x509", "-inform", "DER", "-in", "user.der", "-out", "user.pem"])
        let (status, verify) = try tool.run(["verify", "-CAfile", "ca.pem", "-purpose", "sslclient", "user.pem"], check: false)
        XCTAssertEqual(status, 0, verify)
        XCTAssertTrue(verify.contains("user.pem: OK"), verify)
        // The certificate carries the SPKAC's public key.
        let (_, certKey) = try tool.run(["x509", "-in", "user.pem", "-noout", "-pubkey"])
        let (_, ownKey) = try tool.run(["pkey", "-in", "\(userKey).key", "-pubout"])
        XCTAssertEqual(certKey.trimmingCharacters(in: .whitespacesAndNewlines), ownKey.trimmingCharacters(in: .whitespacesAndNewlines))
        return try tool.run(["x509", "-in", "user.pem", "-noout", "-text", "-nameopt", "RFC2253"]).1
    }

    // MARK: issuing

    func testIssueRSA() throws {
        let (caPEM, keyPEM) = try makeRSACA()
        let ca = try CertificateAuthority(certificatePEM: caPEM, keyPEM: keyPEM)
        XCTAssertTrue(ca.canIssue)
        let spkac = try makeSPKAC()
        XCTAssertTrue(spkac.hasPrefix("SPKAC="))
        let now = Date()
        let userid = "4a1f7c2e-9d7b-4c1e-8a5f-0b3d2e1f9a8c@rooms.example"
        let der = try ca.issue(spkacBase64: spkac, userid: userid, organization: "My Spreed Server", validForDays: 0, now: now)
        let text = try verifyWithOpenSSL(der)
        XCTAssertTrue(text.contains("Subject: CN=\(userid),O=My Spreed Server"), text)
        XCTAssertTrue(text.contains("Issuer: CN=Rooms Test CA,O=Rooms Test"), text)
        XCTAssertTrue(text.contains("TLS Web Client Authentication"), text)
        XCTAssertTrue(text.contains("Digital Signature, Key Encipherment"), text)
        XCTAssertTrue(text.contains("sha256WithRSAEncryption"), text)
        XCTAssertTrue(text.contains("Authority Key Identifier"), text)

        let cert = try Certificate(derEncoded: der)
        XCTAssertEqual(cert.notValidBefore.timeIntervalSince1970, now.timeIntervalSince1970.rounded(.down))
        XCTAssertEqual(cert.notValidAfter.timeIntervalSince(cert.notValidBefore), 365 * 86400)
        XCTAssertLessThanOrEqual(cert.serialNumber.bytes.count, 17)
        XCTAssertTrue(cert.serialNumber.bytes.count < 17 || cert.serialNumber.bytes.first == 0)
        XCTAssertEqual(cert.issuer, ca.issuerCertificate.subject)
        XCTAssertEqual(try CertificateAuthority.commonName(fromDER: der), userid)

        // Serials differ between certificates.
        let der2 = try ca.issue(spkacBase64: spkac, userid: userid, organization: "O", validForDays: 10, now: now)
        let cert2 = try Certificate(derEncoded: der2)
        XCTAssertNotEqual(cert.serialNumber, cert2.serialNumber)
        XCTAssertEqual(cert2.notValidAfter.timeIntervalSince(cert2.notValidBefore), 10 * 86400)
    }

    func testIssueSHA1SPKACAndWhitespace() throws {
        let (caPEM, keyPEM) = try makeRSACA()
        let ca = try CertificateAuthority(certificatePEM: caPEM, keyPEM: keyPEM)
        let spkac = try makeSPKAC(digest: "sha1")
        // Without prefix, wrapped in lines like a form field.
        var body = spkac.trimmingCharacters(in: .whitespacesAndNewlines)
        body.removeFirst("SPKAC=".count)
        let wrapped = stride(from: 0, to: body.count, by: 64).map { i -> String in
            let start = body.index(body.startIndex, offsetBy: i)
            return String(body[start..<(body.index(start, offsetBy: 64, limitedBy: body.endIndex) ?? body.endIndex)])
        }.joined(separator: "\r\n")
        let parsed = try SignedPublicKeyAndChallenge(base64: wrapped)
        XCTAssertEqual(parsed.challenge, "rooms-challenge")
        XCTAssertEqual(parsed.signatureAlgorithmOID, [1, 2, 840, 113549, 1, 1, 5])
        let der = try ca.issue(spkacBase64: wrapped, userid: "bob", organization: "Org", validForDays: 1, now: Date())
        let text = try verifyWithOpenSSL(der)
        XCTAssertTrue(text.contains("Subject: CN=bob,O=Org"), text)
    }

    func testECCAandECSPKAC() throws {
        let (caPEM, keyPEM) = try makeECCA()
        XCTAssertTrue(keyPEM.contains("EC PARAMETERS"))
        let ca = try CertificateAuthority(certificatePEM: caPEM, keyPEM: keyPEM)
        for (type, digest) in [("ec256", "sha256"), ("ec384", "sha384"), ("rsa", "sha256")] {
            let spkac = try makeSPKAC(keyType: type, digest: digest)
            let der = try ca.issue(spkacBase64: spkac, userid: "carol-\(type)", organization: "Org", validForDays: 5, now: Date())
            let text = try verifyWithOpenSSL(der)
            XCTAssertTrue(text.contains("Subject: CN=carol-\(type),O=Org"), text)
            XCTAssertTrue(text.contains("ecdsa-with-SHA256"), text)
        }
    }

    func testPKCS1AndSEC1AndPKCS8Keys() throws {
        let (caPEM, _) = try makeRSACA()
        try tool.run(["pkey", "-in", "ca.key", "-traditional", "-out", "ca-pkcs1.key"])
        let pkcs1 = try tool.read("ca-pkcs1.key")
        XCTAssertTrue(pkcs1.contains("BEGIN RSA PRIVATE KEY"))
        let ca = try CertificateAuthority(certificatePEM: caPEM, keyPEM: pkcs1)
        let der = try ca.issue(spkacBase64: try makeSPKAC(), userid: "dave", organization: "Org", validForDays: 1, now: Date())
        _ = try verifyWithOpenSSL(der)

        // EC CA with a PKCS#8 key.
        let (ecPEM, ecKey) = try makeECCA()
        _ = ecKey
        try tool.run(["pkcs8", "-topk8", "-nocrypt", "-in", "ecca.key", "-out", "ecca-pkcs8.key"])
        let ecCA = try CertificateAuthority(certificatePEM: ecPEM, keyPEM: try tool.read("ecca-pkcs8.key"))
        XCTAssertTrue(ecCA.canIssue)
    }

    func testCAErrors() throws {
        let (caPEM, keyPEM) = try makeRSACA()
        // No key: can read CNs but not issue.
        let readOnly = try CertificateAuthority(certificatePEM: caPEM, keyPEM: nil)
        XCTAssertFalse(readOnly.canIssue)
        XCTAssertThrowsError(try readOnly.issue(spkacBase64: "x", userid: "u", organization: "o", validForDays: 1, now: Date())) {
            XCTAssertEqual($0 as? CertificateAuthorityError, .noPrivateKey)
        }
        // Key of another CA.
        try tool.run(["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", "other.key"])
        XCTAssertThrowsError(try CertificateAuthority(certificatePEM: caPEM, keyPEM: try tool.read("other.key"))) {
            XCTAssertEqual($0 as? CertificateAuthorityError, .keyDoesNotMatchCertificate)
        }
        XCTAssertThrowsError(try CertificateAuthority(certificatePEM: "garbage", keyPEM: keyPEM)) {
            guard case .invalidCACertificate = $0 as? CertificateAuthorityError else { return XCTFail("\($0)") }
        }
        XCTAssertThrowsError(try CertificateAuthority(certificatePEM: keyPEM, keyPEM: keyPEM))
        XCTAssertThrowsError(try CertificateAuthority(certificatePEM: caPEM, keyPEM: caPEM)) {
            guard case .invalidPrivateKey = $0 as? CertificateAuthorityError else { return XCTFail("\($0)") }
        }
        // Several CA certificates: the first is the issuer.
        let (ecPEM, _) = try makeECCA()
        let multi = try CertificateAuthority(certificatePEM: caPEM + "\n" + ecPEM, keyPEM: keyPEM)
        XCTAssertEqual(multi.certificates.count, 2)
        XCTAssertEqual(try CertificateAuthority.commonName(of: multi.issuerCertificate), "Rooms Test CA")
        // Empty user id.
        XCTAssertThrowsError(try multi.issue(spkacBase64: try makeSPKAC(), userid: "", organization: "o", validForDays: 1, now: Date())) {
            XCTAssertEqual($0 as? CertificateAuthorityError, .emptyUserid)
        }
    }

    func testTamperedAndGarbageSPKAC() throws {
        let (caPEM, keyPEM) = try makeRSACA()
        let ca = try CertificateAuthority(certificatePEM: caPEM, keyPEM: keyPEM)
        let spkac = try makeSPKAC()
        let b64 = String(spkac.trimmingCharacters(in: .whitespacesAndNewlines).dropFirst(6))
        let der = [UInt8](Data(base64Encoded: b64)!)
        XCTAssertNoThrow(try SignedPublicKeyAndChallenge(derEncoded: der))

        func expect(_ bytes: [UInt8], _ expected: CertificateAuthorityError, line: UInt = #line) {
            XCTAssertThrowsError(try ca.issue(spkacBase64: Data(bytes).base64EncodedString(), userid: "u", organization: "o",
                                              validForDays: 1, now: Date()), line: line) {
                XCTAssertEqual($0 as? CertificateAuthorityError, expected, line: line)
            }
        }
        // Broken signature (last byte of the BIT STRING).
        var sig = der
        sig[sig.count - 1] ^= 0x55
        expect(sig, .invalidSignature)
        // Changed challenge ("rooms-challenge" → "rooms-challengf").
        var challenge = der
        let needle = Array("rooms-challenge".utf8)
        let at = (0...(challenge.count - needle.count)).first { Array(challenge[$0..<($0 + needle.count)]) == needle }!
        challenge[at + needle.count - 1] ^= 0x03
        expect(challenge, .invalidSignature)
        // Truncated / trailing bytes / flipped structure.
        expect(Array(der.dropLast()), .malformedSPKAC)
        expect(der + [0], .malformedSPKAC)
        var tag = der
        tag[0] = 0x31
        expect(tag, .malformedSPKAC)

        // Garbage text.
        for garbage in ["", "   ", "SPKAC=", "!!!notbase64!!!", "A", "AAAA", "aGVsbG8gd29ybGQ=", "MAA=", "MAMCAQA="] {
            XCTAssertThrowsError(try ca.issue(spkacBase64: garbage, userid: "u", organization: "o", validForDays: 1, now: Date()), garbage) {
                let e = $0 as? CertificateAuthorityError
                XCTAssertTrue(e == .invalidBase64 || e == .malformedSPKAC, "\(garbage): \($0)")
            }
        }
        // Random bytes never crash.
        var rng = SystemRandomNumberGenerator()
        for n in 0..<200 {
            let bytes = (0..<(n % 80 + 1)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            XCTAssertThrowsError(try SignedPublicKeyAndChallenge(derEncoded: bytes))
        }
        // Every single-byte corruption of a real SPKAC is rejected, never crashes.
        for i in stride(from: 0, to: der.count, by: 3) {
            var copy = der
            copy[i] ^= 0x80
            XCTAssertThrowsError(try SignedPublicKeyAndChallenge(derEncoded: copy), "byte \(i)")
        }
    }

    func testMD5SPKAC() throws {
        let (caPEM, keyPEM) = try makeRSACA()
        var ca = try CertificateAuthority(certificatePEM: caPEM, keyPEM: keyPEM)
        var made = 0
        for (bits, name) in [(2048, "md5a"), (3072, "md5b")] {
            try tool.run(["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:\(bits)", "-out", "\(name).key"])
            let (status, out) = try tool.run(["spkac", "-key", "\(name).key", "-challenge", "x", "-digest", "md5"], check: false)
            guard status == 0 else { continue }
            made += 1
            let parsed = try SignedPublicKeyAndChallenge(base64: out)
            XCTAssertEqual(parsed.signatureAlgorithmOID, [1, 2, 840, 113549, 1, 1, 4])
            let der = try ca.issue(spkacBase64: out, userid: "legacy", organization: "Org", validForDays: 1, now: Date())
            _ = try verifyWithOpenSSL(der, userKey: name)

            // Tampered MD5 signature.
            var bytes = [UInt8](Data(base64Encoded: String(out.trimmingCharacters(in: .whitespacesAndNewlines).dropFirst(6)))!)
            bytes[bytes.count - 7] ^= 0x10
            XCTAssertThrowsError(try SignedPublicKeyAndChallenge(derEncoded: bytes)) {
                XCTAssertEqual($0 as? CertificateAuthorityError, .invalidSignature)
            }
            // Policy off.
            XCTAssertThrowsError(try SignedPublicKeyAndChallenge(base64: out, allowMD5: false)) {
                guard case .unsupportedSignatureAlgorithm = $0 as? CertificateAuthorityError else { return XCTFail("\($0)") }
            }
            ca.acceptsMD5SPKAC = false
            XCTAssertThrowsError(try ca.issue(spkacBase64: out, userid: "legacy", organization: "Org", validForDays: 1, now: Date()))
            ca.acceptsMD5SPKAC = true
        }
        XCTAssertGreaterThan(made, 0, "openssl could not make an MD5-signed SPKAC")
    }

    func testLegacyRSAArithmetic() {
        typealias L = LegacyRSA.Limbs
        // Python: pow(7, 13, 101) = 75; pow(123456789, 65537, 1000000007) = 560583526 = 0x2169d366
        XCTAssertEqual(L(bigEndian: [7]).power([13], modulo: L(bigEndian: [101])).bigEndianBytes(count: 1), [75])
        let n = L(bigEndian: [0x3B, 0x9A, 0xCA, 0x07])
        let r = L(bigEndian: [0x07, 0x5B, 0xCD, 0x15]).power([0x01, 0x00, 0x01], modulo: n).bigEndianBytes(count: 4)
        XCTAssertEqual(r, [0x21, 0x69, 0xD3, 0x66])
        XCTAssertFalse(LegacyRSA.verifyMD5(spki: [], signature: [], message: []))
        XCTAssertNil(LegacyRSA.rsaPublicKey(spki: [0x30, 0x00]))
    }

    // MARK: common names from client certificates

    func testCommonNameFromPEMHeader() throws {
        let (caPEM, keyPEM) = try makeRSACA()
        let ca = try CertificateAuthority(certificatePEM: caPEM, keyPEM: keyPEM)
        let der = try ca.issue(spkacBase64: try makeSPKAC(), userid: "erin@rooms", organization: "Org", validForDays: 1, now: Date())
        let pem = PEMDocument(type: "CERTIFICATE", derBytes: der).pemString

        // nginx style: newlines turned into spaces.
        let spaced = pem.replacingOccurrences(of: "\n", with: " ")
        XCTAssertTrue(spaced.hasPrefix("-----BEGIN CERTIFICATE----- MII"))
        XCTAssertEqual(try CertificateAuthority.commonName(fromPEMHeader: spaced), "erin@rooms")
        // Legacy $ssl_client_cert: newline + tab.
        XCTAssertEqual(try CertificateAuthority.commonName(fromPEMHeader: pem.replacingOccurrences(of: "\n", with: "\n\t")), "erin@rooms")
        // $ssl_client_escaped_cert: URL-encoded.
        let escaped = pem.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
        XCTAssertEqual(try CertificateAuthority.commonName(fromPEMHeader: escaped), "erin@rooms")
        // Restored PEM keeps its markers.
        let restored = try CertificateAuthority.pemFromHeader(spaced)
        XCTAssertTrue(restored.hasPrefix("-----BEGIN CERTIFICATE-----\n"))
        XCTAssertTrue(restored.hasSuffix("-----END CERTIFICATE-----"))
        XCTAssertEqual(try CertificateAuthority.commonName(fromDER: der), "erin@rooms")
        // The CA's own CN.
        XCTAssertEqual(try CertificateAuthority.commonName(fromPEMHeader: caPEM.replacingOccurrences(of: "\n", with: " ")), "Rooms Test CA")

        for garbage in ["", " ", "-----BEGIN CERTIFICATE----- -----END CERTIFICATE-----",
                        "-----BEGIN CERTIFICATE----- AAAA -----END CERTIFICATE-----", "-----END CERTIFICATE----- -----BEGIN CERTIFICATE-----",
                        "-----BEGIN CERTIFICATE----- !!! -----END CERTIFICATE-----", "%zz", spaced.replacingOccurrences(of: "MII", with: "MIJ")] {
            XCTAssertThrowsError(try CertificateAuthority.commonName(fromPEMHeader: garbage), garbage)
        }
        XCTAssertThrowsError(try CertificateAuthority.commonName(fromDER: []))
        XCTAssertThrowsError(try CertificateAuthority.commonName(fromDER: Array(der.dropLast())))
    }

    func testNoCommonName() throws {
        try tool.run(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "nocn.key", "-out", "nocn.pem",
                      "-days", "1", "-subj", "/O=Only Org"])
        let pem = try tool.read("nocn.pem")
        XCTAssertThrowsError(try CertificateAuthority.commonName(fromPEMHeader: pem)) {
            XCTAssertEqual($0 as? CertificateAuthorityError, .noCommonName)
        }
    }
}
