import ArgumentParser
import BuddyImages
import Channeling
import Crypto
import Foundation
import Hummingbird
import HummingbirdWebSocket
import Logging
import Metrics
import NIOPosix
import Prometheus
import ServiceLifecycle
import SIPDialIn
import Users

@main
struct RoomsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "RoomsServer",
        abstract: "Rooms: a self-hosted video-conferencing server (Spreed WebRTC compatible).",
        discussion: """
        Every configuration key can also be set with --set section.key=value or the environment variable
        ROOMS_<SECTION>_<KEY> (e.g. ROOMS_APP_TITLE=Standup). Precedence: --set > environment > -oc > -c > -dc.
        """)

    @Option(name: .customShort("c"), help: "Configuration file (Spreed server.conf syntax).")
    var config: String?
    @Option(name: .customLong("dc", withSingleDash: true), help: "Defaults file: keys the main file lacks.")
    var defaultsFile: String?
    @Option(name: .customLong("oc", withSingleDash: true), help: "Overrides file: wins over the main file.")
    var overridesFile: String?
    @Option(name: .customShort("l"), help: "Log file (beats [log] logfile).")
    var logFile: String?
    @Option(help: "Data folder (SQLite database, generated secrets). Default ./data or [rooms] data.")
    var data: String?
    @Option(help: "Web root holding static/. Default: [http] root or the current directory.")
    var root: String?
    @Option(help: "HTTP listen address ip:port (overrides [http] listen).")
    var listen: String?
    @Option(name: .customLong("set"), help: "Override one key: section.key=value (repeatable).")
    var sets: [String] = []
    @Flag(name: .customShort("v"), help: "Print the version and exit.")
    var printVersion = false

    func run() async throws {
        if printVersion {
            print("Version \(roomsVersion)")
            return
        }
        do {
            try await serve()
        } catch let error as ConfigError {
            FileHandle.standardError.write(Data("rooms: configuration error: \(error)\n".utf8))
            throw ExitCode(2)
        } catch let error as IniFile.ParseError {
            FileHandle.standardError.write(Data("rooms: configuration error: \(error)\n".utf8))
            throw ExitCode(2)
        }
    }

    /// The file, then -dc/-oc files, environment and flags, in increasing precedence.
    func readIni() throws -> IniFile {
        let explicit = config != nil
        let path = config ?? "./server.conf"
        var ini: IniFile
        if FileManager.default.fileExists(atPath: path) {
            let text = try String(contentsOfFile: path, encoding: .utf8)
            ini = try IniFile(path: path, text: text)
        } else if explicit {
            throw ConfigError(file: path, line: 0, key: "-c", message: "the configuration file does not exist")
        } else {
            // No file at all: the out-of-the-box setup of scripts/serve.
            ini = try IniFile(path: "(built-in defaults)", text: "[http]\nlisten = 127.0.0.1:8080\n")
        }
        if let d = defaultsFile {
            ini.fillMissing(from: try IniFile(path: d, text: String(contentsOfFile: d, encoding: .utf8)))
        }
        if let o = overridesFile {
            ini.override(with: try IniFile(path: o, text: String(contentsOfFile: o, encoding: .utf8)))
        }
        let sections: Set<String> = ["http", "https", "app", "modules", "log", "users", "nats", "rooms", "sfu", "sip", "conferences"]
        for (name, value) in ProcessInfo.processInfo.environment.sorted(by: { $0.key < $1.key }) where name.hasPrefix("ROOMS_") {
            let rest = name.dropFirst("ROOMS_".count)
            guard let underscore = rest.firstIndex(of: "_") else { continue }
            let section = rest[..<underscore].lowercased()
            guard sections.contains(section) else { continue }
            ini.set(section, String(rest[rest.index(after: underscore)...]), value)
        }
        for item in sets {
            guard let eq = item.firstIndex(of: "="), let dot = item[..<eq].firstIndex(of: ".") else {
                throw ConfigError(file: "--set", line: 0, key: item, message: "expected section.key=value")
            }
            ini.set(String(item[..<dot]), String(item[item.index(after: dot)..<eq]), String(item[item.index(after: eq)...]))
        }
        if let listen { ini.set("http", "listen", listen) }
        if let root { ini.set("http", "root", root) }
        if let data { ini.set("rooms", "data", data) }
        return ini
    }

    func serve() async throws {
        let ini = try readIni()
        let dataDir = ini.value("rooms", "data") ?? "./data"
        try FileManager.default.createDirectory(atPath: dataDir, withIntermediateDirectories: true)
        let store = try SQLiteStore(path: (dataDir as NSString).appendingPathComponent("rooms.sqlite"), migrations: MXAPI.migrations)

        var loader = ConfigLoader(ini: ini)
        var generated: [String: [UInt8]] = [:]
        let cfg = try loader.load(
            storedSecret: { try store.secret(named: $0) },
            makeSecret: { name, count in
                var rng = SystemRandomNumberGenerator()
                let bytes = (0..<count).map { _ in UInt8.random(in: 0...255, using: &rng) }
                generated[name] = bytes
                return bytes
            })
        for (name, value) in generated { try store.setSecret(named: name, value: value) }

        let logPath = logFile ?? cfg.logFile
        let sink: LogfmtHandler.Sink
        if let logPath, logPath != "syslog" {
            if !FileManager.default.fileExists(atPath: logPath) {
                _ = FileManager.default.createFile(atPath: logPath, contents: nil, attributes: [.posixPermissions: 0o640])
            }
            guard let h = FileHandle(forWritingAtPath: logPath) else {
                throw ConfigError(file: ini.path, line: 0, key: "[log] logfile", message: "cannot open '\(logPath)'")
            }
            h.seekToEndOfFile()
            sink = .init(handle: h)
        } else {
            sink = .init(handle: .standardError)
        }
        LoggingSystem.bootstrap { LogfmtHandler(label: $0, sink: sink) }
        let logger = Logger(label: "rooms")

        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))

        for w in cfg.warnings { logger.warning("\(w)") }
        for name in generated.keys.sorted() {
            logger.notice("generated \(name) and stored it in the data folder", metadata: ["data": "\(dataDir)"])
        }

        // A fresh key per process for nonces: they die with a restart, as the original's.
        let codec = SessionCodec(sessionSecret: cfg.sessionSecret, encryptionSecret: cfg.encryptionSecret, realm: cfg.tokenRealm)
        var hubSettings = HubSettings(version: cfg.version, realm: cfg.tokenRealm, stunURIs: cfg.stunURIs, turnURIs: cfg.turnURIs,
                                      turnSecret: cfg.turnSecret, encryptionSecret: cfg.encryptionSecret, usersEnabled: cfg.usersEnabled)
        hubSettings.defaultRoomEnabled = cfg.defaultRoomEnabled
        hubSettings.authorizeRoomJoin = cfg.authorizeRoomJoin
        hubSettings.authorizeRoomCreation = cfg.authorizeRoomCreation
        hubSettings.globalRoom = cfg.globalRoom
        hubSettings.contactsEnabled = cfg.modules["contacts"] ?? true
        hubSettings.roomType = { [cfg] name in cfg.roomType(for: name) }
        var sfu: SFUMedia? = nil
        if cfg.sfuEnabled {
            let media = try SFUMedia(port: cfg.sfuPort, host: cfg.sfuBind, announced: cfg.sfuAnnounced, tcp: cfg.sfuTcp,
                                     tcpPort: cfg.sfuTcpPort, logger: Logger(label: "rooms.sfu"))
            media.sfu.videoCodecPreference = cfg.sfuVideoCodecs
            try await media.start()
            sfu = media
        }
        let hub = Hub(settings: hubSettings, codec: codec, nonces: NonceIssuer(realm: cfg.tokenRealm), logger: logger,
                      images: BuddyImageStore(maxBytes: cfg.buddyImageMaxBytes), media: sfu)
        sfu?.speakerSink = { room, transportID, loudness in
            Task { await hub.activeSpeaker(roomId: room, publisherTransportID: transportID, loudness: loudness) }
        }
        let userModes = UserModes(config: cfg, logger: logger)
        let accessTokens = try cfg.tokenFile.map { path -> AccessTokens in
            do {
                return try AccessTokens(path: path, cookieSecret: Array(HMAC<SHA256>.authenticationCode(
                    for: Array("access-cookie".utf8), using: SymmetricKey(data: cfg.sessionSecret))), logger: logger)
            } catch {
                throw ConfigError(file: ini.path, line: ini.entry("app", "tokenFile")?.line ?? 0, key: "[app] tokenFile",
                                  message: "cannot read '\(path)': \(error)")
            }
        }
        // Scheduled conferences: the MX API edits them, the SIP dial-in looks PINs up in the same store.
        let conferences = ConferenceStore(db: store.dbWriter, schedule: ConferenceSchedule(earlyJoin: cfg.conferences.joinEarly))
        let mx = try await MXAPI.make(config: cfg, store: store, conferences: conferences, hub: hub, logger: logger)
        // Phones: SIP calls whose PIN opens a room (static [sip] pins first, then the conference schedule).
        var dialIn: DialInLifecycle? = nil
        if cfg.sip.enabled {
            guard let sfu else {
                throw ConfigError(file: ini.path, line: ini.entry("sip", "enabled")?.line ?? 0, key: "[sip] enabled",
                                  message: "dial-in bridges phones into the SFU: enable [sfu] too")
            }
            let pins = ChainedPins([StaticPins(cfg.sip.pins), SchedulePins(directory: conferences)])
            let service = try DialInService(sip: cfg.sip.sip, settings: cfg.sip.media, sfu: sfu.sfu, pins: pins,
                                            rooms: HubPhoneRooms(hub: hub, version: cfg.version),
                                            closer: ScheduleCloser(store: conferences, logger: Logger(label: "rooms.mx")),
                                            eventLoopGroup: MultiThreadedEventLoopGroup.singleton, logger: Logger(label: "rooms.dialin"))
            try await service.start()
            logger.notice("SIP dial-in listening", metadata: [
                "udp": "\(cfg.sip.sip.udpHost ?? "-"):\(service.ua.udpPort ?? 0)", "tcp": "\(cfg.sip.sip.tcpHost ?? "-"):\(service.ua.tcpPort ?? 0)",
                "registrar": "\(cfg.sip.sip.registration.map { "\($0.registrar)" } ?? "none")",
            ])
            dialIn = DialInLifecycle(service)
        }
        let page = AppPage(config: cfg)
        let responder = AppResponder(
            config: cfg, page: page, staticFiles: StaticFiles(root: cfg.root),
            rest: RestAPI(config: cfg, page: page, hub: hub, users: userModes, store: store, tokens: accessTokens, runtime: RuntimeStats(), sfu: sfu,
                          dialIn: dialIn),
            buddyImages: BuddyImageRoutes(store: hub.images), accessTokens: accessTokens,
            metrics: HTTPMetrics(registry: PrometheusExposition(registry: registry)),
            whip: WHIPEndpoints(config: cfg, hub: hub), mx: mx)
        let ws = WebSocketEndpoint(config: cfg, hub: hub, users: userModes, responder: responder, logger: logger)

        // ServiceGroup shuts services down in reverse order: the SFU goes first in the list so that it stops last,
        // after the HTTP server has closed the WebSockets whose sessions release their transports on it.
        var services: [any Service] = []
        if let sfu { services.append(sfu) }
        for address in cfg.httpListen {
            guard let (host, port) = parseListen(address) else { continue }
            let app = Application(
                responder: responder,
                server: GuardedHTTPChannel.builder(configuration: ws.serverConfiguration, readTimeout: .seconds(Int64(max(cfg.readTimeout, 1))),
                                                   shouldUpgrade: ws.shouldUpgrade),
                configuration: .init(address: .hostname(host, port: port), serverName: nil),
                onServerRunning: { channel in
                    let port = channel.localAddress?.port ?? port
                    let shown = host == "0.0.0.0" || host == "127.0.0.1" ? "localhost" : host
                    logger.notice("serving", metadata: ["url": "http://\(shown):\(port)\(cfg.basePath)"])
                    print("Rooms \(roomsVersion) is serving http://\(shown):\(port)\(cfg.basePath) — open a room at http://\(shown):\(port)\(cfg.basePath)standup")
                    fflush(stdout)
                },
                logger: logger)
            services.append(app)
        }
        services.append(RoomSweeper(hub: hub))
        if let dialIn { services.append(dialIn) }
        let group = ServiceGroup(configuration: .init(
            services: services.map { .init(service: $0) },
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger))
        try await group.run()
        logger.notice("stopped")
    }
}
