import Crypto
import Foundation
import SwiftASN1

/// RSA PKCS#1 v1.5 verification with MD5 (md5WithRSAEncryption), which swift-crypto does not offer but which old
/// `<keygen>` implementations used for SPKACs. Only public-key operations on public data happen here, so plain
/// (not constant-time) arithmetic is fine. Proof of possession is all an SPKAC signature gives, and MD5's collision
/// weakness does not let anyone obtain a certificate for a key they do not hold.
enum LegacyRSA {
    /// Verifies `signature` over `message` with the RSA key in `spki` (SubjectPublicKeyInfo DER).
    static func verifyMD5(spki: [UInt8], signature: [UInt8], message: [UInt8]) -> Bool {
        guard let (modulus, exponent) = rsaPublicKey(spki: spki) else { return false }
        let k = modulus.count
        // 512 … 4096-bit moduli; public exponents up to 32 bits (bounds the work an SPKAC can cause).
        guard k >= 64, k <= 512, signature.count == k, !exponent.isEmpty, exponent.count <= 4 else { return false }
        let n = Limbs(bigEndian: modulus)
        let s = Limbs(bigEndian: signature)
        guard s.compare(n) < 0 else { return false }
        let m = s.power(exponent, modulo: n).bigEndianBytes(count: k)
        // EMSA-PKCS1-v1_5: 00 01 FF… 00 DigestInfo{md5, NULL} digest
        let digestInfo: [UInt8] = [0x30, 0x20, 0x30, 0x0C, 0x06, 0x08, 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x02, 0x05,
                                   0x05, 0x00, 0x04, 0x10] + Array(Insecure.MD5.hash(data: message))
        guard k >= digestInfo.count + 11 else { return false }
        let expected = [0x00, 0x01] + [UInt8](repeating: 0xFF, count: k - digestInfo.count - 3) + [0x00] + digestInfo
        return usersConstantTimeEqual(m, expected)
    }

    /// (modulus, exponent) as unsigned big-endian bytes from an rsaEncryption SubjectPublicKeyInfo.
    static func rsaPublicKey(spki: [UInt8]) -> ([UInt8], [UInt8])? {
        try? DER.sequence(DER.parse(spki), identifier: .sequence) { nodes -> ([UInt8], [UInt8]) in
            guard let algNode = nodes.next(), let keyNode = nodes.next(), nodes.next() == nil else {
                throw CertificateAuthorityError.malformedSPKAC
            }
            let oid = try DER.sequence(algNode, identifier: .sequence) { alg -> ASN1ObjectIdentifier in
                let oid = try ASN1ObjectIdentifier(derEncoded: &alg)
                while alg.next() != nil {}
                return oid
            }
            guard oid == [1, 2, 840, 113549, 1, 1, 1] else { throw CertificateAuthorityError.malformedSPKAC }
            let bits = try ASN1BitString(derEncoded: keyNode)
            guard bits.paddingBits == 0 else { throw CertificateAuthorityError.malformedSPKAC }
            return try DER.sequence(DER.parse(bits.bytes), identifier: .sequence) { key in
                let n = try ArraySlice<UInt8>(derEncoded: &key)
                let e = try ArraySlice<UInt8>(derEncoded: &key)
                guard key.next() == nil else { throw CertificateAuthorityError.malformedSPKAC }
                return (Array(n.drop { $0 == 0 }), Array(e.drop { $0 == 0 }))
            }
        }
    }

    /// Little-endian 32-bit limbs; just enough arithmetic for modular exponentiation.
    struct Limbs {
        var words: [UInt32]

        init(words: [UInt32]) { self.words = words }

        init(bigEndian bytes: [UInt8]) {
            var words = [UInt32](repeating: 0, count: (bytes.count + 3) / 4)
            for (i, b) in bytes.reversed().enumerated() { words[i / 4] |= UInt32(b) << (8 * UInt32(i % 4)) }
            self.words = words
        }

        func bigEndianBytes(count: Int) -> [UInt8] {
            var out = [UInt8](repeating: 0, count: count)
            for i in 0..<min(count, words.count * 4) {
                out[count - 1 - i] = UInt8(truncatingIfNeeded: words[i / 4] >> (8 * UInt32(i % 4)))
            }
            return out
        }

        func word(_ i: Int) -> UInt32 { i < words.count ? words[i] : 0 }

        func compare(_ other: Limbs) -> Int {
            for i in stride(from: max(words.count, other.words.count) - 1, through: 0, by: -1) {
                let a = word(i), b = other.word(i)
                if a != b { return a < b ? -1 : 1 }
            }
            return 0
        }

        func bit(_ i: Int) -> Bool { (word(i / 32) >> UInt32(i % 32)) & 1 == 1 }

        /// self - other, assuming self ≥ other; result has self's width.
        mutating func subtract(_ other: Limbs) {
            var borrow: UInt64 = 0
            for i in words.indices {
                let d = UInt64(words[i]) &- UInt64(other.word(i)) &- borrow
                words[i] = UInt32(truncatingIfNeeded: d)
                borrow = (d >> 63) & 1
            }
        }

        /// (self · other) mod n for self, other < n, by double-and-add over the bits of `other`.
        func multiply(_ other: Limbs, modulo n: Limbs) -> Limbs {
            let width = n.words.count + 1
            var acc = Limbs(words: [UInt32](repeating: 0, count: width))
            let a = Limbs(words: words + [UInt32](repeating: 0, count: max(0, width - words.count)))
            for i in stride(from: other.words.count * 32 - 1, through: 0, by: -1) {
                acc.shiftLeftOne()
                if acc.compare(n) >= 0 { acc.subtract(n) }
                if other.bit(i) {
                    acc.add(a)
                    if acc.compare(n) >= 0 { acc.subtract(n) }
                }
            }
            return acc
        }

        mutating func shiftLeftOne() {
            var carry: UInt32 = 0
            for i in words.indices {
                let w = words[i]
                words[i] = (w << 1) | carry
                carry = w >> 31
            }
        }

        mutating func add(_ other: Limbs) {
            var carry: UInt64 = 0
            for i in words.indices {
                let s = UInt64(words[i]) + UInt64(other.word(i)) + carry
                words[i] = UInt32(truncatingIfNeeded: s)
                carry = s >> 32
            }
        }

        /// self^e mod n (left-to-right square and multiply; e is public and small in practice).
        func power(_ exponent: [UInt8], modulo n: Limbs) -> Limbs {
            var result = Limbs(words: [1])
            var started = false
            for byte in exponent {
                for shift in stride(from: 7, through: 0, by: -1) {
                    if started { result = result.multiply(result, modulo: n) }
                    if (byte >> UInt8(shift)) & 1 == 1 {
                        result = started ? result.multiply(self, modulo: n) : self
                        started = true
                    }
                }
            }
            return started ? result : Limbs(words: [1])
        }
    }
}
