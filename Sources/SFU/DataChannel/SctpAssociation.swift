// One SCTP association (RFC 9260 via usrsctp, RFC 8261 encapsulation) inside a transport's DTLS association: the
// carrier of WebRTC data channels. usrsctp runs in AF_CONN mode: packets come in through `receive(_:)` (the DTLS
// application data) and leave through `onPacket` (to be DTLS-encrypted); usrsctp never touches a socket.
//
// Threading: an association is confined to its transport's event loop. usrsctp is one stack per process with locks
// of its own; its timers run on `UsrSctpStack`'s thread, so a retransmission may be produced there: the output
// callback only queues the packet under a lock and asks the owning loop to flush. Nothing here blocks, and no
// usrsctp call is ever made from inside a usrsctp callback.

import CUSRSCTP
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

public enum SctpError: Error, Equatable, Sendable {
    case socket(String, errno: Int32)
    case closed
}

/// What sending one message did.
public enum SctpSendResult: Sendable, Equatable {
    case sent
    /// The association's send buffer is full (the peer reads too slowly): the message was dropped.
    case bufferFull
    case notConnected
}

final class SctpAssociation {
    enum State: Equatable { case connecting, connected, closed }

    /// Both ends use 5000 unless the SDP says otherwise (RFC 8841 §5: a=sctp-port).
    static let defaultPort: UInt16 = 5000
    /// Path MTU for SCTP packets: 1200-byte DTLS datagrams minus the record overhead (13-byte header, up to 48 bytes
    /// of IV/MAC/padding with CBC suites), as Chrome does.
    static let mtu: UInt32 = 1130
    /// Send and receive buffer per association: how much one peer can have in flight or queued towards it.
    static let bufferBytes: Int32 = 1 << 20
    /// Streams each way (RFC 8831 §6.2 allows 65,535; browsers ask for 1,024 and accept what the peer grants).
    static let streams: UInt16 = 1024

    let eventLoop: EventLoop
    private(set) var state: State = .connecting
    /// SCTP packets to put into DTLS records, in order. Called on `eventLoop`.
    var onPacket: (([UInt8]) -> Void)?
    /// A complete message (reassembled if usrsctp delivered it in parts). Called on `eventLoop`.
    var onMessage: ((_ stream: UInt16, _ ppid: UInt32, _ data: [UInt8]) -> Void)?
    /// The peer reset these incoming streams (it closed those data channels). Called on `eventLoop`.
    var onIncomingStreamsReset: (([UInt16]) -> Void)?
    var onStateChange: ((State) -> Void)?
    /// Messages longer than this are discarded while they arrive (counted in `oversizeMessagesDiscarded`).
    var maxMessageSize: Int

    private(set) var oversizeMessagesDiscarded = 0

    private let socket: OpaquePointer
    private let id: UInt
    private let localPort: UInt16
    private let remotePort: UInt16
    private let logger: Logger
    /// Output produced on usrsctp's timer thread waits here for the loop (see `enqueue`).
    private let pending = NIOLockedValueBox(PendingOutput())
    private var partial: [UInt16: (ppid: UInt32, data: [UInt8], oversize: Bool)] = [:]
    /// Allocated on the first read: an association that never receives costs no buffer.
    private var receiveBuffer: [UInt8] = []

    struct PendingOutput {
        var packets: [[UInt8]] = []
        var flushScheduled = false
        var readable = false
    }

    var address: UnsafeMutableRawPointer { UnsafeMutableRawPointer(bitPattern: id)! }

