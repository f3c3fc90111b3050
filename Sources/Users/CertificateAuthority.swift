import Crypto
import Foundation
import SwiftASN1
import X509
import _CryptoExtras

public enum CertificateAuthorityError: Error, Equatable, Sendable {
    /// No `CERTIFICATE` block could be parsed from the configured PEM.
    case invalidCACertificate(String)
    /// The configured key is not a supported PEM private key (PKCS#1/PKCS#8 RSA or ECDSA, SEC1 EC, Ed25519).
    case invalidPrivateKey(String)
    /// The private key does not belong to the (first) CA certificate.
    case keyDoesNotMatchCertificate
    /// `issue` was called on an authority configured without a key.
    case noPrivateKey
    case invalidBase64
    case malformedSPKAC
    case unsupportedSignatureAlgorithm(String)
    case unsupportedPublicKey(String)
    /// The SPKAC is not signed by the key it carries.
    case invalidSignature
    case emptyUserid
    case invalidCertificate(String)
    case noCommonName
    case signingFailed(String)
}

/// The `certificate` registration mode (rest-api §7.5, server-conf §users): issues client certificates for SPKACs
/// and reads user ids (CN) from client certificates.
public struct CertificateAuthority: Sendable {
    /// All configured CA certificates (all are trusted for client authentication); the first one is the issuer.
    public let certificates: [Certificate]
    public var issuerCertificate: Certificate { certificates[0] }
    private let privateKey: Certificate.PrivateKey?
    /// Accept SPKACs signed with md5WithRSAEncryption (old browsers' `<keygen>`). Default true.
    public var acceptsMD5SPKAC = true

