import Foundation
import SwiftASN1
import X509

/// A parsed and signature-checked Netscape SPKAC:
/// ```
/// SignedPublicKeyAndChallenge ::= SEQUENCE {
///     publicKeyAndChallenge PublicKeyAndChallenge,   -- SEQUENCE { spki SubjectPublicKeyInfo, challenge IA5String }
///     signatureAlgorithm    AlgorithmIdentifier,
///     signature             BIT STRING }
/// ```
public struct SignedPublicKeyAndChallenge: Sendable {
    public let publicKey: Certificate.PublicKey
    public let challenge: String
    /// The signature algorithm's OID (e.g. 1.2.840.113549.1.1.11 for sha256WithRSAEncryption).
    public let signatureAlgorithmOID: ASN1ObjectIdentifier
    /// The DER SubjectPublicKeyInfo as sent.
    public let subjectPublicKeyInfo: [UInt8]

    static let md5WithRSAEncryption: ASN1ObjectIdentifier = [1, 2, 840, 113549, 1, 1, 4]

    /// Parses base64 text as produced by `openssl spkac` or an HTML `<keygen>` form field: whitespace and an
    /// optional `SPKAC=` prefix are ignored; base64url and missing padding are accepted.
    public init(base64 text: String, allowMD5: Bool = true) throws {
        var s = text.filter { !$0.isWhitespace }
        if s.uppercased().hasPrefix("SPKAC=") { s.removeFirst(6) }
        guard !s.isEmpty, let der = Self.decodeBase64(s) else { throw CertificateAuthorityError.invalidBase64 }
        try self.init(derEncoded: der, allowMD5: allowMD5)
    }

    /// `allowMD5`: accept md5WithRSAEncryption signatures (legacy `<keygen>`); see `LegacyRSA`.
    public init(derEncoded der: [UInt8], allowMD5: Bool = true) throws {
        let parsed: (pkac: ArraySlice<UInt8>, spki: ArraySlice<UInt8>, challenge: String,
                     algorithm: ASN1ObjectIdentifier, signature: ASN1BitString)
        do {
            let root = try DER.parse(der)
            parsed = try DER.sequence(root, identifier: .sequence) { nodes in
                guard let pkacNode = nodes.next() else { throw CertificateAuthorityError.malformedSPKAC }
                let inner = try DER.sequence(pkacNode, identifier: .sequence) { pkacNodes in
                    guard let spkiNode = pkacNodes.next(), let challengeNode = pkacNodes.next(),
                          pkacNodes.next() == nil else { throw CertificateAuthorityError.malformedSPKAC }
                    let challenge = try ASN1IA5String(derEncoded: challengeNode)
                    return (spkiNode.encodedBytes, String(challenge))
                }
                guard let algNode = nodes.next() else { throw CertificateAuthorityError.malformedSPKAC }
                let oid = try DER.sequence(algNode, identifier: .sequence) { algNodes in
                    let oid = try ASN1ObjectIdentifier(derEncoded: &algNodes)
                    // Optional parameters (NULL for RSA), ignored.
                    _ = algNodes.next()
                    guard algNodes.next() == nil else { throw CertificateAuthorityError.malformedSPKAC }
                    return oid
                }
                guard let sigNode = nodes.next() else { throw CertificateAuthorityError.malformedSPKAC }
                let signature = try ASN1BitString(derEncoded: sigNode)
                guard nodes.next() == nil else { throw CertificateAuthorityError.malformedSPKAC }
                return (pkacNode.encodedBytes, inner.0, inner.1, oid, signature)
            }
        } catch let error as CertificateAuthorityError {
            throw error
        } catch {
            throw CertificateAuthorityError.malformedSPKAC
        }

        let algorithm = Self.signatureAlgorithm(parsed.algorithm)
        let isMD5 = allowMD5 && parsed.algorithm == Self.md5WithRSAEncryption
        guard algorithm != nil || isMD5 else {
            throw CertificateAuthorityError.unsupportedSignatureAlgorithm(parsed.algorithm.description)
        }
        let key: Certificate.PublicKey
        do {
            key = try Certificate.PublicKey(derEncoded: Array(parsed.spki))
        } catch {
            throw CertificateAuthorityError.unsupportedPublicKey(String(describing: error))
        }
        let valid: Bool
        if parsed.signature.paddingBits != 0 {
            valid = false
        } else if let algorithm {
            valid = key.isValidSignature(Array(parsed.signature.bytes), for: Array(parsed.pkac), signatureAlgorithm: algorithm)
        } else {
            valid = LegacyRSA.verifyMD5(spki: Array(parsed.spki), signature: Array(parsed.signature.bytes),
                                        message: Array(parsed.pkac))
        }
        guard valid else { throw CertificateAuthorityError.invalidSignature }

        publicKey = key
        challenge = parsed.challenge
        signatureAlgorithmOID = parsed.algorithm
        subjectPublicKeyInfo = Array(parsed.spki)
    }

    /// Signature algorithms verified through swift-certificates (md5WithRSAEncryption is handled by `LegacyRSA`).
    static func signatureAlgorithm(_ oid: ASN1ObjectIdentifier) -> Certificate.SignatureAlgorithm? {
        switch oid {
        case [1, 2, 840, 113549, 1, 1, 5]: return .sha1WithRSAEncryption
        case [1, 2, 840, 113549, 1, 1, 11]: return .sha256WithRSAEncryption
        case [1, 2, 840, 113549, 1, 1, 12]: return .sha384WithRSAEncryption
        case [1, 2, 840, 113549, 1, 1, 13]: return .sha512WithRSAEncryption
        case [1, 2, 840, 10045, 4, 3, 2]: return .ecdsaWithSHA256
        case [1, 2, 840, 10045, 4, 3, 3]: return .ecdsaWithSHA384
        case [1, 2, 840, 10045, 4, 3, 4]: return .ecdsaWithSHA512
        case [1, 3, 101, 112]: return .ed25519
        default: return nil
        }
    }

    static func decodeBase64(_ s: String) -> [UInt8]? {
        var t = s.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while t.hasSuffix("=") { t.removeLast() }
        switch t.utf8.count % 4 {
        case 0: break
        case 2: t += "=="
        case 3: t += "="
        default: return nil
        }
        guard let data = Data(base64Encoded: t), !data.isEmpty else { return nil }
        return Array(data)
    }
}
