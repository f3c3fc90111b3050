import Foundation
import NIOCore
import SIPDialIn

/// `[sip]`: dial-in by phone (docs/sip-dial-in.md). Off unless `enabled = true`.
struct SIPDialInConfig: Sendable {
    var enabled = false
    var sip = SIPConfiguration()
    var media = DialInSettings()
    /// `[sip] pins`: PINs that always open a room, besides the scheduled conferences.
    var pins: [String: String] = [:]
}

extension ConfigLoader {
    static let sipKeys: Set<String> = [
        "enabled", "listen", "transports", "announcedaddress", "allow", "realm", "username", "password", "ha1",
        "register", "registeruser", "registerauthuser", "registerpassword", "registerexpires", "registertransport",
        "outboundproxy", "rtpbind", "rtpports", "rtptimeout", "interdigittimeout", "pintimeout", "sessionexpires", "pins", "t1",
    ]

    mutating func loadSIP(httpHost: String) throws -> SIPDialInConfig {
        var c = SIPDialInConfig()
        c.enabled = bool("sip", "enabled", false)
        let listen = string("sip", "listen") ?? "\(httpHost):5060"
        guard let (host, port) = parseListen(listen) else { throw fail("sip", "listen", "'\(listen)' is not host:port") }
        let transports = Set(list("sip", "transports").flatMap { $0.split(separator: ",") }.map { $0.lowercased() })
        for t in transports where t != "udp" && t != "tcp" { throw fail("sip", "transports", "unknown transport '\(t)' (udp, tcp)") }
        let useUDP = transports.isEmpty || transports.contains("udp"), useTCP = transports.isEmpty || transports.contains("tcp")
        c.sip.udpHost = useUDP ? host : nil
        c.sip.tcpHost = useTCP ? host : nil
        c.sip.udpPort = port
        c.sip.tcpPort = port
        // What phones and the PBX must reach: the listen host unless it is a wildcard.
        let announced = string("sip", "announcedAddress").flatMap { $0.isEmpty ? nil : $0 }
            ?? (host == "0.0.0.0" || host == "::" ? "127.0.0.1" : host)
        c.sip.announcedHost = announced
        c.media.announcedHost = announced
        c.media.rtpHost = string("sip", "rtpBind").flatMap { $0.isEmpty ? nil : $0 } ?? host
        for item in list("sip", "allow").flatMap({ $0.split(separator: ",") }) {
            do { c.sip.allowedSources.append(try CIDR(String(item))) } catch {
                throw fail("sip", "allow", "'\(item)' is not an address or network (e.g. 192.0.2.10 or 10.0.0.0/8)")
            }
        }
        if let user = string("sip", "username"), !user.isEmpty {
            let secret: DigestSecret
            if let ha1 = string("sip", "ha1"), !ha1.isEmpty { secret = .ha1(ha1) }
            else if let password = string("sip", "password"), !password.isEmpty { secret = .password(password) }
            else { throw fail("sip", "username", "inbound digest needs password or ha1") }
            c.sip.inboundCredentials = .init(realm: string("sip", "realm") ?? "rooms", username: user, secret: secret)
        }
        if let registrar = string("sip", "register"), !registrar.isEmpty {
            let uri: SIPURI
            do { uri = try SIPURI(parsing: registrar) } catch { throw fail("sip", "register", "'\(registrar)' is not a SIP URI: \(error)") }
            guard let user = string("sip", "registerUser"), !user.isEmpty else {
                throw fail("sip", "registerUser", "registration needs the account's user name")
            }
            var r = SIPConfiguration.RegistrationSettings(registrar: uri, aorUser: user,
                                                          authUsername: string("sip", "registerAuthUser").flatMap { $0.isEmpty ? nil : $0 },
                                                          password: string("sip", "registerPassword"))
            r.expires = int("sip", "registerExpires", 300)
            guard r.expires >= 30 else { throw fail("sip", "registerExpires", "must be at least 30 seconds") }
            switch (string("sip", "registerTransport") ?? "udp").lowercased() {
            case "udp": r.transport = .udp
            case "tcp": r.transport = .tcp
            case let other: throw fail("sip", "registerTransport", "unknown transport '\(other)' (udp, tcp)")
            }
            if let proxy = string("sip", "outboundProxy"), !proxy.isEmpty {
                do { r.outboundProxy = try SIPURI(parsing: proxy) } catch { throw fail("sip", "outboundProxy", "'\(proxy)' is not a SIP URI") }
            }
            c.sip.registration = r
        }
        if let ports = string("sip", "rtpPorts"), !ports.isEmpty {
            let parts = ports.split(separator: "-").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
            guard parts.count == 2, parts[0] >= 1024, parts[0] < parts[1], parts[1] <= 65535 else {
                throw fail("sip", "rtpPorts", "'\(ports)' is not a port range like 20000-20999")
            }
            c.media.rtpPorts = parts[0] ... parts[1]
        }
        c.media.rtpTimeout = .seconds(Int64(try seconds("rtpTimeout", 30)))
        c.media.interDigitTimeout = try seconds("interDigitTimeout", 5)
        c.media.pinTimeout = try seconds("pinTimeout", 60)
        c.sip.sessionExpires = int("sip", "sessionExpires", 1800)
        if let t1 = string("sip", "t1"), let ms = Int(t1), ms >= 10 { c.sip.timers = .scaled(t1: .milliseconds(Int64(ms))) }
        for item in (string("sip", "pins") ?? "").split(whereSeparator: { $0 == "," || $0 == " " }) {
            let parts = item.split(separator: ":", maxSplits: 1).map(String.init)
            guard parts.count == 2, !parts[0].isEmpty, parts[0].allSatisfy(\.isNumber), !parts[1].isEmpty else {
                throw fail("sip", "pins", "'\(item)' is not pin:room (digits, then the room name)")
            }
            c.pins[parts[0]] = parts[1]
        }
        return c
    }

    private func seconds(_ key: String, _ fallback: TimeInterval) throws -> TimeInterval {
        guard let raw = string("sip", key) else { return fallback }
        guard let s = GoDuration.seconds(raw), s > 0 else { throw fail("sip", key, "'\(raw)' is not a duration (e.g. 30s, 2m)") }
        return s
    }
}
