import Channeling
import Crypto
import Foundation
import JWTKit
import Users
import XCTest
@testable import RoomsServer

/// A clock the test moves by hand.
final class ManualClock: @unchecked Sendable {
    private let lock = NSLock()
    private var current: Date
    init(_ start: Date) { current = start }
    var now: Date { lock.withLock { current } }
    func advance(_ seconds: TimeInterval) { lock.withLock { current += seconds } }
}

final class MXTokenAuthorityTests: XCTestCase {
    let settings = MXTokenAuthority.Settings(tokenTTL: 3600, signKeyTTL: 6 * 3600, issuer: "rooms:test")
    var clock = ManualClock(Date(timeIntervalSince1970: 1_700_000_000))
    var db: SQLiteStore!

    override func setUpWithError() throws {
        db = try SQLiteStore(inMemory: (), migrations: MXTokenStore.migrations)
    }

    func authority() async throws -> MXTokenAuthority {
        let clock = self.clock
        return try await MXTokenAuthority(store: MXTokenStore(db: db.dbWriter), settings: settings, now: { clock.now })
    }

    func header(_ token: String) throws -> [String: String] {
        let part = String(token.split(separator: ".")[0])
        return try JSONDecoder().decode([String: String].self, from: Data(XCTUnwrap(Base64URL.decode(part))))
    }

    func testIssuedTokenCarriesTheSeedClaimsAndVerifies() async throws {
        let tokens = try await authority()
        let (token, expiresIn) = try await tokens.issue(subject: "dmitrys@xyzrd.com")
        XCTAssertEqual(expiresIn, 3600)
        XCTAssertEqual(try header(token)["alg"], "ES256")
        XCTAssertNotNil(try header(token)["kid"])
        let payloadPart = String(token.split(separator: ".")[1])
        let claims = try JSONSerialization.jsonObject(with: Data(XCTUnwrap(Base64URL.decode(payloadPart)))) as? [String: Any]
        XCTAssertEqual(Set(claims?.keys ?? [:].keys), ["exp", "iat", "iss", "jti", "sub"])
        XCTAssertEqual(claims?["exp"] as? Int, 1_700_003_600)
        XCTAssertEqual(claims?["iat"] as? Int, 1_700_000_000)
        let verified = try await tokens.verify(token)
        XCTAssertEqual(verified.subject, "dmitrys@xyzrd.com")
        XCTAssertEqual(verified.expiresAt, Date(timeIntervalSince1970: 1_700_003_600))
    }

    func testTokensExpireAtExp() async throws {
        let tokens = try await authority()
        let (token, _) = try await tokens.issue(subject: "u")
        clock.advance(3599)
        _ = try await tokens.verify(token)
        clock.advance(1)
        await assertRejected(tokens, token, .expired)
    }

    func testKeysRotateAndOldTokensStayValidUntilTheyExpire() async throws {
        let tokens = try await authority()
        let (first, _) = try await tokens.issue(subject: "u")
        // Just before the key's 6 h are up: same key. A minute later: a new key.
        clock.advance(6 * 3600 - 1)
        let (sameKey, _) = try await tokens.issue(subject: "u")
        XCTAssertEqual(try header(sameKey)["kid"], try header(first)["kid"])
        clock.advance(1)
        let (rotated, _) = try await tokens.issue(subject: "u")
        XCTAssertNotEqual(try header(rotated)["kid"], try header(first)["kid"])
        let keyCount = await tokens.keyIds().count
        XCTAssertEqual(keyCount, 2)
        // `sameKey` was signed by the old key 1 s before rotation: still valid for almost an hour after it.
        clock.advance(3598)
        _ = try await tokens.verify(sameKey)
        _ = try await tokens.verify(rotated)
        clock.advance(1)
        await assertRejected(tokens, sameKey, .expired)
        // The old key retires once its age reaches signKeyTTL + tokenTTL: no token it signed can be valid then.
        clock.advance(1)
        await assertRejected(tokens, sameKey, .unknownKey)
        let remaining = await tokens.keyIds()
        XCTAssertEqual(remaining, [try header(rotated)["kid"]!])
        XCTAssertEqual(try MXTokenStore(db: db.dbWriter).signingKeys().map(\.kid), remaining, "retired keys leave the database")
    }

