// Dial-in as a whole: the SIP user agent's calls become phone sessions (IVR, then a seat in a room), and each room
// with phones in it gets one audio bridge. Owns the tables of sessions and bridges; sessions own their calls' media.

import BuddyImages
import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import SFU

public final class DialInService: SIPCallDelegate, @unchecked Sendable {
    public let ua: SIPUserAgent
    let settings: DialInSettings
    let sfu: SFUService
    let pins: PinDirectory
    let rooms: PhoneRooms
    let prompts: PromptLibrary
    private let logger: Logger
    private let bridges = BridgeRegistry()
    /// Sessions by Call-ID, and calls that ended before their session existed (CANCEL during setup).
    private let table = NIOLockedValueBox(Table())
    private struct Table {
        var sessions: [String: PhoneSession] = [:]
        var endedEarly: Set<String> = []
        /// Conference rooms with owner rules: callers who got in with a PIN (Call-IDs), waiting callers, and how
        /// many owners are seated. Under the table's lock so that an owner arriving never misses a caller who is
        /// just starting to wait.
        var conferenceCallers: [String: Set<String>] = [:]
        var waiting: [String: Set<String>] = [:]
        var owners: [String: Int] = [:]
    }
    let closer: ConferenceCloser?

    public init(sip: SIPConfiguration, settings: DialInSettings, sfu: SFUService, pins: PinDirectory, rooms: PhoneRooms,
                closer: ConferenceCloser? = nil, eventLoopGroup: EventLoopGroup,
                logger: Logger = Logger(label: "rooms.dialin")) throws {
        self.closer = closer
        self.settings = settings
        self.sfu = sfu
        self.pins = pins
        self.rooms = rooms
        self.logger = logger
        prompts = try PromptLibrary()
        ua = SIPUserAgent(configuration: sip, eventLoopGroup: eventLoopGroup, logger: Logger(label: "rooms.sip"))
        ua.delegate = self
    }

    public func start() async throws { try await ua.start() }

    public func stop() async {
        for session in table.withLockedValue({ Array($0.sessions.values) }) { session.call.hangup() }
        await ua.stop()
    }

    public var activeCallCount: Int { table.withLockedValue { $0.sessions.count } }

    /// Counters for /api/v1/stats and the benchmark: calls, bridges, mixing time.
    public func statistics() async -> DialInStatistics {
        var stats = DialInStatistics()
        stats.calls = activeCallCount
        for bridge in await bridges.all() {
            let (phones, busy, ticks) = (try? await bridge.eventLoop.submit { (bridge.phoneCount, bridge.busyNanoseconds, bridge.ticks) }.get()) ?? (0, 0, 0)
            stats.bridges += 1
            stats.phonesInRooms += phones
            stats.mixNanoseconds += busy
            stats.mixTicks += ticks
        }
        return stats
    }

    // MARK: - SIP events (on the UA's loop)

    public func sipUserAgent(_ ua: SIPUserAgent, incomingCall call: SIPCall) {
        let offer: PhoneOffer?
        if let sdp = call.offer {
            guard let parsed = try? PhoneSDP.parse(String(decoding: sdp, as: UTF8.self)) else {
                logger.notice("call \(call.callID): no usable audio in the offer")
                return call.reject(status: 488, reason: "Not Acceptable Here")
            }
            offer = parsed
        } else {
            offer = nil // late offer: we offer, the phone answers in the ACK
        }
        let name = Self.displayName(call)
        Task { await self.setUp(call, offer: offer, name: name) }
    }

    private func setUp(_ call: SIPCall, offer: PhoneOffer?, name: String) async {
        let loop = sfu.eventLoopGroup.next()
        let format = offer?.format ?? PhoneMediaFormat(codec: .pcmu, payloadType: 0, telephoneEventPayloadType: 101)
        let remote = offer.flatMap { o in o.host.flatMap { try? SocketAddress.makeAddressResolvingHost($0, port: o.port) } }
        var callLogger = logger
        callLogger[metadataKey: "call-id"] = "\(call.callID)"
        let leg: PhoneLeg
        do {
            leg = try await PhoneLeg.open(id: call.callID, on: loop, host: settings.rtpHost, ports: settings.rtpPorts,
                                          format: format, remote: remote, logger: callLogger)
        } catch {
            callLogger.error("no RTP port: \(error)")
            return call.reject(status: 503, reason: "Service Unavailable")
        }
        let session = PhoneSession(call: call, leg: leg, displayName: name, service: self, logger: callLogger)
        let endedEarly = table.withLockedValue { t -> Bool in
            if t.endedEarly.remove(call.callID) != nil { return true }
            t.sessions[call.callID] = session
            return false
        }
        if endedEarly { return leg.eventLoop.execute { leg.close() } }
        let version = UInt64(Date().timeIntervalSince1970)
        let sdp = offer.map { PhoneSDP.answer(to: $0, host: settings.announcedHost, port: leg.localPort, sessionID: version, version: 1) }
            ?? PhoneSDP.offer(host: settings.announcedHost, port: leg.localPort, sessionID: version, version: 1)
        call.answer(sdp: Array(sdp.utf8))
        callLogger.info("call from \(name) answered with \(format.codec.rawValue)")
        leg.eventLoop.execute { session.start() }
    }

