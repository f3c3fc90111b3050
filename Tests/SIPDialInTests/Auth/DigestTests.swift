// Digest: the RFC 7616 §3.9.1 example for MD5 and SHA-256, header round trips, and the server's
// self-validating nonces (stale after their lifetime, replays rejected, forged nonces refused).

import XCTest
@testable import SIPDialIn

final class DigestTests: XCTestCase {
    let nonce = "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v"
    let cnonce = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ"
    let opaque = "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"

    func rfc7616(_ algorithm: DigestAlgorithm) -> DigestCredentials {
        var client = DigestClient(username: "Mufasa", password: "Circle of Life", cnonce: { [cnonce] in cnonce })
        let challenge = DigestChallenge(realm: "http-auth@example.org", nonce: nonce, opaque: opaque, algorithm: algorithm,
                                        qopOptions: ["auth", "auth-int"])
        return client.answer(challenge, method: "GET", uri: "/dir/index.html")
    }

    func testRFC7616Vectors() {
        let md5 = rfc7616(.md5)
        XCTAssertEqual(md5.response, "8ca523f5e9506fed4657c9700eebdbec")
        XCTAssertEqual(md5.nonceCount, "00000001")
        XCTAssertEqual(md5.qop, .auth)
        XCTAssertEqual(rfc7616(.sha256).response, "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1")
    }

    func testRFC2617Vector() {
        // RFC 2617 §3.5.
        let response = Digest.response(ha1: Digest.ha1(username: "Mufasa", realm: "testrealm@host.com", password: "Circle Of Life", algorithm: .md5),
                                       algorithm: .md5, nonce: "dcd98b7102dd2f0e8b11d0f600bfb0c093", method: "GET", uri: "/dir/index.html",
                                       qop: .auth, nonceCount: "00000001", cnonce: "0a4f113b")
        XCTAssertEqual(response, "6629fae49393a05397450978507c4ef1")
    }

    func testHeaderRoundTrips() throws {
        let challenge = DigestChallenge(realm: "rooms \"x\"", nonce: "n1", opaque: "o", algorithm: .sha256, qopOptions: ["auth"], stale: true)
        XCTAssertEqual(try DigestChallenge(parsing: challenge.description), challenge)
        let credentials = rfc7616(.md5)
        XCTAssertEqual(try DigestCredentials(parsing: credentials.description), credentials)
        let asterisk = try DigestChallenge(parsing: "Digest algorithm=MD5, realm=\"asterisk\", nonce=\"1a2b\"")
        XCTAssertEqual(asterisk.qopOptions, [])
        XCTAssertEqual(asterisk.algorithm, .md5)
        XCTAssertThrowsError(try DigestChallenge(parsing: "Basic realm=\"x\""))
        XCTAssertThrowsError(try DigestChallenge(parsing: "Digest realm=\"x\", nonce=\"y\", algorithm=SHA-999"))
        XCTAssertThrowsError(try DigestCredentials(parsing: "Digest username=\"a\", realm=\"r\""))
        XCTAssertThrowsError(try DigestCredentials(parsing: "Digest username=\"a\", realm=\"r\", nonce=\"n\", uri=\"u\", response=\"x\", qop=auth"))
        XCTAssertThrowsError(try DigestCredentials(parsing: "Digest username=\"a\", username=\"b\""))
        XCTAssertThrowsError(try DigestCredentials(parsing: "Digest username=\"a"))
    }

    func testClientAnswersRegistrarChallengeWithIncreasingNC() throws {
        var client = DigestClient(username: "rooms", password: "secret")
        var response = SIPResponse(status: 401)
        response.headers.add("WWW-Authenticate", "Digest realm=\"pbx\", nonce=\"abc\", qop=\"auth\", algorithm=MD5")
        let first = try client.authorize(response, method: .register, uri: "sip:pbx")
        XCTAssertEqual(first.name, "Authorization")
        let second = try DigestCredentials(parsing: try client.authorize(response, method: .register, uri: "sip:pbx").value)
        XCTAssertEqual(second.nonceCount, "00000002")
        var proxy = SIPResponse(status: 407)
        proxy.headers.add("Proxy-Authenticate", "Digest realm=\"p\", nonce=\"n\"")
        let proxyAnswer = try client.authorize(proxy, method: .invite, uri: "sip:x@y")
        XCTAssertEqual(proxyAnswer.name, "Proxy-Authorization")
        let parsed = try DigestCredentials(parsing: proxyAnswer.value)
        XCTAssertNil(parsed.qop)
        XCTAssertEqual(parsed.response, Digest.response(ha1: Digest.ha1(username: "rooms", realm: "p", password: "secret", algorithm: .md5),
                                                        algorithm: .md5, nonce: "n", method: "INVITE", uri: "sip:x@y", qop: nil,
                                                        nonceCount: nil, cnonce: nil))
        XCTAssertThrowsError(try client.authorize(SIPResponse(status: 401), method: .register, uri: "sip:pbx"))
    }

