import Foundation
import XCTest
@testable import Users

final class SharedSecretAuthTests: XCTestCase {
    let auth = SharedSecretAuth(secret: Array("the shared secret".utf8))
    let uid = "4a1f7c2e-9d7b-4c1e-8a5f-0b3d2e1f9a8c@rooms.example"

    // Expected values computed independently with
    //   printf '%s' '1767225600:<uid>' | openssl dgst -sha256 -hmac 'the shared secret' -binary | base64
    // and Python's hmac module.
    func testHMACVector() {
        XCTAssertEqual(auth.signature(useridcombo: "1767225600:\(uid)"), "KH9F/np/6y4hri10FFWsEapIdLFd7lTM2r43K4NERHA=")
        XCTAssertEqual(auth.signature(useridcombo: "1767225600:alice:extra"), "UeAMf+sOZey4pI1nLuUaLXsbJQN/BCi4oLr7E1Srz8k=")
    }

    func testValidKnownVector() {
        let now = Date(timeIntervalSince1970: 1_700_000_000)
        XCTAssertEqual(auth.validate(useridcombo: "1767225600:\(uid)", secret: "KH9F/np/6y4hri10FFWsEapIdLFd7lTM2r43K4NERHA=", now: now), uid)
    }

    func testCredentialsRoundTrip() {
        let now = Date(timeIntervalSince1970: 1_700_000_000.75)
        let c = auth.credentials(userid: uid, now: now)
        XCTAssertEqual(c.expiry, 1_700_000_000 + 372 * 86400)
        XCTAssertEqual(c.useridcombo, "\(c.expiry):\(uid)")
        XCTAssertEqual(c.secret, auth.signature(useridcombo: c.useridcombo))
        XCTAssertEqual(auth.validate(useridcombo: c.useridcombo, secret: c.secret, now: now), uid)
        // Valid up to and including the expiry second, not after.
        XCTAssertEqual(auth.validate(useridcombo: c.useridcombo, secret: c.secret, now: Date(timeIntervalSince1970: Double(c.expiry))), uid)
        XCTAssertNil(auth.validate(useridcombo: c.useridcombo, secret: c.secret, now: Date(timeIntervalSince1970: Double(c.expiry + 1))))
    }

    func testExpiredRejected() {
        let combo = "1600000000:\(uid)"
        XCTAssertNil(auth.validate(useridcombo: combo, secret: auth.signature(useridcombo: combo), now: Date(timeIntervalSince1970: 1_700_000_000)))
        let negative = "-5:\(uid)"
        XCTAssertNil(auth.validate(useridcombo: negative, secret: auth.signature(useridcombo: negative), now: Date()))
    }

    func testWrongSecretRejected() {
        let now = Date(timeIntervalSince1970: 1_700_000_000)
        let combo = "1767225600:\(uid)"
        let good = auth.signature(useridcombo: combo)
        XCTAssertNil(auth.validate(useridcombo: combo, secret: "", now: now))
        XCTAssertNil(auth.validate(useridcombo: combo, secret: "L" + String(good.dropFirst()), now: now))
        XCTAssertNil(auth.validate(useridcombo: combo, secret: good + "x", now: now))
        XCTAssertNil(SharedSecretAuth(secret: Array("other".utf8)).validate(useridcombo: combo, secret: good, now: now))
        // Changing the user id or expiry breaks the HMAC.
        XCTAssertNil(auth.validate(useridcombo: "1767225601:\(uid)", secret: good, now: now))
        XCTAssertNil(auth.validate(useridcombo: "1767225600:mallory", secret: good, now: now))
        // An empty key validates nothing.
        let empty = SharedSecretAuth(secret: [])
        XCTAssertNil(empty.validate(useridcombo: combo, secret: empty.signature(useridcombo: combo), now: now))
    }

