// One phone call from the media side: the IVR (welcome, PIN, retries), then the phone's seat in the room through
// the room's bridge, until either side hangs up. Lives on its leg's event loop (the SFU's); SIP events hop here.

import Foundation
import Logging
import NIOCore
import SFU

final class PhoneSession {
    enum Phase: Equatable { case ivr, waiting, joining, inRoom, closing, ended }

    let call: SIPCall
    let leg: PhoneLeg
    let displayName: String
    private unowned let service: DialInService
    private let logger: Logger
    private(set) var phase: Phase = .ivr
    private var entry = PinEntry()
    private var player = PromptPlayer()
    private var frame: [Float] = []
    private var ivrTimer: FrameTicker?
    private var watchdog: RepeatedTask?
    private let startedAt = Date()
    /// What to do when the prompt that is playing ends.
    private var afterPrompt: (() -> Void)?
    private var lookupInFlight = false
    /// Owner rules of the conference the PIN opened (nil: a room without them).
    private(set) var rules: OwnerRules?
    private(set) var room: String?
    /// Counted among the room's owners (seated with the owner's PIN): leaving must be reported.
    private var seatedAsOwner = false
    /// Frames since the waiting prompt last ended (it is repeated while the caller waits).
    private var waitingTicks = 0
    static let waitingPromptPause = 500 // 10 s of silence between two "please wait"

    // In the room.
    private var seat: PhoneSeat?
    private var bridge: RoomBridge?
    private var transport: DirectTransport?

    init(call: SIPCall, leg: PhoneLeg, displayName: String, service: DialInService, logger: Logger) {
        self.call = call
        self.leg = leg
        self.displayName = displayName
        self.service = service
        self.logger = logger
    }

    var eventLoop: EventLoop { leg.eventLoop }

    /// After the 200 OK: greet and listen for digits.
    func start() {
        eventLoop.preconditionInEventLoop()
        leg.onDigit = { [weak self] digit in self?.press(digit) }
        player.play(service.prompts.samples(.welcome))
        ivrTimer = FrameTicker(eventLoop: eventLoop) { [weak self] in self?.ivrTick() }
        watchdog = eventLoop.scheduleRepeatedTask(initialDelay: .seconds(1), delay: .seconds(1)) { [weak self] _ in
            self?.checkAlive()
        }
    }

    // MARK: - IVR

    private func ivrTick() {
        guard phase == .ivr || phase == .closing || phase == .joining || phase == .waiting else { return }
        _ = leg.pullFrame(into: &frame) // keep the jitter buffer moving; nobody listens yet
        let wasPlaying = player.isPlaying
        player.nextFrame(into: &frame)
        if !leg.onHold { leg.send(frame[...]) }
        if wasPlaying && !player.isPlaying, let next = afterPrompt {
            afterPrompt = nil
            next()
        }
        if phase == .waiting && !player.isPlaying {
            waitingTicks += 1
            if waitingTicks >= Self.waitingPromptPause { waitingTicks = 0; player.play(service.prompts.samples(.waitingForOwner)) }
        }
        if phase == .ivr, !lookupInFlight, case .lookup(let pin) = entry.timeout(now: Date(), interDigit: service.settings.interDigitTimeout) {
            lookUp(pin)
        }
    }

    func press(_ digit: Character) {
        eventLoop.preconditionInEventLoop()
        guard phase == .ivr, !lookupInFlight else { return }
        logger.debug("digit \(digit)")
        switch entry.press(digit, at: Date()) {
        case .none: break
        case .stopPrompt: player.stop(); afterPrompt = nil
        case .lookup(let pin): lookUp(pin)
        }
    }

    private func lookUp(_ pin: String) {
        lookupInFlight = true
        let pins = service.pins
        let loop = eventLoop
        Task {
            let answer = await pins.lookup(pin: pin, at: Date())
            loop.execute { [weak self] in self?.resolve(answer) }
        }
    }

    private func resolve(_ lookup: PinLookup) {
        lookupInFlight = false
        guard phase == .ivr else { return }
        switch entry.resolve(lookup) {
        case .retry(let prompt):
            logger.info("wrong PIN (attempt \(entry.attempts))")
            player.stop()
            player.play(service.prompts.samples(prompt))
        case .hangUp(let prompt):
            logger.info("PIN refused: \(prompt.rawValue)")
            sayAndHangUp(prompt)
        case .join(let room):
            logger.info("PIN accepted: room \(room)")
            self.room = room
            if case .conference(_, let rules) = lookup {
                self.rules = rules
                service.enterConference(self, room: room)
                if rules.waitForOwner && !rules.callerIsOwner && !service.admitOrWait(self, room: room) {
                    logger.info("waiting for the owner of conference \(rules.conferenceID)")
                    phase = .waiting
                    waitingTicks = 0
                    player.stop()
                    player.play(service.prompts.samples(.waitingForOwner))
                    return
                }
            }
            startJoining(room)
        }
    }