    public func sipCall(_ call: SIPCall, didReceiveReoffer sdp: [UInt8]) -> [UInt8]? {
        guard let session = session(call.callID), let offer = try? PhoneSDP.parse(String(decoding: sdp, as: UTF8.self)) else {
            return nil
        }
        let leg = session.leg
        leg.eventLoop.execute {
            try? leg.reconfigure(offer.format)
            leg.onHold = offer.direction == .sendonly || offer.direction == .inactive
            leg.update(remote: offer.host.flatMap { try? SocketAddress.makeAddressResolvingHost($0, port: offer.port) })
        }
        let version = UInt64(Date().timeIntervalSince1970)
        return Array(PhoneSDP.answer(to: offer, host: settings.announcedHost, port: leg.localPort, sessionID: version, version: version).utf8)
    }

    public func sipCall(_ call: SIPCall, didReceiveAckAnswer sdp: [UInt8]) {
        guard let session = session(call.callID), let answer = try? PhoneSDP.parse(String(decoding: sdp, as: UTF8.self)) else { return }
        let leg = session.leg
        leg.eventLoop.execute {
            try? leg.reconfigure(answer.format)
            leg.update(remote: answer.host.flatMap { try? SocketAddress.makeAddressResolvingHost($0, port: answer.port) })
        }
    }

    public func sipCall(_ call: SIPCall, didReceiveInfoDigit digit: Character, durationMs: Int) {
        guard let session = session(call.callID) else { return }
        session.eventLoop.execute { session.press(digit) }
    }

    public func sipCallDidEnd(_ call: SIPCall, reason: SIPCallEndReason) {
        let session = table.withLockedValue { t -> PhoneSession? in
            if let s = t.sessions.removeValue(forKey: call.callID) { return s }
            t.endedEarly.insert(call.callID)
            return nil
        }
        logger.info("call \(call.callID) ended: \(reason)")
        guard let session else { return }
        session.eventLoop.execute { session.end() }
    }

    public func sipUserAgent(_ ua: SIPUserAgent, registrationStateDidChange state: SIPRegistrationState) {
        logger.notice("SIP registration: \(state)")
    }

    private func session(_ callID: String) -> PhoneSession? { table.withLockedValue { $0.sessions[callID] } }

    // MARK: - Owner rules

    func enterConference(_ session: PhoneSession, room: String) {
        table.withLockedValue { _ = $0.conferenceCallers[room, default: []].insert(session.call.callID) }
    }

    func leaveConference(_ session: PhoneSession, room: String) {
        table.withLockedValue { t in
            t.conferenceCallers[room]?.remove(session.call.callID)
            if t.conferenceCallers[room]?.isEmpty == true { t.conferenceCallers[room] = nil }
            t.waiting[room]?.remove(session.call.callID)
            if t.waiting[room]?.isEmpty == true { t.waiting[room] = nil }
        }
    }

    /// True when an owner is in `room`; otherwise the caller is put on the waiting list (woken by `ownerSeated`).
    func admitOrWait(_ session: PhoneSession, room: String) -> Bool {
        table.withLockedValue { t in
            if t.owners[room, default: 0] > 0 { return true }
            t.waiting[room, default: []].insert(session.call.callID)
            return false
        }
    }

    func ownerSeated(room: String) {
        let woken = table.withLockedValue { t -> [PhoneSession] in
            t.owners[room, default: 0] += 1
            return (t.waiting.removeValue(forKey: room) ?? []).compactMap { t.sessions[$0] }
        }
        logger.info("owner in room \(room): \(woken.count) waiting caller(s) join")
        for session in woken { session.eventLoop.execute { session.ownerArrived() } }
    }

    /// The owner `session` left `room`. With `endWhenOwnerLeaves` and no owner left, every other caller of the
    /// conference hears the goodbye and is hung up, and the schedule deletes the conference.
    func ownerLeft(_ session: PhoneSession, room: String, rules: OwnerRules) {
        let others = table.withLockedValue { t -> [PhoneSession]? in
            let remaining = max(0, t.owners[room, default: 1] - 1)
            t.owners[room] = remaining == 0 ? nil : remaining
            guard remaining == 0, rules.endWhenOwnerLeaves else { return nil }
            t.waiting[room] = nil
            return (t.conferenceCallers[room] ?? []).filter { $0 != session.call.callID }.compactMap { t.sessions[$0] }
        }
        guard let others else { return }
        logger.info("the owner left conference \(rules.conferenceID): ending it for \(others.count) caller(s)")
        for other in others { other.eventLoop.execute { other.conferenceEnded() } }
        if let closer { Task { await closer.ownerLeft(conferenceID: rules.conferenceID) } }
    }

    // MARK: - Rooms