    func testThreePartComboAccepted() {
        let now = Date(timeIntervalSince1970: 1_700_000_000)
        XCTAssertEqual(auth.validate(useridcombo: "1767225600:alice:extra", secret: "UeAMf+sOZey4pI1nLuUaLXsbJQN/BCi4oLr7E1Srz8k=", now: now), "alice")
        // More colons: the third part keeps them (split into at most 3 parts).
        let combo = "1767225600:bob:x:y:z"
        XCTAssertEqual(auth.validate(useridcombo: combo, secret: auth.signature(useridcombo: combo), now: now), "bob")
    }

    func testGarbageNeverCrashes() {
        let now = Date(timeIntervalSince1970: 1_700_000_000)
        let garbage = [
            "", ":", "::", ":::", "abc:def", "123", "123:", ":alice", "abc:alice", "12a:alice", " 1767225600:alice",
            "99999999999999999999999999:alice", "9223372036854775807:alice", "-9223372036854775808:alice",
            "0x7fffffff:alice", "1e12:alice", "\u{0}:\u{0}", "١٧٦٧٢٢٥٦٠٠:alice", String(repeating: "9", count: 10000) + ":a",
        ]
        for combo in garbage {
            XCTAssertNil(auth.validate(useridcombo: combo, secret: "garbage", now: now), combo)
            let signed = auth.signature(useridcombo: combo)
            let result = auth.validate(useridcombo: combo, secret: signed, now: now)
            if combo == "9223372036854775807:alice" {
                XCTAssertEqual(result, "alice")  // far-future expiry, correctly signed
            } else {
                XCTAssertNil(result, combo)
            }
        }
        // Credentials near the end of time do not overflow.
        let far = auth.credentials(userid: "a", now: Date(timeIntervalSince1970: 9.3e18))
        XCTAssertEqual(far.expiry, Int64.max)
    }

    func testSuseridVector() {
        // python3: base64.b64encode(hmac.new(bytes(range(32)), b'alice@example.org', hashlib.sha256).digest())
        XCTAssertEqual(suserid(userid: "alice@example.org", encryptionSecret: Array(0..<32)), "A6LM7vlfwbPFdX9li+Wi/nBolp4zE0rgS5Ju4SmrzGE=")
        XCTAssertEqual(suserid(userid: "", encryptionSecret: Array(0..<32)), "")
    }

    func testRegistrationMode() {
        XCTAssertEqual(RegistrationMode("sharedsecret"), .sharedsecret)
        XCTAssertEqual(RegistrationMode("SharedSecret"), .sharedsecret)
        XCTAssertEqual(RegistrationMode(" HTTPHEADER "), .httpheader)
        XCTAssertEqual(RegistrationMode("Certificate"), .certificate)
        XCTAssertEqual(RegistrationMode(""), .invalid(""))
        XCTAssertEqual(RegistrationMode("ldap"), .invalid("ldap"))
        XCTAssertFalse(RegistrationMode("ldap").isValid)
        XCTAssertTrue(RegistrationMode.certificate.supportsRegistration)
        XCTAssertFalse(RegistrationMode.httpheader.supportsRegistration)
        XCTAssertEqual(RegistrationMode("CERTIFICATE").name, "certificate")
    }

    func testConstantTimeEqual() {
        XCTAssertTrue(usersConstantTimeEqual([UInt8](), [UInt8]()))
        XCTAssertTrue(usersConstantTimeEqual([1, 2, 3] as [UInt8], [1, 2, 3] as [UInt8]))
        XCTAssertFalse(usersConstantTimeEqual([1, 2, 3] as [UInt8], [1, 2] as [UInt8]))
        XCTAssertFalse(usersConstantTimeEqual([1, 2] as [UInt8], [1, 2, 0] as [UInt8]))
        XCTAssertFalse(usersConstantTimeEqual([1, 2, 3] as [UInt8], [1, 2, 4] as [UInt8]))
        // Lengths differing by a multiple of 256 must still compare unequal.
        XCTAssertFalse(usersConstantTimeEqual([UInt8](repeating: 0, count: 256), [UInt8]()))
    }
}