    init(eventLoop: EventLoop, localPort: UInt16 = defaultPort, remotePort: UInt16 = defaultPort, maxMessageSize: Int,
         logger: Logger) throws {
        let stack = UsrSctpStack.shared
        self.eventLoop = eventLoop
        self.localPort = localPort
        self.remotePort = remotePort
        self.maxMessageSize = maxMessageSize
        self.logger = logger
        id = stack.newAddressID()
        guard let socket = roomssctp_socket() else {
            throw SctpError.socket("usrsctp_socket", errno: errno)
        }
        self.socket = socket
        stack.register(self)
        usrsctp_register_address(address)
        usrsctp_set_upcall(socket, sctpUpcall, address)
        let configured = roomssctp_configure(socket, Self.streams, Self.bufferBytes)
        guard configured == 0 else { closeSocket(); throw SctpError.socket("configure step \(-configured)", errno: errno) }
        guard roomssctp_bind(socket, localPort, address) == 0 else { closeSocket(); throw SctpError.socket("bind", errno: errno) }
    }

    deinit {
        if !socketClosed { closeSocket() }
    }

    /// Sends INIT. Both WebRTC ends do (RFC 8841 §9.3): usrsctp resolves the collision, and peers that only
    /// listen answer it.
    func start() {
        eventLoop.preconditionInEventLoop()
        guard state == .connecting else { return }
        if roomssctp_connect(socket, remotePort, address) < 0, errno != EINPROGRESS {
            logger.info("SCTP connect failed: errno \(errno)")
        }
        roomssctp_set_path_mtu(socket, remotePort, address, Self.mtu)
        flush()
    }

    /// One SCTP packet from the DTLS association.
    func receive(_ packet: [UInt8]) {
        eventLoop.preconditionInEventLoop()
        guard state != .closed, !packet.isEmpty else { return }
        packet.withUnsafeBytes { usrsctp_conninput(address, $0.baseAddress, $0.count, 0) }
        flush()
    }

    /// Queues one complete message on `stream`. Never blocks: a full send buffer drops the message.
    func send(stream: UInt16, ppid: UInt32, _ data: [UInt8], ordered: Bool = true) -> SctpSendResult {
        eventLoop.preconditionInEventLoop()
        guard state == .connected else { return .notConnected }
        let sent = data.withUnsafeBytes { roomssctp_send(socket, $0.baseAddress, $0.count, stream, ppid, ordered ? 0 : 1) }
        let error = errno
        flush()
        if sent >= 0 { return .sent }
        if error == EWOULDBLOCK || error == EAGAIN || error == ENOBUFS { return .bufferFull }
        logger.debug("SCTP send on stream \(stream) failed: errno \(error)")
        return .notConnected
    }

    /// Resets our outgoing `stream` (RFC 8831 §6.7: closes that data channel).
    func resetOutgoingStream(_ stream: UInt16) {
        eventLoop.preconditionInEventLoop()
        guard state == .connected else { return }
        _ = roomssctp_reset_stream(socket, stream)
        flush()
    }

    /// Aborts the association (SO_LINGER 0) and frees its usrsctp state; the ABORT goes out through `onPacket`.
    func close() {
        eventLoop.preconditionInEventLoop()
        guard !socketClosed else { return }
        closeSocket()
        drainOutput()
        setState(.closed)
        onPacket = nil
        onMessage = nil
        onIncomingStreamsReset = nil
        partial = [:]
    }

    /// The association may end on the peer's side (state `.closed`) while its usrsctp socket still needs closing.
    private var socketClosed = false

    private func closeSocket() {
        socketClosed = true
        state = .closed
        usrsctp_set_upcall(socket, nil, nil)
        usrsctp_close(socket)
        usrsctp_deregister_address(address)
        UsrSctpStack.shared.unregister(id)
    }

    private func setState(_ new: State) {
        guard state != new else { return }
        state = new
        onStateChange?(new)
    }

    // MARK: - Output and input, on the loop

    /// Called by usrsctp (on any thread, with its locks held): queue, and wake the loop unless it is the caller.
    fileprivate func enqueue(packet: [UInt8]?) {
        // On the loop this comes from our own call into usrsctp, which flushes when it returns.
        let onLoop = eventLoop.inEventLoop
        let needsWakeup = pending.withLockedValue { pending -> Bool in
            if let packet { pending.packets.append(packet) } else { pending.readable = true }
            guard !onLoop, !pending.flushScheduled else { return false }
            pending.flushScheduled = true
            return true
        }
        guard needsWakeup else { return }
        eventLoop.execute { [weak self] in self?.flush() }
    }

