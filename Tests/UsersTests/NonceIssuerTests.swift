import Foundation
import XCTest
@testable import Users

final class NonceIssuerTests: XCTestCase {
    let issuer = NonceIssuer(realm: "rooms.example", key: Array(repeating: 7, count: 64))
    let sid = "aB3dE5fG7hJ9kL1mN3pQ5rS7tV9wX1yZ"
    let t0 = Date(timeIntervalSince1970: 1_700_000_000.25)

    func testValidAndURLSafe() {
        let nonce = issuer.issue(sid: sid, userid: "alice@rooms.example", now: t0)
        XCTAssertTrue(nonce.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }, nonce)
        XCTAssertEqual(issuer.validate(nonce: nonce, sid: sid, now: t0), "alice@rooms.example")
        XCTAssertEqual(issuer.validate(nonce: nonce, sid: sid, now: t0.addingTimeInterval(59.999)), "alice@rooms.example")
        XCTAssertEqual(issuer.validate(nonce: nonce, sid: sid, now: t0.addingTimeInterval(60)), "alice@rooms.example")
    }

    func testUnicodeUserid() {
        let nonce = issuer.issue(sid: sid, userid: "jürgen:ö/+=", now: t0)
        XCTAssertEqual(issuer.validate(nonce: nonce, sid: sid, now: t0), "jürgen:ö/+=")
    }

    func testExpiredAt61Seconds() {
        let nonce = issuer.issue(sid: sid, userid: "alice", now: t0)
        XCTAssertNil(issuer.validate(nonce: nonce, sid: sid, now: t0.addingTimeInterval(61)))
        XCTAssertNil(issuer.validate(nonce: nonce, sid: sid, now: t0.addingTimeInterval(60.001)))
        // Issued "in the future" by more than the tolerated skew.
        XCTAssertNil(issuer.validate(nonce: nonce, sid: sid, now: t0.addingTimeInterval(-10)))
    }

    func testRandomAndUnique() {
        let a = issuer.issue(sid: sid, userid: "alice", now: t0)
        let b = issuer.issue(sid: sid, userid: "alice", now: t0)
        XCTAssertNotEqual(a, b)
    }

    func testBoundToSidRealmAndKey() {
        let nonce = issuer.issue(sid: sid, userid: "alice", now: t0)
        XCTAssertNil(issuer.validate(nonce: nonce, sid: "otherSid" + sid.dropFirst(8), now: t0))
        XCTAssertNil(issuer.validate(nonce: nonce, sid: "", now: t0))
        XCTAssertNil(NonceIssuer(realm: "other.example", key: Array(repeating: 7, count: 64)).validate(nonce: nonce, sid: sid, now: t0))
        XCTAssertNil(NonceIssuer(realm: "rooms.example", key: Array(repeating: 8, count: 64)).validate(nonce: nonce, sid: sid, now: t0))
        // Fresh random key per process by default.
        XCTAssertNil(NonceIssuer(realm: "rooms.example").validate(nonce: nonce, sid: sid, now: t0))
    }

    func testTamperedRejected() {
        let nonce = issuer.issue(sid: sid, userid: "alice", now: t0)
        var bytes = [UInt8](base64URLEncoded: nonce)!
        // Flip each byte in turn: version, time, random, user id, MAC.
        for i in bytes.indices {
            var copy = bytes
            copy[i] ^= 0x01
            XCTAssertNil(issuer.validate(nonce: copy.base64URLEncodedString(), sid: sid, now: t0), "byte \(i)")
        }
        // Swapping the user id without the key fails.
        let start = 1 + 8 + 16
        bytes.replaceSubrange(start..<(start + 5), with: Array("admin".utf8))
        XCTAssertNil(issuer.validate(nonce: bytes.base64URLEncodedString(), sid: sid, now: t0))
        // Truncated / extended.
        XCTAssertNil(issuer.validate(nonce: String(nonce.dropLast()), sid: sid, now: t0))
        XCTAssertNil(issuer.validate(nonce: nonce + "A", sid: sid, now: t0))
        XCTAssertNil(issuer.validate(nonce: nonce + "AA", sid: sid, now: t0))
    }

    func testForgedAndGarbage() {
        // A well-formed nonce with a MAC under a guessed key.
        let forged = NonceIssuer(realm: "rooms.example", key: Array(repeating: 0, count: 64)).issue(sid: sid, userid: "alice", now: t0)
        XCTAssertNil(issuer.validate(nonce: forged, sid: sid, now: t0))
        for garbage in ["", "A", "====", "not a nonce", "%%%", "AAAA", String(repeating: "A", count: 76),
                        String(repeating: "_", count: 100), String(repeating: "A", count: 10_000), "aGVsbG8=", "\u{0}"] {
            XCTAssertNil(issuer.validate(nonce: garbage, sid: sid, now: t0), garbage)
        }
        // Empty user id is never valid.
        XCTAssertNil(issuer.validate(nonce: issuer.issue(sid: sid, userid: "", now: t0), sid: sid, now: t0))
    }

    func testBase64URLHelpers() {
        for n in 0..<40 {
            let bytes = (0..<n).map { UInt8(truncatingIfNeeded: $0 * 37 + 250) }
            let s = bytes.base64URLEncodedString()
            XCTAssertFalse(s.contains("=") || s.contains("+") || s.contains("/"))
            XCTAssertEqual([UInt8](base64URLEncoded: s), bytes)
        }
        XCTAssertNil([UInt8](base64URLEncoded: "A"))
        XCTAssertNil([UInt8](base64URLEncoded: "AB+C"))
    }
}