    public init(certificatePEM: String, keyPEM: String?) throws {
        let documents: [PEMDocument]
        do {
            documents = try PEMDocument.parseMultiple(pemString: certificatePEM)
        } catch {
            throw CertificateAuthorityError.invalidCACertificate(String(describing: error))
        }
        var certs: [Certificate] = []
        for doc in documents where doc.discriminator == "CERTIFICATE" {
            do {
                certs.append(try Certificate(derEncoded: doc.derBytes))
            } catch {
                throw CertificateAuthorityError.invalidCACertificate(String(describing: error))
            }
        }
        guard !certs.isEmpty else { throw CertificateAuthorityError.invalidCACertificate("no CERTIFICATE block") }
        certificates = certs

        if let keyPEM, !keyPEM.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            let key = try Self.parsePrivateKey(keyPEM)
            guard key.publicKey == certs[0].publicKey else {
                throw CertificateAuthorityError.keyDoesNotMatchCertificate
            }
            privateKey = key
        } else {
            privateKey = nil
        }
    }

    /// Whether `issue` can sign.
    public var canIssue: Bool { privateKey != nil }

    /// Issues a DER client certificate for the public key in `spkacBase64` (after checking its signature):
    /// CN = `userid`, O = `organization`, random serial < 2^128, valid from `now` for `validForDays` (≤ 0 → 365),
    /// key usage digitalSignature + keyEncipherment, extended key usage clientAuth, signed by the CA key.
    public func issue(spkacBase64: String, userid: String, organization: String, validForDays: Int, now: Date)
        throws -> [UInt8]
    {
        guard let privateKey else { throw CertificateAuthorityError.noPrivateKey }
        guard !userid.isEmpty else { throw CertificateAuthorityError.emptyUserid }
        let spkac = try SignedPublicKeyAndChallenge(base64: spkacBase64, allowMD5: acceptsMD5SPKAC)

        let days = validForDays > 0 ? min(validForDays, 100 * 366) : 365
        // Whole seconds: X.509 times carry no fractions.
        let notBefore = Date(timeIntervalSince1970: Double(unixSeconds(now)))
        let notAfter = notBefore.addingTimeInterval(Double(days) * 86400)

        let subject: DistinguishedName
        do {
            subject = try DistinguishedName {
                OrganizationName(organization)
                CommonName(userid)
            }
        } catch {
            throw CertificateAuthorityError.signingFailed("subject: \(error)")
        }

        do {
            let issuer = issuerCertificate
            var extensions = try Certificate.Extensions {
                Critical(KeyUsage(digitalSignature: true, keyEncipherment: true))
                try ExtendedKeyUsage([.clientAuth])
                Critical(BasicConstraints.notCertificateAuthority)
                SubjectKeyIdentifier(hash: spkac.publicKey)
            }
            if let ski = try? issuer.extensions.subjectKeyIdentifier {
                try extensions.append(Certificate.Extension(AuthorityKeyIdentifier(keyIdentifier: ski.keyIdentifier), critical: false))
            }
            let certificate = try Certificate(
                version: .v3,
                serialNumber: Self.randomSerial(),
                publicKey: spkac.publicKey,
                notValidBefore: notBefore,
                notValidAfter: notAfter,
                issuer: issuer.subject,
                subject: subject,
                signatureAlgorithm: Self.signatureAlgorithm(for: privateKey),
                extensions: extensions,
                issuerPrivateKey: privateKey)
            var serializer = DER.Serializer()
            try serializer.serialize(certificate)
            return serializer.serializedBytes
        } catch let error as CertificateAuthorityError {
            throw error
        } catch {
            throw CertificateAuthorityError.signingFailed(String(describing: error))
        }
    }

    // MARK: reading user ids from client certificates

    /// The subject CN of a DER certificate (the last CN if there are several, like Go's `pkix.Name`).
    public static func commonName(fromDER der: [UInt8]) throws -> String {
        let certificate: Certificate
        do {
            certificate = try Certificate(derEncoded: der)
        } catch {
            throw CertificateAuthorityError.invalidCertificate(String(describing: error))
        }
        return try commonName(of: certificate)
    }

    public static func commonName(of certificate: Certificate) throws -> String {
        var cn: String?
        for rdn in certificate.subject {
            for attribute in rdn where attribute.type == .RDNAttributeType.commonName {
                if let value = String(attribute.value) { cn = value }
            }
        }
        guard let cn, !cn.isEmpty else { throw CertificateAuthorityError.noCommonName }
        return cn
    }

    /// The subject CN of the first certificate in a proxy header (nginx `$ssl_client_cert` style: the PEM with
    /// newlines turned into spaces or tabs; `$ssl_client_escaped_cert`'s URL encoding is undone too).
    /// The base64 body between the BEGIN/END CERTIFICATE markers is taken with all whitespace removed, which is
    /// equivalent to restoring the newlines while keeping the markers intact.
    public static func commonName(fromPEMHeader header: String) throws -> String {
        let der = try derFromPEMHeader(header)
        return try commonName(fromDER: der)
    }

    /// The DER bytes of the first certificate in a proxy header (see `commonName(fromPEMHeader:)`).
    public static func derFromPEMHeader(_ header: String) throws -> [UInt8] {
        var text = header
        if text.contains("%"), let decoded = text.removingPercentEncoding { text = decoded }
        let begin = "-----BEGIN CERTIFICATE-----", end = "-----END CERTIFICATE-----"
        guard let b = text.range(of: begin), let e = text.range(of: end, range: b.upperBound..<text.endIndex) else {
            throw CertificateAuthorityError.invalidCertificate("no PEM certificate markers")
        }
        let body = text[b.upperBound..<e.lowerBound].filter { !$0.isWhitespace }
        guard !body.isEmpty, let data = Data(base64Encoded: String(body)) else {
            throw CertificateAuthorityError.invalidCertificate("bad base64 in PEM body")
        }
        return Array(data)
    }

    /// The header value restored to a PEM document (newlines back, markers intact), e.g. for logging or chains.
    public static func pemFromHeader(_ header: String) throws -> String {
        let der = try derFromPEMHeader(header)
        return PEMDocument(type: "CERTIFICATE", derBytes: der).pemString
    }

    // MARK: helpers

    static func parsePrivateKey(_ pem: String) throws -> Certificate.PrivateKey {
        let documents: [PEMDocument]
        do {
            documents = try PEMDocument.parseMultiple(pemString: pem)
        } catch {
            throw CertificateAuthorityError.invalidPrivateKey(String(describing: error))
        }
        // `openssl ecparam -genkey` writes an "EC PARAMETERS" block first: skip anything that is not a key.
        let keyTypes: Set<String> = ["PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY"]
        guard let doc = documents.first(where: { keyTypes.contains($0.discriminator) }) else {
            if documents.contains(where: { $0.discriminator == "ENCRYPTED PRIVATE KEY" }) {
                throw CertificateAuthorityError.invalidPrivateKey("encrypted private keys are not supported")
            }
            throw CertificateAuthorityError.invalidPrivateKey("no private key block")
        }
        do {
            return try Certificate.PrivateKey(pemDocument: doc)
        } catch {
            throw CertificateAuthorityError.invalidPrivateKey(String(describing: error))
        }
    }

    static func signatureAlgorithm(for key: Certificate.PrivateKey) -> Certificate.SignatureAlgorithm {
        let pub = key.publicKey
        if P384.Signing.PublicKey(pub) != nil { return .ecdsaWithSHA384 }
        if P521.Signing.PublicKey(pub) != nil { return .ecdsaWithSHA512 }
        if P256.Signing.PublicKey(pub) != nil { return .ecdsaWithSHA256 }
        if Curve25519.Signing.PublicKey(pub) != nil { return .ed25519 }
        return .sha256WithRSAEncryption
    }

    /// A positive, non-zero serial below 2^128.
    static func randomSerial() -> Certificate.SerialNumber {
        var bytes = randomBytes(16)
        while bytes.allSatisfy({ $0 == 0 }) { bytes = randomBytes(16) }
        return Certificate.SerialNumber(bytes: bytes)
    }
}
