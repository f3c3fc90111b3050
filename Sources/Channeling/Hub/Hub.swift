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

/// The registry of connected sessions: one owner (this actor) for who is connected, their user ids and nonces.
/// Rooms are separate actors (one owner per room) so that messages of different rooms never contend here.
public actor Hub {
    final class Session {
        let id: String
        let sid: String
        var userid: String
        var nonce: String?
        var rev: Int
        let connection: ChannelingConnection
        let connectedAt = Date()

        init(id: String, sid: String, userid: String, connection: ChannelingConnection) {
            self.id = id
            self.sid = sid
            self.userid = userid
            self.rev = userid.isEmpty ? 0 : 1
            self.connection = connection
        }
    }

    public struct Counters: Sendable {
        public var connections = 0
        public var sessions = 0
        public var users = 0
        public var count = 0
        public var rooms = 0
        public var broadcastChatMessages = 0
        public var unicastChatMessages = 0
    }

    private var sessions: [String: Session] = [:]
    private var acceptedCount = 0
    private let settings: HubSettings
    public nonisolated let codec: SessionCodec
    private let nonces: NonceIssuer
    private let logger: Logger

    public init(settings: HubSettings, codec: SessionCodec, nonces: NonceIssuer, logger: Logger) {
        self.settings = settings
        self.codec = codec
        self.nonces = nonces
        self.logger = logger
    }

    // MARK: connection lifecycle

    /// Registers a new connection (channeling-api §4) and sends its `Self`. Returns the session Id.
    /// `token` is the `t` query value; `headerUserid` the user id from the upgrade request (httpheader/certificate).
    public func connect(_ connection: ChannelingConnection, token: String?, headerUserid: String?) -> String {
        acceptedCount += 1
        var id: String, sid: String, userid = ""
        if let token, let value = codec.decodeToken(token), codec.validate(id: value.id, sid: value.sid) {
            id = value.id
            sid = value.sid
            userid = value.userid
        } else {
            sid = SessionCodec.newSid()
            id = codec.id(forSid: sid)
        }
        if !settings.usersEnabled {
            userid = ""
        } else if let headerUserid, !headerUserid.isEmpty {
            userid = headerUserid
        }
        if let old = sessions[id] {
            // Resume while the old socket is open: the new connection takes over; no `Left` for the old one.
            old.connection.close(code: 1000, reason: "replaced")
        }
        let session = Session(id: id, sid: sid, userid: userid, connection: connection)
        sessions[id] = session
        sendSelf(session, iid: nil)
        return id
    }

    /// Called when a connection ends; ignored if the session was already taken over by a newer connection.
    public func disconnect(id: String, connection: ChannelingConnection) {
        guard let s = sessions[id], s.connection === connection else { return }
        sessions[id] = nil
    }

    // MARK: incoming messages

    /// Handles one text frame of session `id`. Invalid JSON, wrong field types and unknown types are dropped.
    public func receive(id: String, text: String) {
        guard let session = sessions[id], let data = text.data(using: .utf8) else { return }
        guard let message = try? JSONDecoder().decode(Incoming.self, from: data) else { return }
        let iid = message.Iid
        switch message.Type {
        case "Self":
            sendSelf(session, iid: iid)
        case "Alive":
            guard let alive = message.Alive else { return }
            session.connection.send(Wire.frame(alive, from: session.id, iid: iid))
        case "Authentication":
            authenticate(session, message.Authentication?.payload, iid: iid)
        default:
            return
        }
    }

    private func authenticate(_ session: Session, _ auth: Incoming.AuthenticationPayload?, iid: String?) {
        guard let auth else { return sendError(session, "bad_request", "message did not contain Authentication", iid: iid) }
        guard session.userid.isEmpty else {
            return sendError(session, "already_authenticated", "this session is already authenticated", iid: iid)
        }
        guard let stored = session.nonce, let nonce = auth.Nonce, constantTimeEqual(Array(stored.utf8), Array(nonce.utf8)),
              let userid = nonces.validate(nonce: nonce, sid: session.sid, now: Date()), userid == auth.Userid else {
            return sendError(session, "invalid_session_token", "nonce validation failed", iid: iid)
        }
        session.nonce = nil
        session.userid = userid
        session.rev += 1
        sendSelf(session, iid: iid)
    }

    private func sendError(_ session: Session, _ code: String, _ message: String, iid: String?) {
        session.connection.send(Wire.frame(ErrorDocument(Code: code, Message: message), from: session.id, iid: iid))
    }

    private func sendSelf(_ session: Session, iid: String?) {
        let doc = SelfDocument(
            Id: session.id, Sid: session.sid, Userid: session.userid,
            Suserid: suserid(userid: session.userid, encryptionSecret: settings.encryptionSecret),
            Token: codec.token(.init(id: session.id, sid: session.sid, userid: session.userid)),
            Version: settings.version, Turn: turnCredentials(id: session.id), Stun: settings.stunURIs)
        session.connection.send(Wire.frame(doc, from: session.id, iid: iid))
    }

    /// TURN REST credentials (coturn `use-auth-secret`); 64-bit expiry (the original's 32-bit one breaks in 2038).
    nonisolated func turnCredentials(id: String, now: Date = Date()) -> TurnDocument {
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
        guard let s = sessions[id], s.sid == sid else { throw NonceFailure.notConnected }
        guard s.userid.isEmpty else { throw NonceFailure.alreadyAuthenticated }
        let nonce = nonces.issue(sid: sid, userid: userid, now: Date())
        s.nonce = nonce
        return nonce
    }

    public func counters() -> Counters {
        var c = Counters()
        c.connections = sessions.count
        c.sessions = sessions.count
        c.users = Set(sessions.values.map(\.userid).filter { !$0.isEmpty }).count
        c.count = acceptedCount
        return c
    }

    public struct SessionSnapshot: Sendable, Encodable {
        public var `Type` = ""
        public var Id: String
        public var Userid: String?
        public var Rev: Int?
        public var Prio = 100
    }

    public func snapshot() -> (sessions: [SessionSnapshot], users: [String: [String]]) {
        var users: [String: [String]] = [:]
        let list = sessions.values.sorted { $0.connectedAt < $1.connectedAt }.map { s -> SessionSnapshot in
            if !s.userid.isEmpty { users[s.userid, default: []].append(s.id) }
            return SessionSnapshot(Id: s.id, Userid: s.userid.isEmpty ? nil : s.userid, Rev: s.rev == 0 ? nil : s.rev)
        }
        return (list, users)
    }
}

/// Incoming envelope: only the keys the protocol reads; a wrong JSON type anywhere makes decoding fail (dropped).
struct Incoming: Decodable {
    var `Type`: String
    var Iid: String?
    var Alive: AliveDocument?
    var Authentication: AuthenticationEnvelope?

    /// The original client nests the payload (`{"Type":"Authentication","Authentication":{Userid,Nonce}}`);
    /// bots often send `Userid`/`Nonce` directly: both are accepted.
    struct AuthenticationEnvelope: Decodable {
        var Authentication: AuthenticationPayload?
        var Userid: String?
        var Nonce: String?
        var payload: AuthenticationPayload? {
            Authentication ?? ((Userid != nil || Nonce != nil) ? AuthenticationPayload(Userid: Userid, Nonce: Nonce) : nil)
        }
    }

    struct AuthenticationPayload: Decodable {
        var Userid: String?
        var Nonce: String?
    }
}