    /// Sends queued packets and reads whatever usrsctp has ready.
    func flush() {
        drainOutput()
        guard state != .closed else { return }
        readAll()
        drainOutput()
    }

    private func drainOutput() {
        let packets = pending.withLockedValue { pending -> [[UInt8]] in
            pending.flushScheduled = false
            pending.readable = false
            defer { pending.packets = [] }
            return pending.packets
        }
        for packet in packets { onPacket?(packet) }
    }

    private func readAll() {
        if receiveBuffer.isEmpty { receiveBuffer = [UInt8](repeating: 0, count: 1 << 16) }
        // Bounded, so that one peer's burst cannot hold the loop: after this many reads the rest waits for the next
        // turn of the loop.
        for _ in 0 ..< 1024 {
            guard state != .closed else { return }
            var stream: UInt16 = 0, ppid: UInt32 = 0, flags: Int32 = 0
            let count = receiveBuffer.withUnsafeMutableBytes {
                roomssctp_receive(socket, $0.baseAddress, $0.count, &stream, &ppid, &flags)
            }
            if count < 0 { return } // EWOULDBLOCK: nothing more
            if count == 0 && flags == 0 { return }
            let bytes = Array(receiveBuffer[0 ..< count])
            if roomssctp_is_notification(flags) != 0 {
                handleNotification(bytes)
            } else {
                assemble(bytes, stream: stream, ppid: ppid, complete: roomssctp_is_end_of_record(flags) != 0)
            }
        }
        eventLoop.execute { [weak self] in self?.flush() }
    }

    private func assemble(_ bytes: [UInt8], stream: UInt16, ppid: UInt32, complete: Bool) {
        var message = partial.removeValue(forKey: stream) ?? (ppid, [], false)
        if !message.oversize {
            if message.data.count + bytes.count > maxMessageSize {
                message.oversize = true
                message.data = []
            } else {
                message.data += bytes
            }
        }
        guard complete else { partial[stream] = message; return }
        if message.oversize {
            oversizeMessagesDiscarded += 1
            logger.debug("SCTP message on stream \(stream) above \(maxMessageSize) bytes discarded")
            return
        }
        onMessage?(stream, message.ppid, message.data)
    }

    /// usrsctp notifications are its C structs in host byte order: type (u16) flags (u16) length (u32), then fields.
    private func handleNotification(_ bytes: [UInt8]) {
        func u16(_ at: Int) -> UInt16 { at + 2 <= bytes.count ? UInt16(bytes[at]) | UInt16(bytes[at + 1]) << 8 : 0 }
        guard bytes.count >= 8 else { return }
        switch Int32(u16(0)) {
        case Int32(SCTP_ASSOC_CHANGE):
            switch Int32(u16(8)) {
            case Int32(SCTP_COMM_UP), Int32(SCTP_RESTART): setState(.connected)
            case Int32(SCTP_COMM_LOST), Int32(SCTP_SHUTDOWN_COMP), Int32(SCTP_CANT_STR_ASSOC):
                logger.debug("SCTP association ended (\(u16(8)))")
                setState(.closed)
            default: break
            }
        case Int32(SCTP_STREAM_RESET_EVENT):
            let flags = Int32(u16(2))
            guard flags & Int32(SCTP_STREAM_RESET_INCOMING_SSN) != 0,
                  flags & Int32(SCTP_STREAM_RESET_DENIED | SCTP_STREAM_RESET_FAILED) == 0 else { return }
            // struct sctp_stream_reset_event: 8-byte header, 4-byte assoc id, then the stream list.
            let streams = stride(from: 12, to: bytes.count - 1, by: 2).map { u16($0) }
            for stream in streams { partial[stream] = nil }
            onIncomingStreamsReset?(streams)
        default:
            break
        }
    }
}