    private func startJoining(_ room: String) {
        phase = .joining
        player.stop()
        player.play(service.prompts.samples(.joining))
        afterPrompt = { [weak self] in self?.join(room) }
    }

    /// The owner is in the room now: a waiting caller joins.
    func ownerArrived() {
        eventLoop.preconditionInEventLoop()
        guard phase == .waiting, let room else { return }
        logger.info("the owner is in: joining")
        startJoining(room)
    }

    /// The owner left a conference that ends with them: goodbye, then BYE (out of the room first, so that the
    /// prompt is all the caller hears).
    func conferenceEnded() {
        eventLoop.preconditionInEventLoop()
        guard phase == .inRoom || phase == .waiting || phase == .joining || phase == .ivr else { return }
        logger.info("the owner left: the conference is over")
        if phase == .inRoom { leaveRoom() }
        if ivrTimer == nil { ivrTimer = FrameTicker(eventLoop: eventLoop) { [weak self] in self?.ivrTick() } }
        sayAndHangUp(.ownerLeft)
    }

    /// Gives up the seat while the call goes on (the leg stays open for prompts).
    private func leaveRoom() {
        let (seat, bridge, transport) = (self.seat, self.bridge, self.transport)
        self.seat = nil
        self.bridge = nil
        self.transport = nil
        bridge?.remove(leg) // same loop as the leg (checked when seated)
        if seatedAsOwner { seatedAsOwner = false; reportOwnerLeft() }
        let service = self.service
        Task { await service.release(seat: seat, bridge: bridge, transport: transport, leg: nil) }
    }

    private func reportOwnerLeft() {
        guard let rules, let room else { return }
        service.ownerLeft(self, room: room, rules: rules)
    }

    private func sayAndHangUp(_ prompt: Prompt) {
        phase = .closing
        player.stop()
        player.play(service.prompts.samples(prompt))
        afterPrompt = { [weak self] in self?.call.hangup() }
    }

    // MARK: - Room

    private func join(_ room: String) {
        let loop = eventLoop
        let (leg, service) = (self.leg, self.service)
        Task {
            do {
                let (seat, bridge, transport) = try await service.seat(for: self, room: room)
                loop.execute { [weak self] in
                    guard let self, self.phase == .joining else {
                        // The call ended while the seat was being made: undo all of it, the leg's place in the bridge too.
                        Task { await service.release(seat: seat, bridge: bridge, transport: transport, leg: leg) }
                        return
                    }
                    self.seat = seat
                    self.bridge = bridge
                    self.transport = transport
                    self.phase = .inRoom
                    self.ivrTimer?.cancel()
                    self.ivrTimer = nil
                    if self.rules?.callerIsOwner == true {
                        self.seatedAsOwner = true
                        service.ownerSeated(room: room)
                    }
                }
            } catch {
                loop.execute { [weak self] in
                    self?.logger.error("joining room \(room) failed: \(error)")
                    self?.phase = .ivr
                    self?.sayAndHangUp(.unavailable)
                }
            }
        }
    }

    /// The room side removed the phone (server shutdown, the seat was closed).
    func roomEnded() {
        eventLoop.preconditionInEventLoop()
        guard phase != .ended else { return }
        call.hangup()
    }

    // MARK: - Liveness and teardown

    private func checkAlive() {
        let idle = NIODeadline.now() - leg.lastPacketAt
        if !leg.onHold && idle > service.settings.rtpTimeout {
            logger.notice("no RTP for \(idle.nanoseconds / 1_000_000_000) s: hanging up")
            call.hangup()
        } else if phase == .ivr && entry.digits.isEmpty && entry.attempts == 0 && entry.lastDigitAt == nil
                    && Date().timeIntervalSince(startedAt) > service.settings.pinTimeout {
            sayAndHangUp(.goodbyeInvalid)
        }
    }

    /// The call is over (either side): leave the room and free everything.
    func end() {
        eventLoop.preconditionInEventLoop()
        guard phase != .ended else { return }
        phase = .ended
        ivrTimer?.cancel()
        watchdog?.cancel()
        leg.onDigit = nil
        if let room, rules != nil { service.leaveConference(self, room: room) }
        if seatedAsOwner { seatedAsOwner = false; reportOwnerLeft() }
        let (seat, bridge, transport, leg) = (self.seat, self.bridge, self.transport, self.leg)
        self.seat = nil
        self.bridge = nil
        self.transport = nil
        Task { await service.release(seat: seat, bridge: bridge, transport: transport, leg: leg) }
    }
}

extension PhoneSession: @unchecked Sendable {}