    /// Seats the phone: a participant of the room, its voice a track of the room, its ears on the room's bridge.
    func seat(for session: PhoneSession, room: String) async throws -> (PhoneSeat, RoomBridge, DirectTransport) {
        let avatar = try? PNGCodec.encode(Avatar.render(name: session.displayName, size: 128))
        let seat = try await rooms.enter(room: room, displayName: session.displayName, avatarPNG: avatar) { [weak session] in
            session?.eventLoop.execute { session?.roomEnded() }
        }
        do {
            let bridge = try await bridges.acquire(seat.mediaRoom) { [sfu, logger] in
                RoomBridge(room: seat.mediaRoom, tap: try await sfu.attachAudioTap(room: seat.mediaRoom), logger: logger)
            }
            guard bridge.eventLoop === session.leg.eventLoop else {
                // Not reached with the SFU's single media loop; a multi-loop SFU needs legs bound on the room's loop.
                _ = await bridges.release(seat.mediaRoom)
                throw DialInError.loopMismatch
            }
            let ssrc = UInt32.random(in: 1 ... .max), videoSSRC = UInt32.random(in: 1 ... .max)
            let base = "phone-" + session.call.callID.prefix(12).filter { $0.isLetter || $0.isNumber }
            let stream = "\(base)-stream"
            let tracks = [PhonePublisher.track(ssrc: ssrc, streamID: stream, trackID: base + "-audio"),
                          PhoneVideoPublisher.track(ssrc: videoSSRC, streamID: stream, trackID: base + "-video")]
            let (transport, _) = try await sfu.attachDirect(room: seat.mediaRoom, tracks: tracks)
            let publisher = try PhonePublisher(transport: transport, ssrc: ssrc, trackID: base + "-audio")
            let video = try PhoneVideoPublisher(transport: transport, ssrc: videoSSRC, name: session.displayName)
            try await bridge.eventLoop.submit {
                bridge.add(session.leg, publisher: publisher)
                video.start()
            }.get()
            await seat.publish(transportID: transport.id, tracks: [PhoneTrack(kind: "audio", trackID: base + "-audio", mid: "0"),
                                                                   PhoneTrack(kind: "video", trackID: base + "-video", mid: "1")])
            return (seat, bridge, transport)
        } catch {
            await seat.leave()
            throw error
        }
    }

    /// Undoes `seat(for:room:)` (any part of it that happened).
    func release(seat: PhoneSeat?, bridge: RoomBridge?, transport: DirectTransport?, leg: PhoneLeg?) async {
        if let bridge {
            try? await bridge.eventLoop.submit {
                if let leg { bridge.remove(leg) }
                transport?.close()
            }.get()
            if let emptied = await bridges.release(bridge.room) {
                try? await emptied.eventLoop.submit { emptied.close() }.get()
            }
        } else if let transport {
            try? await transport.eventLoop.submit { transport.close() }.get()
        }
        if let leg { try? await leg.eventLoop.submit { leg.close() }.get() }
        await seat?.leave()
    }

    /// The name the room shows: the caller's display name, else the number with its middle masked.
    static func displayName(_ call: SIPCall) -> String {
        if let name = call.remoteDisplayName?.trimmingCharacters(in: .whitespaces), !name.isEmpty,
           !name.allSatisfy({ $0.isNumber || $0 == "+" }) {
            return name
        }
        return "Phone " + maskedNumber(call.remoteUser ?? "")
    }

    /// "+4917012345678" → "+49•••••••5678": enough to recognise a colleague, not enough to copy the number.
    static func maskedNumber(_ number: String) -> String {
        let characters = Array(number)
        guard characters.count > 6 else { return characters.isEmpty ? "unknown" : number }
        let keepStart = characters.first == "+" ? 3 : 2, keepEnd = 4
        return String(characters.prefix(keepStart)) + String(repeating: "•", count: characters.count - keepStart - keepEnd)
            + String(characters.suffix(keepEnd))
    }
}

public enum DialInError: Error { case loopMismatch }

public struct DialInStatistics: Sendable, Equatable {
    public var calls = 0
    public var bridges = 0
    public var phonesInRooms = 0
    public var mixNanoseconds: UInt64 = 0
    public var mixTicks = 0
}

/// One bridge per room, created once even when two phones arrive together, closed when its last phone leaves.
actor BridgeRegistry {
    private var bridges: [String: Task<RoomBridge, Error>] = [:]
    private var users: [String: Int] = [:]

    func acquire(_ room: String, make: @escaping @Sendable () async throws -> RoomBridge) async throws -> RoomBridge {
        let task: Task<RoomBridge, Error>
        if let existing = bridges[room] { task = existing } else { task = Task { try await make() }; bridges[room] = task }
        users[room, default: 0] += 1
        do { return try await task.value } catch {
            _ = await release(room)
            throw error
        }
    }

    /// The bridge to close when its last user is gone.
    func release(_ room: String) async -> RoomBridge? {
        users[room, default: 1] -= 1
        guard users[room] == 0 else { return nil }
        users[room] = nil
        guard let task = bridges.removeValue(forKey: room) else { return nil }
        return try? await task.value
    }

    func all() async -> [RoomBridge] {
        var list: [RoomBridge] = []
        for task in bridges.values { if let b = try? await task.value { list.append(b) } }
        return list
    }
}
