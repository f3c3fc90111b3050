// SFU load generator for scripts/bench: one publisher (VP8 1.5 Mbit/s + Opus) and N subscribers that count what
// they receive, against Rooms (WHIP/WHEP) or Janus (videoroom over its HTTP API), with the same traffic. Measures
// the server's CPU per forwarded packet, its memory and the receive loss over a steady window, and writes JSON.
// Exits nonzero with a message when media does not flow (publisher not connected, no subscriber receiving, SRTP
// that does not decrypt).
//
// Usage: SFULoad --server rooms|janus --url <base> --subscribers N --pid <server pid> --json <out>
//                [--duration 20] [--warmup 3] [--address <our candidate address>]
//   rooms: --url http://127.0.0.1:8080/ (the server's base path)   janus: --url http://127.0.0.1:8088/janus
import Foundation

struct Options {
    enum Server: String { case rooms, janus }
    var server = Server.rooms
    var url = URL(string: "http://127.0.0.1:8080/")!
    var subscribers = 50
    var duration = 20.0
    var warmup = 3.0
    var serverPid: Int32 = 0
    var jsonOut = "bench-results/sfu-run.json"
    /// The host candidate we announce; Janus must be able to reach it (loopback is not gathered by Janus).
    var address = "127.0.0.1"

    init(_ arguments: [String]) throws {
        var i = 1
        func value() throws -> String {
            i += 1
            guard i < arguments.count else { throw LoadError.signaling("missing value for \(arguments[i - 1])") }
            return arguments[i]
        }
        while i < arguments.count {
            switch arguments[i] {
            case "--server": server = try Server(rawValue: value()) ?? { throw LoadError.signaling("--server rooms|janus") }()
            case "--url": url = try URL(string: value()) ?? { throw LoadError.signaling("bad --url") }()
            case "--subscribers": subscribers = try Int(value()) ?? subscribers
            case "--duration": duration = try Double(value()) ?? duration
            case "--warmup": warmup = try Double(value()) ?? warmup
            case "--pid": serverPid = try Int32(value()) ?? 0
            case "--json": jsonOut = try value()
            case "--address": address = try value()
            default: throw LoadError.signaling("unknown option \(arguments[i])")
            }
            i += 1
        }
        guard serverPid > 0 else { throw LoadError.signaling("--pid <server pid> is required (CPU is read from /proc)") }
    }
}

do {
    let options = try Options(CommandLine.arguments)
    let result = try await LoadRun(options).run()
    print(result.summary)
    let encoder = JSONEncoder()
    encoder.keyEncodingStrategy = .convertToSnakeCase
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    try encoder.encode(result).write(to: URL(fileURLWithPath: options.jsonOut))
} catch {
    FileHandle.standardError.write(Data("SFULoad: \(error)\n".utf8))
    exit(1)
}
