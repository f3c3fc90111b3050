import Foundation
import XCTest

/// Runs the `openssl` command line tool in a scratch directory (tests only).
struct ToolMissing: Error, CustomStringConvertible { var description: String { "openssl CLI not installed" } }

struct OpenSSLTool {
    let directory: URL

    static func make() throws -> OpenSSLTool {
        guard let path = executablePath else { throw ToolMissing() }  // scripts/install-deps installs it
        _ = path
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("users-openssl-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return OpenSSLTool(directory: dir)
    }

    static let executablePath: String? = {
        for p in ["/usr/bin/openssl", "/usr/local/bin/openssl", "/opt/homebrew/bin/openssl"]
        where FileManager.default.isExecutableFile(atPath: p) {
            return p
        }
        return nil
    }()

    func url(_ name: String) -> URL { directory.appendingPathComponent(name) }

    func read(_ name: String) throws -> String { try String(contentsOf: url(name), encoding: .utf8) }

    func write(_ name: String, _ bytes: [UInt8]) throws { try Data(bytes).write(to: url(name)) }

    /// Runs `openssl args…`; returns (exit status, stdout + stderr).
    @discardableResult
    func run(_ args: [String], check: Bool = true, file: StaticString = #filePath, line: UInt = #line) throws -> (Int32, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.executablePath!)
        process.arguments = args
        process.currentDirectoryURL = directory
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let output = String(decoding: data, as: UTF8.self)
        if check && process.terminationStatus != 0 {
            XCTFail("openssl \(args.joined(separator: " ")) failed: \(output)", file: file, line: line)
        }
        return (process.terminationStatus, output)
    }

    func remove() { try? FileManager.default.removeItem(at: directory) }
}
