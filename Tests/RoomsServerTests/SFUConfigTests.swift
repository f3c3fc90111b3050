import XCTest
@testable import RoomsServer
import SFU

/// `[sfu] tcp` and `tcpPort`: ICE-TCP on by default, on the UDP port's number unless a port is given.
final class SFUConfigTests: XCTestCase {
    func load(_ sfu: String) throws -> ServerConfig {
        var loader = ConfigLoader(ini: try IniFile(path: "test.conf", text: "[http]\nlisten = 127.0.0.1:8080\nroot = /tmp\n[sfu]\n" + sfu))
        return try loader.load(storedSecret: { _ in nil }, makeSecret: { _, n in [UInt8](repeating: 7, count: n) })
    }

    func testIceTcpDefaultsToOnWithTheUdpPortNumber() throws {
        let c = try load("port = 40000\n")
        XCTAssertTrue(c.sfuTcp)
        XCTAssertEqual(c.sfuTcpPort, 0)
        XCTAssertFalse(c.warnings.contains { $0.contains("tcp") }, "\(c.warnings)")
    }

    func testIceTcpCanBeTurnedOffOrMoved() throws {
        XCTAssertFalse(try load("tcp = false\n").sfuTcp)
        XCTAssertEqual(try load("tcpPort = 443\n").sfuTcpPort, 443)
        XCTAssertThrowsError(try load("tcpPort = 70000\n")) { error in
            XCTAssertTrue("\(error)".contains("tcpPort"), "\(error)")
        }
    }

    func testVideoCodecsPreference() throws {
        XCTAssertEqual(try load("").sfuVideoCodecs.order, [.vp8, .vp9, .h264, .av1])
        XCTAssertEqual(try load("videoCodecs = VP9, h264\n").sfuVideoCodecs.order, [.vp9, .h264])
        XCTAssertEqual(try load("videoCodecs = AV1 VP8\n").sfuVideoCodecs.order, [.av1, .vp8])
        XCTAssertThrowsError(try load("videoCodecs = VP8, HEVC\n")) { error in
            XCTAssertTrue("\(error)".contains("videoCodecs") && "\(error)".contains("HEVC"), "\(error)")
        }
    }
}
