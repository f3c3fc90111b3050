import Crypto
import Foundation

/// Compares two byte sequences in time that depends only on their lengths, not on where they differ.
/// Internal on purpose: Channeling has its own public `constantTimeEqual`, and a second public one would make
/// unqualified calls ambiguous in modules that import both.
@inline(never)
func usersConstantTimeEqual<A: Collection, B: Collection>(_ a: A, _ b: B) -> Bool
where A.Element == UInt8, B.Element == UInt8 {
    var difference = UInt8(truncatingIfNeeded: a.count ^ b.count)
    if a.count != b.count { difference |= 1 }
    // Walk the longer input fully so the time does not reveal the length of the shorter one's prefix.
    var ia = a.makeIterator()
    var ib = b.makeIterator()
    for _ in 0..<max(a.count, b.count) {
        let x = ia.next() ?? 0
        let y = ib.next() ?? 0
        difference |= x ^ y
    }
    return difference == 0
}

/// HMAC-SHA256 of `message` under `key`, as bytes.
func hmacSHA256<M: DataProtocol>(key: [UInt8], message: M) -> [UInt8] {
    Array(HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: key)))
}

func randomBytes(_ count: Int) -> [UInt8] {
    var rng = SystemRandomNumberGenerator()
    return (0..<count).map { _ in UInt8.random(in: .min ... .max, using: &rng) }
}

/// Whole Unix seconds (rounded down, also for dates before 1970).
func unixSeconds(_ date: Date) -> Int64 {
    let t = date.timeIntervalSince1970.rounded(.down)
    if t >= Double(Int64.max) { return .max }
    if t <= Double(Int64.min) { return .min }
    return Int64(t)
}

extension Array where Element == UInt8 {
    func base64URLEncodedString() -> String {
        Data(self).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// Decodes unpadded (or padded) base64url; nil for any character outside the alphabet.
    init?(base64URLEncoded string: String) {
        var s = ""
        s.reserveCapacity(string.utf8.count + 3)
        for c in string.unicodeScalars {
            switch c {
            case "A"..."Z", "a"..."z", "0"..."9": s.unicodeScalars.append(c)
            case "-": s.append("+")
            case "_": s.append("/")
            default: return nil
            }
        }
        switch s.utf8.count % 4 {
        case 0: break
        case 2: s += "=="
        case 3: s += "="
        default: return nil
        }
        guard let data = Data(base64Encoded: s) else { return nil }
        self = Array(data)
    }
}
