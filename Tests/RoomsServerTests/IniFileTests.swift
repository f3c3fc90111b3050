import XCTest
@testable import RoomsServer

final class IniFileTests: XCTestCase {
    func testSectionsKeysAreCaseInsensitive() throws {
        let ini = try IniFile(path: "t.conf", text: "[APP]\nSESSIONSECRET = abc\n[http]\nlisten = 127.0.0.1:1\n")
        XCTAssertEqual(ini.value("app", "sessionSecret"), "abc")
        XCTAssertEqual(ini.entry("app", "SessionSecret")?.line, 2)
    }

    func testCommentsRemAndInlineComments() throws {
        let text = """
        # comment
        ; comment
        REM comment
        [app]
        title = Hello ; inline
        plugin = a#b
        remoteX = 1
        ver = x\t# tab comment
        """
        let ini = try IniFile(path: "t", text: text)
        XCTAssertEqual(ini.value("app", "title"), "Hello")
        XCTAssertEqual(ini.value("app", "plugin"), "a#b")
        XCTAssertNil(ini.value("app", "remotex"), "lines starting with rem are comments (quirk)")
        XCTAssertEqual(ini.value("app", "ver"), "x")
    }

    func testColonSeparatorAndFirstSeparatorWins() throws {
        let ini = try IniFile(path: "t", text: "[app]\ntitle: a=b\nplugin = x:y\n")
        XCTAssertEqual(ini.value("app", "title"), "a=b")
        XCTAssertEqual(ini.value("app", "plugin"), "x:y")
    }

    func testContinuationLines() throws {
        let ini = try IniFile(path: "t", text: "[app]\ncontentSecurityPolicy = default-src 'self';\n\n  style-src 'self'\n")
        XCTAssertEqual(ini.value("app", "contentSecurityPolicy"), "default-src 'self';\nstyle-src 'self'")
    }

    func testContinuationBeforeAnyOptionFails() {
        XCTAssertThrowsError(try IniFile(path: "bad.conf", text: "[app]\njust words\n")) { error in
            let e = error as? IniFile.ParseError
            XCTAssertEqual(e?.line, 2)
            XCTAssertEqual(e?.file, "bad.conf")
        }
    }

    func testDefaultSectionAndReferences() throws {
        let ini = try IniFile(path: "t", text: "root = /srv\n[http]\nlisten = 1.2.3.4:80\nwhere = %(root)s/www\nbad = %(nope)s\n")
        XCTAssertEqual(ini.value("http", "root"), "/srv")
        XCTAssertEqual(ini.value("http", "where"), "/srv/www")
        XCTAssertNil(ini.value("http", "bad"), "an undefined reference makes the value missing")
    }

    func testEmptyValueIsPresent() throws {
        let ini = try IniFile(path: "t", text: "[app]\ntokenFile =\n")
        XCTAssertEqual(ini.value("app", "tokenFile"), "")
    }

    func testDuplicateReplaces() throws {
        let ini = try IniFile(path: "t", text: "[app]\ntitle = a\ntitle = b\n")
        XCTAssertEqual(ini.value("app", "title"), "b")
    }

    func testGarbageNeverCrashes() {
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<500 {
            let bytes = (0..<Int.random(in: 0..<200, using: &rng)).map { _ in UInt8.random(in: 0...127, using: &rng) }
            _ = try? IniFile(path: "fuzz", text: String(decoding: bytes, as: UTF8.self))
        }
    }
}
