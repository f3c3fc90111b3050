import Foundation

/// One connected channeling session. Its connection task is the only writer of most fields; the lock exists
/// because rooms, REST calls and other sessions read them. It is never held across I/O (`send` only enqueues).
final class Session: @unchecked Sendable {
    let id: String
    let sid: String
    let connection: ChannelingConnection
    let connectedAt = Date()
    private let lock = NSLock()

    private var _userid: String
    private var _rev: Int
    private var _ua = ""
    private var _status: JSON? = nil
    private var _roomId: String? = nil
    private var _nonce: String? = nil
    private var _attestation: (value: String, minted: Date)? = nil
    private var _authenticatedAt: Date? = nil
    /// Ids of sessions that looked this one up as a contact: they get its `Left` hard.
    private var _subscribers: Set<String> = []

    init(id: String, sid: String, userid: String, connection: ChannelingConnection) {
        self.id = id
        self.sid = sid
        self._userid = userid
        self._rev = userid.isEmpty ? 0 : 1
        self._authenticatedAt = userid.isEmpty ? nil : Date()
        self.connection = connection
    }

    private func locked<T>(_ body: () -> T) -> T {
        lock.lock(); defer { lock.unlock() }
        return body()
    }

    var userid: String { locked { _userid } }
    var rev: Int { locked { _rev } }
    var roomId: String? {
        get { locked { _roomId } }
        set { locked { _roomId = newValue } }
    }
    var nonce: String? {
        get { locked { _nonce } }
        set { locked { _nonce = newValue } }
    }
    var authenticatedAt: Date? { locked { _authenticatedAt } }

    func setUa(_ ua: String) { locked { _ua = ua; _rev += 1 } }
    func setStatus(_ status: JSON?) { locked { _status = status; _rev += 1 } }
    func authenticate(_ userid: String) { locked { _userid = userid; _rev += 1; _nonce = nil; _authenticatedAt = Date() } }

    func subscribe(_ id: String) { locked { _ = _subscribers.insert(id) } }
    var subscribers: Set<String> { locked { _subscribers } }
    func takeSubscribers(from other: Session) { let s = other.subscribers; locked { _subscribers.formUnion(s) } }

    /// The attestation `A`, re-minted when older than 180 s so a received one stays usable ≥ 120 s.
    func attestation(_ codec: SessionCodec) -> String {
        locked {
            if let a = _attestation, Date().timeIntervalSince(a.minted) < 180 { return a.value }
            let value = codec.attestation(id: id)
            _attestation = (value, Date())
            return value
        }
    }

    func document(type: String, withRev: Bool = true) -> SessionDocument {
        locked {
            SessionDocument(Type: type, Id: id, Userid: _userid, Ua: type == "Status" ? nil : _ua,
                            Rev: withRev ? _rev : nil, Status: _status)
        }
    }
}
