import BuddyImages
import Crypto
import Foundation
import Logging
import Users

/// One WebSocket as the hub sees it: frames go out through `send` (a bounded queue owned by the transport),
/// `close` ends it. The hub never waits on a connection.
public protocol ChannelingConnection: AnyObject, Sendable {
    func send(_ frame: String)
    func close(code: UInt16, reason: String)
}

public struct HubSettings: Sendable {
    public var version: String
    public var realm: String
    public var stunURIs: [String]
    public var turnURIs: [String]
    public var turnSecret: [UInt8]
    public var encryptionSecret: [UInt8]
    public var usersEnabled: Bool
    public var defaultRoomEnabled = true
    public var authorizeRoomJoin = false
    public var authorizeRoomCreation = false
    public var globalRoom = ""
    public var contactsEnabled = true
    /// `[roomtypes]`: the configured type for a room name (`Room` unless a pattern says `Conference`).
    public var roomType: @Sendable (String) -> String = { _ in "Room" }
    public var roomExpiry: TimeInterval = 60
    /// How long a session replaced by a resume may take to rejoin its room before the others see it leave.
    public var resumeGrace: TimeInterval = 3

    public init(version: String, realm: String, stunURIs: [String], turnURIs: [String], turnSecret: [UInt8],
                encryptionSecret: [UInt8], usersEnabled: Bool) {
        self.version = version
        self.realm = realm
        self.stunURIs = stunURIs
        self.turnURIs = turnURIs
        self.turnSecret = turnSecret
        self.encryptionSecret = encryptionSecret
        self.usersEnabled = usersEnabled
    }
}

/// The channeling hub: who is connected (by Id), which rooms exist, and the message handlers.
/// Messages of one session are handled in order on its connection's task; rooms are actors; the registry maps are
/// guarded by one lock that is held only for dictionary access, never across I/O or an `await`.
public final class Hub: @unchecked Sendable {
    let settings: HubSettings
    public let codec: SessionCodec
    let nonces: NonceIssuer
    let logger: Logger
    public let images: BuddyImageStore

    private let lock = NSLock()
    private var sessions: [String: Session] = [:]
    private var rooms: [String: Room] = [:]
    /// SFU state (Media/Hub+Media.swift): room id → session Id → its publication; session Id → subscriber transport.
    var publications: [String: [String: Publication]] = [:]
    var subscriberTransports: [String: (room: String, transportID: String)] = [:]
    /// SfuLayer wishes by session and track, re-applied to each new subscriber connection of the session.
    var layerPreferences: [String: [String: Hub.LayerPayload]] = [:]
    /// The SFU, or nil when it is disabled (SFU messages then get `sfu_unavailable`).
    public let media: RoomMedia?
    private var acceptedCount = 0
    private var broadcastChats = 0
    private var unicastChats = 0

    public init(settings: HubSettings, codec: SessionCodec, nonces: NonceIssuer, logger: Logger,
                images: BuddyImageStore = BuddyImageStore(), media: RoomMedia? = nil) {
        self.media = media
        self.settings = settings
        self.codec = codec
        self.nonces = nonces
        self.logger = logger
        self.images = images
    }

    func locked<T>(_ body: () -> T) -> T {
        lock.lock(); defer { lock.unlock() }
        return body()
    }

    func session(_ id: String) -> Session? { locked { sessions[id] } }
    func room(_ id: String) -> Room? { locked { rooms[id] } }

    /// All sessions of a user, in the order they authenticated.
    func sessions(ofUser userid: String) -> [Session] {
        let list: [Session] = locked { sessions.values.filter { $0.userid == userid } }
        return list.sorted { ($0.authenticatedAt ?? .distantPast) < ($1.authenticatedAt ?? .distantPast) }
    }
    var allRooms: [Room] { locked { Array(rooms.values) } }

    /// The room for `id`, created by `make` when absent (creation and lookup under one lock).
    func room(_ id: String, orCreate make: () -> Room?) -> (room: Room, created: Bool)? {
        locked {
            if let r = rooms[id] { return (r, false) }
            guard let r = make() else { return nil }
            rooms[id] = r
            return (r, true)
        }
    }