    func testServerVerifiesRejectsReplayAndExpires() {
        var clock: Int64 = 1_000_000
        for algorithm in [DigestAlgorithm.md5, .sha256] {
            let server = DigestServer(realm: "rooms", algorithm: algorithm, nonceLifetime: 60, now: { clock })
            let secret: (String) -> DigestSecret? = { $0 == "pbx" ? .password("pw") : nil }
            var client = DigestClient(username: "pbx", password: "pw")
            let challenge = server.challenge()
            let c1 = client.answer(challenge, method: "INVITE", uri: "sip:rooms@host")
            XCTAssertEqual(server.verify(c1, method: "INVITE", secret: secret), .authorized(username: "pbx"))
            XCTAssertEqual(server.verify(c1, method: "INVITE", secret: secret), .replay, "same nc again")
            let c2 = client.answer(challenge, method: "INVITE", uri: "sip:rooms@host")
            XCTAssertEqual(server.verify(c2, method: "INVITE", secret: secret), .authorized(username: "pbx"), "nc 2 is fresh")
            XCTAssertEqual(server.verify(c1, method: "INVITE", secret: secret), .replay, "going back is a replay")
            // Stored HA1 instead of the password.
            let ha1 = Digest.ha1(username: "pbx", realm: "rooms", password: "pw", algorithm: algorithm)
            let c3 = client.answer(challenge, method: "INVITE", uri: "sip:rooms@host")
            XCTAssertEqual(server.verify(c3, method: "INVITE", secret: { _ in .ha1(ha1) }), .authorized(username: "pbx"))
            // Wrong password, wrong method, unknown user.
            var intruder = DigestClient(username: "pbx", password: "guess")
            XCTAssertEqual(server.verify(intruder.answer(server.challenge(), method: "INVITE", uri: "sip:r@h"), method: "INVITE", secret: secret),
                           .rejected("wrong response"))
            XCTAssertEqual(server.verify(client.answer(server.challenge(), method: "INVITE", uri: "sip:r@h"), method: "BYE", secret: secret),
                           .rejected("wrong response"))
            var stranger = DigestClient(username: "eve", password: "pw")
            XCTAssertEqual(server.verify(stranger.answer(server.challenge(), method: "INVITE", uri: "sip:r@h"), method: "INVITE", secret: secret),
                           .rejected("unknown user"))
            // A nonce we did not issue (tampered time) is refused; an old one is stale.
            var forged = server.challenge()
            forged.nonce = "ffffffff" + forged.nonce.drop(while: { $0 != "." })
            XCTAssertEqual(server.verify(client.answer(forged, method: "INVITE", uri: "sip:r@h"), method: "INVITE", secret: secret),
                           .rejected("nonce not issued here"))
            let old = server.challenge()
            clock += 61
            XCTAssertEqual(server.verify(client.answer(old, method: "INVITE", uri: "sip:r@h"), method: "INVITE", secret: secret), .stale)
            XCTAssertTrue(server.challenge(stale: true).description.contains("stale=true"))
        }
    }

    func testNonceWithoutQopIsSingleUse() {
        let server = DigestServer(realm: "rooms", now: { 5000 })
        var challenge = server.challenge()
        challenge.qopOptions = []
        var client = DigestClient(username: "u", password: "p")
        let c = client.answer(challenge, method: "INVITE", uri: "sip:x@y")
        XCTAssertNil(c.qop)
        XCTAssertEqual(server.verify(c, method: "INVITE", secret: { _ in .password("p") }), .authorized(username: "u"))
        XCTAssertEqual(server.verify(c, method: "INVITE", secret: { _ in .password("p") }), .replay)
    }

    func testSecretsFromAnotherServerDoNotValidate() {
        let a = DigestServer(realm: "rooms", now: { 10 }), b = DigestServer(realm: "rooms", now: { 10 })
        var client = DigestClient(username: "u", password: "p")
        let c = client.answer(a.challenge(), method: "INVITE", uri: "sip:x@y")
        XCTAssertEqual(b.verify(c, method: "INVITE", secret: { _ in .password("p") }), .rejected("nonce not issued here"))
    }
}
