import Crypto
import XCTest
@testable import RoomsServer

final class ConferencesConfigTests: XCTestCase {
    func load(_ section: String) throws -> ServerConfig {
        let text = "[http]\nlisten = 127.0.0.1:8080\nroot = /tmp\n[conferences]\n" + section
        var loader = ConfigLoader(ini: try IniFile(path: "test.conf", text: text))
        return try loader.load(storedSecret: { _ in nil }, makeSecret: { _, n in [UInt8](repeating: 7, count: n) })
    }

    func assertFails(_ section: String, line: Int, _ needle: String, file: StaticString = #filePath, line testLine: UInt = #line) {
        XCTAssertThrowsError(try load(section), file: file, line: testLine) { error in
            let text = "\(error)"
            XCTAssertTrue(text.hasPrefix("test.conf:\(line): [conferences]"), text, file: file, line: testLine)
            XCTAssertTrue(text.contains(needle), text, file: file, line: testLine)
        }
    }

    func testGoDurations() {
        XCTAssertEqual(GoDuration.seconds("1h"), 3600)
        XCTAssertEqual(GoDuration.seconds("90m"), 5400)
        XCTAssertEqual(GoDuration.seconds("3m50s"), 230)
        XCTAssertEqual(GoDuration.seconds("1h30m15s"), 5415)
        XCTAssertEqual(GoDuration.seconds("1.5h"), 5400)
        XCTAssertEqual(GoDuration.seconds("250ms"), 0.25)
        XCTAssertEqual(GoDuration.seconds("2s"), 2)
        XCTAssertEqual(GoDuration.seconds("3600"), 3600)
        for bad in ["", "h", "1x", "1h-5m", "-1h", "1 h", "1hm", "m5"] { XCTAssertNil(GoDuration.seconds(bad), bad) }
    }

    func testDefaults() throws {
        let c = try load("").conferences
        XCTAssertTrue(c.enabled)
        XCTAssertEqual(c.apps, [:])
        XCTAssertEqual(c.tokenTTL, 3600)
        XCTAssertEqual(c.signKeyTTL, 6 * 3600)
        XCTAssertEqual(c.joinEarly, 300)
        XCTAssertEqual(c.subject, "Conference Call: %Date% @ %Time% - %Subject%")
        XCTAssertTrue(c.body.hasPrefix("Please join my conference call\n\nSubject: %Subject%"))
        XCTAssertTrue(c.meeting.contains("%URL%"))
        XCTAssertFalse(try load("").warnings.contains { $0.contains("[conferences]") }, "a server without conferences stays quiet")
        XCTAssertTrue(try load("users = a:b\n").warnings.contains { $0.contains("test.conf:5: [conferences] users") && $0.contains("no OAuth2 apps") })
    }

    func testAppsUsersAndDurations() throws {
        let hash = SHA256.hash(data: Array("s3cret".utf8)).map { String(format: "%02x", $0) }.joined()
        let c = try load("""
            apps = client1:secret1, client2:se:cr:et2
            users = dmitrys@xyzrd.com:78561,bob:sha256:\(hash)
            tokenTTL = 90m
            signKeyTTL = 3m50s
            joinEarly = 0
            did = 15125550136
            body = line one\\nline two
            publicURL = https://meet.example.com/
            """).conferences
        XCTAssertEqual(c.apps, ["client1": "secret1", "client2": "se:cr:et2"])
        XCTAssertTrue(c.users["dmitrys@xyzrd.com"]?.matches("78561") ?? false)
        XCTAssertFalse(c.users["dmitrys@xyzrd.com"]?.matches("78562") ?? true)
        XCTAssertTrue(c.users["bob"]?.matches("s3cret") ?? false)
        XCTAssertFalse(c.users["bob"]?.matches(hash) ?? true, "the hash itself is not the password")
        XCTAssertEqual(c.tokenTTL, 5400)
        XCTAssertEqual(c.signKeyTTL, 230)
        XCTAssertEqual(c.joinEarly, 0)
        XCTAssertEqual(c.did, "15125550136")
        XCTAssertEqual(c.body, "line one\nline two")
        XCTAssertEqual(c.publicURL, "https://meet.example.com")
    }

    func testErrorsNameFileAndLine() {
        assertFails("enabled = true\ntokenTTL = soon\n", line: 6, "tokenTTL")
        assertFails("signKeyTTL = 0\n", line: 5, "signKeyTTL")
        assertFails("apps = lonely\n", line: 5, "not name:secret")
        assertFails("apps = a:x b:\n", line: 5, "empty secret")
        assertFails("users = a:1, a:2\n", line: 5, "twice")
        assertFails("\nusers = bob:sha256:abc\n", line: 6, "64 hex")
        assertFails("publicURL = ftp://x\n", line: 5, "publicURL")
    }

    func testUnknownKeysWarn() throws {
        XCTAssertTrue(try load("tokenTtl = 1h\nsurprise = 1\n").warnings.contains { $0.contains("unknown key 'surprise'") })
    }
}