    func countChat(broadcast: Bool) { locked { if broadcast { broadcastChats += 1 } else { unicastChats += 1 } } }

    // MARK: connection lifecycle

    /// Registers a new connection (channeling-api §4) and sends its `Self`. Returns the session handle.
    /// `token` is the `t` query value; `headerUserid` the user id from the upgrade request (httpheader/certificate).
    public func connect(_ connection: ChannelingConnection, token: String?, headerUserid: String?) async -> SessionHandle {
        var id: String, sid: String, userid = ""
        if let token, let value = codec.decodeToken(token), codec.validate(id: value.id, sid: value.sid) {
            (id, sid, userid) = (value.id, value.sid, value.userid)
        } else {
            sid = SessionCodec.newSid()
            id = codec.id(forSid: sid)
        }
        if !settings.usersEnabled {
            userid = ""
        } else if let headerUserid, !headerUserid.isEmpty {
            userid = headerUserid
        }
        let session = Session(id: id, sid: sid, userid: userid, connection: connection)
        let old: Session? = locked {
            acceptedCount += 1
            let old = sessions[id]
            sessions[id] = session
            return old
        }
        if let old {
            // Resume while the old socket is open: the new connection takes over, the old one closes without a
            // `Left`. The original left the old entry in its room as a ghost; it is removed here.
            session.takeSubscribers(from: old)
            old.connection.close(code: 1000, reason: "replaced")
            if let roomId = old.roomId, let room = room(roomId) {
                await room.leave(old)
                scheduleLeftIfNotRejoined(id: id, room: room, session: old)
            }
        }
        sendSelf(session, iid: nil)
        return SessionHandle(session: session)
    }

    private func scheduleLeftIfNotRejoined(id: String, room: Room, session: Session) {
        let grace = settings.resumeGrace
        Task {
            try? await Task.sleep(nanoseconds: UInt64(grace * 1_000_000_000))
            guard await !room.contains(id: id) else { return }
            await room.broadcast(Wire.frame(LeftDocument(Id: id, Status: "soft"), from: id, a: session.attestation(codec)), except: id)
        }
    }

    /// Called when a connection ends. A session replaced by a newer connection is already gone and left alone.
    public func disconnect(_ handle: SessionHandle) async {
        let session = handle.session
        let current = locked { () -> Bool in
            guard sessions[session.id] === session else { return false }
            sessions[session.id] = nil
            return true
        }
        guard current else { return }
        let left = Wire.frame(LeftDocument(Id: session.id, Status: "hard"), from: session.id, a: session.attestation(codec))
        if let roomId = session.roomId, let room = room(roomId) {
            await room.leave(session)
            await broadcast(left, from: session, in: room)
            await endMedia(of: session, roomId: roomId)
        }
        for subscriber in session.subscribers {
            self.session(subscriber)?.connection.send(left)
        }
        images.remove(session: session.id)
    }

    /// Deletes rooms that have been empty for `roomExpiry` (the original's 60 s room timer). Run periodically.
    public func sweepRooms(now: Date = Date()) async {
        for room in allRooms where await room.expired(now: now, after: settings.roomExpiry) {
            locked {
                if rooms[room.id] === room { rooms[room.id] = nil }
            }
        }
    }

    // MARK: sending

    func send<D: Encodable>(_ session: Session, _ doc: D, iid: String?) {
        session.connection.send(Wire.frame(doc, from: session.id, iid: iid))
    }

    func sendError(_ session: Session, _ code: String, _ message: String, iid: String?) {
        send(session, ErrorDocument(Code: code, Message: message), iid: iid)
    }

    func sendSelf(_ session: Session, iid: String?) {
        let userid = session.userid
        let doc = SelfDocument(
            Id: session.id, Sid: session.sid, Userid: userid,
            Suserid: suserid(userid: userid, encryptionSecret: settings.encryptionSecret),
            Token: codec.token(.init(id: session.id, sid: session.sid, userid: userid)),
            Version: settings.version, Turn: turnCredentials(id: session.id), Stun: settings.stunURIs)
        send(session, doc, iid: iid)
    }