    func testARestartKeepsKeysAndLogouts() async throws {
        let before = try await authority()
        let (kept, _) = try await before.issue(subject: "u")
        let (loggedOut, _) = try await before.issue(subject: "u")
        try await before.revoke(before.verify(loggedOut))
        let after = try await authority()
        let verified = try await after.verify(kept)
        XCTAssertEqual(verified.subject, "u")
        await assertRejected(after, loggedOut, .revoked)
        // A new server signs with the same key while it is current.
        let (fresh, _) = try await after.issue(subject: "u")
        XCTAssertEqual(try header(fresh)["kid"], try header(kept)["kid"])
    }

    func testRevocationsAreForgottenOnceTheTokenExpired() async throws {
        let tokens = try await authority()
        let (token, _) = try await tokens.issue(subject: "u")
        try await tokens.revoke(tokens.verify(token))
        XCTAssertEqual(try MXTokenStore(db: db.dbWriter).revokedTokens(at: clock.now).count, 1)
        clock.advance(3600)
        await assertRejected(tokens, token, .expired)
        XCTAssertEqual(try MXTokenStore(db: db.dbWriter).revokedTokens(at: Date(timeIntervalSince1970: 0)).count, 0)
    }

    func testForgeriesAreRejected() async throws {
        let tokens = try await authority()
        let (token, _) = try await tokens.issue(subject: "alice")
        let parts = token.split(separator: ".").map(String.init)
        let kid = try header(token)["kid"]!
        func b64(_ json: String) -> String { Base64URL.encode(Array(json.utf8)) }
        let payload = String(decoding: Base64URL.decode(parts[1])!, as: UTF8.self)

        // Payload changed, signature kept.
        let tampered = parts[0] + "." + b64(payload.replacingOccurrences(of: "alice", with: "mallory")) + "." + parts[2]
        await assertRejected(tokens, tampered, .badSignature)
        // alg none, with and without a signature.
        let none = b64("{\"alg\":\"none\",\"typ\":\"JWT\",\"kid\":\"\(kid)\"}") + "." + parts[1] + "."
        await assertRejected(tokens, none, .unsupportedAlgorithm("none"))
        // HS256 keyed with the public key (the classic algorithm confusion).
        let privateKey = try XCTUnwrap(MXTokenStore(db: db.dbWriter).signingKeys().first?.privateKey)
        let publicPEM = try P256.Signing.PrivateKey(rawRepresentation: privateKey).publicKey.pemRepresentation
        let hsInput = b64("{\"alg\":\"HS256\",\"typ\":\"JWT\",\"kid\":\"\(kid)\"}") + "." + parts[1]
        let mac = HMAC<SHA256>.authenticationCode(for: Array(hsInput.utf8), using: SymmetricKey(data: Array(publicPEM.utf8)))
        await assertRejected(tokens, hsInput + "." + Base64URL.encode(Array(mac)), .unsupportedAlgorithm("HS256"))
        // ES256 by another key under our kid, and under an unknown kid.
        let stranger = JWTKeyCollection()
        await stranger.add(ecdsa: ES256PrivateKey(), kid: JWKIdentifier(string: kid))
        let claims = try JSONDecoder().decode(MXClaims.self, from: Data(payload.utf8))
        await assertRejected(tokens, try await stranger.sign(claims, kid: JWKIdentifier(string: kid)), .badSignature)
        await assertRejected(tokens, try await stranger.sign(claims, kid: "other"), .unknownKey)
        // Not JWTs at all.
        for garbage in ["", "abc", "a.b.c", "....", parts[0] + "." + parts[1]] {
            await assertRejected(tokens, garbage, nil)
        }
    }

    func testTokensOfAnotherIssuerAreRejected() async throws {
        let ours = try await authority()
        _ = try await ours.issue(subject: "u")  // creates the signing key that both then share
        let clock = self.clock
        var other = settings
        other.issuer = "rooms:elsewhere"
        let theirs = try await MXTokenAuthority(store: MXTokenStore(db: db.dbWriter), settings: other, now: { clock.now })
        // Same database, so the same signing key: only the issuer tells the tokens apart.
        let (token, _) = try await theirs.issue(subject: "u")
        await assertRejected(ours, token, .wrongIssuer)
    }

    func assertRejected(_ tokens: MXTokenAuthority, _ token: String, _ expected: MXTokenAuthority.Rejection?,
                        file: StaticString = #filePath, line: UInt = #line) async {
        switch await tokens.check(token) {
        case .success: XCTFail("accepted \(token)", file: file, line: line)
        case .failure(let rejection):
            if let expected { XCTAssertEqual(rejection, expected, file: file, line: line) }
        }
    }
}
