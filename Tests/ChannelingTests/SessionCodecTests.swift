import XCTest
@testable import Channeling

final class SessionCodecTests: XCTestCase {
    let codec = SessionCodec(sessionSecret: [UInt8](repeating: 1, count: 32), encryptionSecret: [UInt8](repeating: 2, count: 32), realm: "local.x")

    func testSidShape() {
        let sid = SessionCodec.newSid()
        XCTAssertEqual(sid.count, 32)
        XCTAssertTrue(sid.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber) })
        XCTAssertNotEqual(sid, SessionCodec.newSid())
    }

    func testIdValidatesOnlyWithItsSid() {
        let sid = SessionCodec.newSid()
        let id = codec.id(forSid: sid)
        XCTAssertFalse(id.contains("/"))
        XCTAssertTrue(codec.validate(id: id, sid: sid))
        XCTAssertFalse(codec.validate(id: id, sid: SessionCodec.newSid()))
        XCTAssertFalse(codec.validate(id: "garbage", sid: sid))
        XCTAssertFalse(codec.validate(id: id, sid: sid, now: Date().addingTimeInterval(31 * 24 * 3600)))
        let other = SessionCodec(sessionSecret: [UInt8](repeating: 9, count: 32), encryptionSecret: [UInt8](repeating: 2, count: 32), realm: "local.x")
        XCTAssertFalse(other.validate(id: id, sid: sid), "another server secret cannot validate it")
    }

    func testTokenRoundTripAndTampering() {
        let v = SessionCodec.TokenValue(id: "i", sid: "s", userid: "u@local")
        let t = codec.token(v)
        XCTAssertEqual(codec.decodeToken(t), v)
        var bytes = Array(t.utf8)
        bytes[10] = bytes[10] == 65 ? 66 : 65
        XCTAssertNil(codec.decodeToken(String(decoding: bytes, as: UTF8.self)))
        XCTAssertNil(codec.decodeToken("garbage"))
        XCTAssertNil(codec.decodeToken(""))
        let otherRealm = SessionCodec(sessionSecret: [UInt8](repeating: 1, count: 32), encryptionSecret: [UInt8](repeating: 2, count: 32), realm: "other")
        XCTAssertNil(otherRealm.decodeToken(t), "a token is bound to its realm")
    }

    func testAttestation() throws {
        let a = codec.attestation(id: "abc")
        XCTAssertEqual(try codec.validateAttestation(a), "abc")
        XCTAssertThrowsError(try codec.validateAttestation(a, now: Date().addingTimeInterval(301)))
        XCTAssertThrowsError(try codec.validateAttestation("x"))
        XCTAssertThrowsError(try codec.validateAttestation(codec.attestation(id: "abc") + "A"))
    }

    func testFramesEndWithOneNewline() {
        let f = Wire.frame(ErrorDocument(Code: "c", Message: "m"), from: "me", iid: "7")
        XCTAssertTrue(f.hasSuffix("}\n"))
        XCTAssertFalse(f.hasSuffix("\n\n"))
        XCTAssertTrue(f.contains("\"Iid\":\"7\""))
    }

    func testTurnCredentials() async {
        let hub = Hub(settings: HubSettings(version: "1", realm: "r", stunURIs: [], turnURIs: ["turn:x"], turnSecret: Array("secret".utf8),
                                            encryptionSecret: [UInt8](repeating: 2, count: 32), usersEnabled: false),
                      codec: codec, nonces: .init(realm: "r"), logger: .init(label: "t"))
        let now = Date(timeIntervalSince1970: 1_700_000_000)
        let t = hub.turnCredentials(id: "abc", now: now)
        XCTAssertEqual(t.ttl, 3600)
        // username = "<expiry>:<base64(SHA-256("abc"))>"; password = base64(HMAC-SHA1("secret", username)), from openssl.
        XCTAssertEqual(t.username, "1700003600:ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=")
        XCTAssertEqual(t.urls, ["turn:x"])
        XCTAssertEqual(t.password, "J9aWoFHxXLtprO49j/sMYrMusSU=")
    }
}