    /// A room broadcast; from a global-room member it reaches every room (channeling-api §5).
    func broadcast(_ frame: String, from session: Session, in room: Room) async {
        if !settings.globalRoom.isEmpty, room.id == globalRoomId {
            for r in allRooms { await r.broadcast(frame, except: session.id) }
        } else {
            await room.broadcast(frame, except: session.id)
        }
    }

    var globalRoomId: String { "\(settings.roomType(settings.globalRoom)):\(settings.globalRoom)" }

    /// TURN REST credentials (coturn `use-auth-secret`); 64-bit expiry (the original's 32-bit one breaks in 2038).
    func turnCredentials(id: String, now: Date = Date()) -> TurnDocument {
        guard !settings.turnSecret.isEmpty else { return TurnDocument(username: "", password: "", ttl: 0, urls: nil) }
        let expiry = Int64(now.timeIntervalSince1970) + 3600
        let username = "\(expiry):\(Data(SHA256.hash(data: Array(id.utf8))).base64EncodedString())"
        let password = Data(HMAC<Insecure.SHA1>.authenticationCode(for: Array(username.utf8), using: SymmetricKey(data: settings.turnSecret))).base64EncodedString()
        return TurnDocument(username: username, password: password, ttl: 3600, urls: settings.turnURIs)
    }

    // MARK: REST entry points (rest-api §7.4, §7.5)

    public enum NonceFailure: Error { case notConnected, alreadyAuthenticated }

    /// Issues a nonce for a connected, unauthenticated session (the caller checked the `(id, sid)` pair and the
    /// mode's proof). Only the most recent nonce of a session is accepted.
    public func issueNonce(id: String, sid: String, userid: String) throws -> String {
        guard let s = session(id), s.sid == sid else { throw NonceFailure.notConnected }
        guard s.userid.isEmpty else { throw NonceFailure.alreadyAuthenticated }
        let nonce = nonces.issue(sid: sid, userid: userid, now: Date())
        s.nonce = nonce
        return nonce
    }

    // MARK: stats

    public struct Counters: Sendable {
        public var connections = 0
        public var sessions = 0
        public var users = 0
        public var count = 0
        public var rooms = 0
        public var broadcastChatMessages = 0
        public var unicastChatMessages = 0
    }

    public func counters() -> Counters {
        locked {
            var c = Counters()
            c.connections = sessions.count
            c.sessions = sessions.count
            c.users = Set(sessions.values.map(\.userid).filter { !$0.isEmpty }).count
            c.count = acceptedCount
            c.rooms = rooms.count
            c.broadcastChatMessages = broadcastChats
            c.unicastChatMessages = unicastChats
            return c
        }
    }

    public struct SessionSnapshot: Sendable {
        public var id: String
        public var userid: String
        public var rev: Int
    }

    public struct Snapshot: Sendable {
        public var sessions: [SessionSnapshot]
        public var users: [String: [String]]
        public var idsInRoom: [String: [String]]
    }

    public func snapshot() async -> Snapshot {
        let (list, roomList) = locked { (sessions.values.sorted { $0.connectedAt < $1.connectedAt }, Array(rooms.values)) }
        var users: [String: [String]] = [:]
        let snaps = list.map { s -> SessionSnapshot in
            let u = s.userid
            if !u.isEmpty { users[u, default: []].append(s.id) }
            return SessionSnapshot(id: s.id, userid: u, rev: s.rev)
        }
        var idsInRoom: [String: [String]] = [:]
        for r in roomList { idsInRoom[r.id] = await r.memberIds }
        return Snapshot(sessions: snaps, users: users, idsInRoom: idsInRoom)
    }
}

/// What the transport holds for its connection: an opaque handle to the session.
public struct SessionHandle: Sendable {
    let session: Session
    public var id: String { session.id }
}
