import XCTest
@testable import RoomsServer

final class ConfigLoaderTests: XCTestCase {
    let hex64 = String(repeating: "ab", count: 32)

    func load(_ text: String, file: String = "test.conf") throws -> ServerConfig {
        var loader = ConfigLoader(ini: try IniFile(path: file, text: text))
        return try loader.load(storedSecret: { _ in nil }, makeSecret: { _, n in [UInt8](repeating: 7, count: n) })
    }

    func listen(_ extra: String = "") -> String { "[http]\nlisten = 127.0.0.1:8080\nroot = /tmp\n" + extra }

    func testMinimalFileGeneratesSecrets() throws {
        let c = try load(listen())
        XCTAssertEqual(c.sessionSecret.count, 32)
        XCTAssertEqual(c.encryptionSecret.count, 32)
        XCTAssertEqual(Set(c.generatedSecretNames), ["sessionSecret", "encryptionSecret"])
        XCTAssertEqual(c.basePath, "/")
        XCTAssertEqual(c.title, "Spreed WebRTC")
    }

    func testHexSecretsAreDecoded() throws {
        let c = try load(listen("[app]\nsessionSecret = \(hex64)\nencryptionSecret = \(String(repeating: "0f", count: 16))\n"))
        XCTAssertEqual(c.sessionSecret, [UInt8](repeating: 0xab, count: 32))
        XCTAssertEqual(c.encryptionSecret.count, 16)
    }

    func testRawSecretIsUsedWithWarning() throws {
        let raw = String(repeating: "z", count: 40)
        let c = try load(listen("[app]\nsessionSecret = \(raw)\n"))
        XCTAssertEqual(c.sessionSecret, Array(raw.utf8))
        XCTAssertTrue(c.warnings.contains { $0.contains("sessionSecret") && $0.contains("not hex") })
    }

    func testShortSessionSecretNamesFileLineAndKey() {
        XCTAssertThrowsError(try load(listen("[app]\nsessionSecret = \(String(repeating: "ab", count: 16))\n"))) { error in
            let e = error as! ConfigError
            XCTAssertEqual(e.file, "test.conf")
            XCTAssertEqual(e.line, 5)
            XCTAssertTrue(e.key.contains("sessionSecret"))
            XCTAssertTrue(e.description.contains("test.conf:5"))
        }
    }

    func testEncryptionSecretLength() {
        XCTAssertThrowsError(try load(listen("[app]\nencryptionSecret = \(String(repeating: "q", count: 20))\n")))
        XCTAssertNoThrow(try load(listen("[app]\nencryptionSecret = \(String(repeating: "ab", count: 16))\n")))
    }

    func testBadBooleanFallsBackWithWarning() throws {
        let c = try load(listen("stats = maybe\n"))
        XCTAssertFalse(c.stats)
        XCTAssertTrue(c.warnings.contains { $0.contains("stats") && $0.contains("test.conf:4") })
    }

    func testRoomTypes() throws {
        let c = try load(listen("[roomtypes]\n^Conf/.+ = Conference\n"))
        XCTAssertEqual(c.roomType(for: "conf/a"), "Conference")
        XCTAssertEqual(c.roomType(for: "Conf/a"), "Room", "keys are lower-cased by the parser")
        XCTAssertThrowsError(try load(listen("[roomtypes]\n^conf/.+ = Foo\n")))
        XCTAssertThrowsError(try load(listen("[roomtypes]\n^conf/( = Conference\n")))
    }

    func testNoListenerRefuses() {
        XCTAssertThrowsError(try load("[app]\ntitle = x\n"))
    }

    func testBasePathGetsTrailingSlash() throws {
        XCTAssertEqual(try load(listen("basePath = /sub\n")).basePath, "/sub/")
        XCTAssertThrowsError(try load(listen("basePath = sub\n")))
    }

    func testTokenFile() throws {
        XCTAssertThrowsError(try load(listen("[app]\ntokenFile = /does/not/exist\n")))
        XCTAssertNil(try load(listen("[app]\ntokenFile =\n")).tokenFile)
    }

    func testStunListIsDeduplicated() throws {
        let c = try load(listen("[app]\nstunURIs = stun:a:1  stun:b:2 stun:a:1\n"))
        XCTAssertEqual(c.stunURIs, ["stun:a:1", "stun:b:2"])
    }

    func testPlaceholdersAreNamed() throws {
        let c = try load(listen("[app]\nsessionSecret = the-default-secret-do-not-keep-me\nencryptionSecret = tne-default-encryption-block-key\n"))
        XCTAssertTrue(c.warnings.contains { $0.contains("sessionSecret") && $0.contains("placeholder") })
        XCTAssertTrue(c.warnings.contains { $0.contains("encryptionSecret") && $0.contains("placeholder") })
        XCTAssertFalse(c.warnings.contains { $0.contains("the-default-secret-do-not-keep-me") }, "never print secret values")
    }

    func testCleanPath() {
        XCTAssertEqual(AppResponder.cleanPath("//foo"), "/foo")
        XCTAssertEqual(AppResponder.cleanPath("/a/../b"), "/b")
        XCTAssertEqual(AppResponder.cleanPath("/static/../../etc/passwd"), "/etc/passwd")
        XCTAssertEqual(AppResponder.cleanPath("/a/b/"), "/a/b/")
        XCTAssertEqual(AppResponder.cleanPath("/"), "/")
    }

    func testLanguages() {
        XCTAssertEqual(AppPage.languages("de-DE,de;q=0.9,en;q=0.8, fr_FR"), ["de-de", "fr_fr", "de", "en"])
        XCTAssertEqual(AppPage.languages(nil), ["en"])
        XCTAssertEqual(AppPage.languages(" , "), ["en"])
    }
}