// MARK: - The process-wide stack

/// usrsctp is one stack per process: initialised once without its own threads (no raw sockets, no UDP
/// encapsulation), its clock driven from one thread of ours every 10 ms while it has associations. Associations are registered by a numeric
/// id that doubles as their AF_CONN address, so that a late callback for a closed association finds nothing.
final class UsrSctpStack: @unchecked Sendable {
    // @unchecked: `associations` and `nextID` are guarded by `lock`; the rest is immutable after init.
    static let shared = UsrSctpStack()

    private let lock = NIOLock()
    private var associations: [UInt: Weak] = [:]
    private var nextID: UInt = 0x1000
    private let clock: MultiThreadedEventLoopGroup
    private var timer: RepeatedTask?

    private struct Weak { weak var association: SctpAssociation? }

    private init() {
        usrsctp_init_nothreads(0, sctpOutput, nil)
        // WebRTC peers do not speak ECN over DTLS; the rest are usrsctp's defaults (PR-SCTP and stream reconfig on).
        _ = usrsctp_sysctl_set_sctp_ecn_enable(0)
        // Retransmission timers matter for data channels only: a thread of their own keeps them off the media loops.
        clock = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    }

    /// Ticks usrsctp's clock every 10 ms while associations exist, and 5 s beyond (usrsctp frees closed ones on timers).
    /// Called with `lock` held.
    private func startClockIfNeeded() {
        guard timer == nil else { return }
        var last = NIODeadline.now()
        var idleTicks = 0
        timer = clock.next().scheduleRepeatedTask(initialDelay: .milliseconds(10), delay: .milliseconds(10)) { [unowned self] task in
            let now = NIODeadline.now()
            let elapsed = (now - last).nanoseconds / 1_000_000
            if elapsed > 0 {
                last = last + .milliseconds(elapsed)
                usrsctp_handle_timers(UInt32(clamping: elapsed))
            }
            self.lock.withLock {
                idleTicks = self.associations.isEmpty ? idleTicks + 1 : 0
                guard idleTicks >= 500 else { return }
                task.cancel()
                self.timer = nil
            }
        }
    }

    func newAddressID() -> UInt {
        lock.withLock {
            nextID += 1
            return nextID
        }
    }

    func register(_ association: SctpAssociation) {
        lock.withLock {
            associations[UInt(bitPattern: association.address)] = Weak(association: association)
            startClockIfNeeded()
        }
    }

    func unregister(_ id: UInt) {
        lock.withLock { _ = associations.removeValue(forKey: id) }
    }

    func association(at address: UnsafeMutableRawPointer?) -> SctpAssociation? {
        guard let address else { return nil }
        return lock.withLock { associations[UInt(bitPattern: address)]?.association }
    }

    /// Associations alive in this process (tests check that transports leave none behind).
    var count: Int { lock.withLock { associations.values.filter { $0.association != nil }.count } }
}

/// usrsctp's conn output: one SCTP packet for the association at `address`.
private let sctpOutput: @convention(c) (UnsafeMutableRawPointer?, UnsafeMutableRawPointer?, Int, UInt8, UInt8) -> Int32 = {
    address, buffer, length, _, _ in
    guard let buffer, length > 0, let association = UsrSctpStack.shared.association(at: address) else { return 0 }
    association.enqueue(packet: Array(UnsafeRawBufferPointer(start: buffer, count: length)))
    return 0
}

/// usrsctp's socket upcall: something became readable (or writable); read it on the loop.
private let sctpUpcall: @convention(c) (OpaquePointer?, UnsafeMutableRawPointer?, Int32) -> Void = { _, address, _ in
    UsrSctpStack.shared.association(at: address)?.enqueue(packet: nil)
}

// Loop-confined except `enqueue`, which takes the `pending` lock.
extension SctpAssociation: @unchecked Sendable {}
