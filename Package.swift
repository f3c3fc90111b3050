// swift-tools-version:6.1
import PackageDescription

// Rooms: a self-hosted video-conferencing server (Spreed WebRTC compatible) with its own SFU and SIP dial-in.
// Module map: see docs/ARCHITECTURE.md. Dependencies point downwards only:
// RoomsServer → Channeling, SIPDialIn → SFU; Users and BuddyImages are leaves used by Channeling and RoomsServer.

let systemLibraries: [Target] = [
    .systemLibrary(name: "COpenSSL", pkgConfig: "openssl", providers: [.apt(["libssl-dev"])]),
    .systemLibrary(name: "CSRTP", pkgConfig: "libsrtp2", providers: [.apt(["libsrtp2-dev"])]),
    .systemLibrary(name: "COpus", pkgConfig: "opus", providers: [.apt(["libopus-dev"])]),
    .systemLibrary(name: "CVPX", pkgConfig: "vpx", providers: [.apt(["libvpx-dev"])]),
    .systemLibrary(name: "CPNG", pkgConfig: "libpng", providers: [.apt(["libpng-dev"])]),
    // SCTP for WebRTC data channels (AF_CONN: packets travel inside our DTLS association).
    .systemLibrary(name: "CUSRSCTP", pkgConfig: "usrsctp", providers: [.apt(["libusrsctp-dev"])]),
    // Only G.722 (g722_encode/g722_decode) from spandsp; the shim leaves the fax/TIFF headers out.
    .systemLibrary(name: "CSpanDSP", pkgConfig: "spandsp", providers: [.apt(["libspandsp-dev"])]),
]

// Swift 5 language mode: the packet path and the hub use explicit ownership (event loops, actors);
// full Swift 6 data-race checking is enabled module by module as each one is made Sendable-clean.
let v5: [SwiftSetting] = [.swiftLanguageMode(.v5)]

let package = Package(
    name: "Rooms",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "RoomsServer", targets: ["RoomsServer"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket.git", from: "2.8.1"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        // Up to 4.x: jwt-kit 5.7 needs swift-crypto 4 (and `_CryptoExtras` is still there in 4).
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-asn1.git", from: "1.7.4"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/adam-fowler/compress-nio.git", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/hummingbird-project/swift-websocket.git", from: "1.6.2"),
        .package(url: "https://github.com/vapor/jwt-kit.git", from: "5.7.1"),
    ],
    targets: systemLibraries + [
        // Wire formats, crypto wrappers and the media model; knows no signaling.
        .target(
            name: "SFU",
            dependencies: [
                "COpenSSL", "CSRTP", "CSFUShim", "CUSRSCTP",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: v5
        ),
        // One-line C wrappers for OpenSSL macros that Swift cannot call; no logic.
        .target(name: "CSFUShim", dependencies: ["COpenSSL"]),
        // User records, registration modes and nonces; storage behind the UserStore protocol.
        .target(
            name: "Users",
            dependencies: [
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
            ],
            swiftSettings: v5
        ),
        // Buddy pictures: store, decode/resize/encode PNG through libpng.
        .target(
            name: "BuddyImages",
            dependencies: ["CPNG"],
            swiftSettings: v5
        ),
        // The Spreed channeling WebSocket protocol: hub, sessions, rooms, tokens. Knows nothing of media.
        .target(
            name: "Channeling",
            dependencies: [
                "Users", "BuddyImages",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: v5
        ),
        // SIP stack, IVR and the audio bridge into SFU rooms; conference schedules (Scheduling/) that map a PIN to a room.
        .target(
            name: "SIPDialIn",
            dependencies: [
                "SFU", "Users", "BuddyImages", "COpus", "CVPX", "CSpanDSP",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            resources: [.copy("Prompts")],
            swiftSettings: v5
        ),
        // The one binary: config, storage, HTTP + WebSocket wiring, service lifecycle.
        .executableTarget(
            name: "RoomsServer",
            dependencies: [
                "Channeling", "Users", "BuddyImages", "SFU", "SIPDialIn",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "CompressNIO", package: "compress-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            swiftSettings: v5
        ),
        // Load generators for scripts/bench (figures, never assertions).
        .executableTarget(
            name: "ChannelingLoad",
            dependencies: [
                .product(name: "WSClient", package: "swift-websocket"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Benchmarks/ChannelingLoad",
            swiftSettings: v5
        ),
        // Publishes one VP8 + Opus stream and opens N subscribers against Rooms (WHIP/WHEP) or Janus (videoroom).
        .executableTarget(
            name: "SFULoad",
            dependencies: [
                "SFU",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            path: "Benchmarks/SFULoad",
            swiftSettings: v5
        ),
        .testTarget(name: "RoomsServerTests", dependencies: ["RoomsServer"], swiftSettings: v5),
        .testTarget(name: "ChannelingTests", dependencies: ["Channeling"], swiftSettings: v5),
        .testTarget(name: "UsersTests", dependencies: ["Users"], swiftSettings: v5),
        .testTarget(name: "SFUTests", dependencies: ["SFU"], swiftSettings: v5),
        .testTarget(name: "BuddyImagesTests", dependencies: ["BuddyImages"], swiftSettings: v5),
        .testTarget(
            name: "SIPDialInTests",
            dependencies: [
                "SIPDialIn", "Users",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ],
            swiftSettings: v5
        ),
    ]
)
