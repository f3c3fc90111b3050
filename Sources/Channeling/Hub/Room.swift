import Foundation

/// One room: its members, PIN and activity clock. An actor, so each room has one owner and rooms never contend.
actor Room {
    let id: String
    let name: String
    let type: String
    private(set) var pin: String?
    private var members: [String: Session] = [:]
    private var order: [String] = []
    private(set) var lastActivity = Date()
    static let userListCap = 5000

    init(id: String, name: String, type: String, pin: String?) {
        self.id = id
        self.name = name
        self.type = type
        self.pin = pin
    }

    enum JoinError: String, Error {
        case authorizationNotRequired = "authorization_not_required"
        case authorizationRequired = "authorization_required"
        case invalidCredentials = "invalid_credentials"
    }

    /// The PIN check of channeling-api §5 step 5, then membership; `joined` goes to the other members in the same
    /// step, so a session joining right after sees this one either in its Welcome or as Joined, never both.
    /// Returns the member list for the Welcome.
    func join(_ session: Session, credentials: Incoming.Credentials?, joined: String) throws(JoinError) -> [SessionDocument] {
        lastActivity = Date()
        if let pin {
            guard let credentials else { throw .authorizationRequired }
            let given = Array((credentials.PIN ?? "").utf8)
            guard constantTimeEqual(given, Array(pin.utf8)) else { throw .invalidCredentials }
        } else if credentials != nil {
            throw .authorizationNotRequired
        }
        if members[session.id] == nil { order.append(session.id) }
        members[session.id] = session
        broadcast(joined, except: session.id)
        return list()
    }

    /// Removes a member; only the given session object (a resumed session has a new one under the same Id).
    @discardableResult
    func leave(_ session: Session) -> Bool {
        lastActivity = Date()
        guard let current = members[session.id], current === session else { return false }
        members[session.id] = nil
        order.removeAll { $0 == session.id }
        return true
    }

    func contains(id: String) -> Bool { members[id] != nil }

    var isEmpty: Bool { members.isEmpty }
    var memberIds: [String] { order }
    var count: Int { members.count }

    func list() -> [SessionDocument] {
        lastActivity = Date()
        return order.prefix(Self.userListCap).compactMap { members[$0]?.document(type: "Online") }
    }

    /// Sends an already-encoded frame to every member but `except`. Encoding happens once per broadcast.
    func broadcast(_ frame: String, except: String?) {
        lastActivity = Date()
        for id in order where id != except {
            members[id]?.connection.send(frame)
        }
    }

    /// Sets (non-empty) or removes (empty) the PIN; nil credentials leave it unchanged.
    func update(credentials: Incoming.Credentials?) {
        lastActivity = Date()
        guard let credentials else { return }
        if let p = credentials.PIN, !p.isEmpty { pin = p } else { pin = nil }
    }

    func expired(now: Date, after: TimeInterval) -> Bool {
        members.isEmpty && now.timeIntervalSince(lastActivity) >= after
    }
}
