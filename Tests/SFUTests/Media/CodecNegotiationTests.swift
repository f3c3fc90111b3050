import XCTest
@testable import SFU

/// Per-codec negotiation against real offers (CodecSDPSamples): which codec a publisher gets, which payload type,
/// fmtp, rtcp-fb and RTX a subscriber gets for a producer's codec, and what happens when it cannot decode it.
final class CodecNegotiationTests: XCTestCase {
    var nextSSRC: UInt32 = 1000
    let local = LocalTransportDescription(iceUfrag: "abcdEFGH", icePassword: "0123456789abcdefghijklmn",
                                          fingerprint: "AA:BB", candidates: [("192.0.2.1", 40000)])

    /// The offer with its video m-line cut down to the payload types in `keep` and their RTX formats, as
    /// setCodecPreferences would write it.
    func restrictVideo(_ sdp: String, to keep: [UInt8]) throws -> String {
        let parsed = try OfferAnswer.parse(sdp)
        let video = try XCTUnwrap(parsed.media.first { $0.kind == "video" })
        let rtx = video.codecs.filter { $0.associatedPayloadType.map(keep.contains) ?? false }.map(\.payloadType)
        let kept = Set((keep + rtx).map(String.init))
        var out: [String] = []
        var inVideo = false
        for line in sdp.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            if line.hasPrefix("m=") {
                inVideo = line.hasPrefix("m=video")
                if inVideo {
                    let parts = line.split(separator: " ").map(String.init)
                    out.append((parts.prefix(3) + (keep + rtx).map(String.init)).joined(separator: " "))
                    continue
                }
            }
            if inVideo, let pt = ["a=rtpmap:", "a=fmtp:", "a=rtcp-fb:"].lazy.compactMap({ prefix -> String? in
                guard line.hasPrefix(prefix) else { return nil }
                return String(line.dropFirst(prefix.count).prefix { $0 != " " })
            }).first, pt != "*", !kept.contains(pt) {
                continue
            }
            out.append(line)
        }
        return out.joined(separator: "\n")
    }

    func publish(_ sdp: String, preference: VideoCodecPreference = .default) throws -> (SessionDescription, PublishedTrack) {
        let (answer, tracks) = try OfferAnswer.answerPublish(OfferAnswer.parse(sdp), local: local, preference: preference)
        return (answer, try XCTUnwrap(tracks.first { $0.kind == .video }))
    }

    func producer(_ track: PublishedTrack, id: String = "p1") -> ProducerDescription {
        ProducerDescription(id: id, kind: track.kind, codec: track.codec, streamID: track.streamID, trackID: track.trackID,
                            headerExtensions: track.extensionIDs)
    }

    func subscribe(_ sdp: String, _ producers: [ProducerDescription], existing: [SubscribedTrack] = [])
        throws -> (answer: SessionDescription, tracks: [SubscribedTrack], unsupported: [OfferAnswer.UnsupportedProducer]) {
        return try OfferAnswer.negotiateSubscription(OfferAnswer.parse(sdp), local: local, producers: producers,
                                                     existing: existing, newSSRC: { self.nextSSRC += 1; return self.nextSSRC })
    }

    func videoSection(_ answer: SessionDescription) throws -> SDPMediaSection {
        try XCTUnwrap(answer.media.first { $0.kind == "video" })
    }

    // MARK: Publishers

    func testChromeOfferGetsVP8ByDefault() throws {
        let (answer, track) = try publish(CodecSDPSamples.chromePublish)
        XCTAssertEqual(track.codec.name, "VP8")
        XCTAssertEqual(track.codec.payloadType, 96)
        XCTAssertEqual(track.rtxPayloadType, 97)
        XCTAssertEqual(try videoSection(answer).formats, ["96", "97"])
    }

    func testPreferenceChoosesAmongChromeCodecs() throws {
        let (answer9, vp9) = try publish(CodecSDPSamples.chromePublish, preference: VideoCodecPreference([.vp9, .vp8]))
        XCTAssertEqual([vp9.codec.name, String(vp9.codec.payloadType), vp9.codec.fmtp], ["VP9", "98", "profile-id=0"])
        XCTAssertEqual(vp9.rtxPayloadType, 99)
        let text = answer9.serialize()
        XCTAssertTrue(text.contains("a=fmtp:98 profile-id=0"), text)
        XCTAssertTrue(text.contains("a=rtcp-fb:98 nack pli"), text)
        XCTAssertTrue(text.contains("a=rtcp-fb:98 transport-cc"), text)
        XCTAssertTrue(text.contains("a=fmtp:99 apt=98"), text)

        // H.264: packetization-mode 1 with constrained baseline (108), not the first-listed baseline 102.
        let (_, h264) = try publish(CodecSDPSamples.chromePublish, preference: VideoCodecPreference([.h264]))
        XCTAssertEqual(h264.codec.payloadType, 108)
        XCTAssertTrue(h264.codec.fmtp.contains("profile-level-id=42e01f"), h264.codec.fmtp)
        XCTAssertTrue(h264.codec.fmtp.contains("packetization-mode=1"), h264.codec.fmtp)
        XCTAssertEqual(h264.rtxPayloadType, 109)

        let (_, av1) = try publish(CodecSDPSamples.chromePublish, preference: VideoCodecPreference([.av1, .vp8]))
        XCTAssertEqual([av1.codec.name, String(av1.codec.payloadType)], ["AV1", "45"])
        XCTAssertEqual(av1.rtxPayloadType, 46)
    }

    func testPublisherRestrictedToOneCodecGetsItWhateverThePreference() throws {
        let vp9Only = try restrictVideo(CodecSDPSamples.chromePublish, to: [98])
        let (_, track) = try publish(vp9Only)
        XCTAssertEqual(track.codec.name, "VP9")
        // A publisher with nothing the preference allows: its video is rejected, its audio still accepted.
        let (answer, tracks) = try OfferAnswer.answerPublish(OfferAnswer.parse(vp9Only), local: local,
                                                             preference: VideoCodecPreference([.vp8]))
        XCTAssertEqual(tracks.map(\.kind), [.audio])
        XCTAssertEqual(try videoSection(answer).port, 0)
    }

    func testAiortcAndFirefoxPublishers() throws {
        let (_, aiortc) = try publish(CodecSDPSamples.aiortcPublish, preference: VideoCodecPreference([.h264]))
        XCTAssertEqual(aiortc.codec.payloadType, 101) // 42e01f before 42001f
        let (_, firefox) = try publish(CodecSDPSamples.firefoxPublish, preference: VideoCodecPreference([.av1, .vp9]))
        XCTAssertEqual(firefox.codec.name, "AV1")
    }

    // MARK: Subscribers

    func testChromeSubscriberGetsEachCodecInItsOwnPayloadType() throws {
        let cases: [(VideoCodec, UInt8, UInt8, String)] = [
            (.vp8, 96, 97, ""), (.vp9, 98, 99, "profile-id=0"),
            (.h264, 108, 109, "profile-level-id=42e01f"), (.av1, 45, 46, "profile=0"),
        ]
        for (codec, pt, rtx, fmtp) in cases {
            let (_, published) = try publish(CodecSDPSamples.chromePublish, preference: VideoCodecPreference([codec]))
            let (answer, tracks, unsupported) = try subscribe(CodecSDPSamples.chromeSubscribe, [producer(published)])
            XCTAssertEqual(unsupported, [], "\(codec)")
            let track = try XCTUnwrap(tracks.first, "\(codec)")
            XCTAssertEqual(track.payloadType, pt, "\(codec)")
            XCTAssertEqual(track.rtx?.payloadType, rtx, "\(codec)")
            let section = try videoSection(answer)
            XCTAssertEqual(section.direction, .sendonly)
            XCTAssertEqual(section.formats, [String(pt), String(rtx)], "\(codec)")
            let offered = try XCTUnwrap(section.codecs.first)
            if !fmtp.isEmpty { XCTAssertTrue(offered.fmtp.contains(fmtp), "\(codec): \(offered.fmtp)") }
            XCTAssertTrue(offered.feedback.contains { $0.type == "nack" && $0.subtype == "pli" }, "\(codec)")
            XCTAssertTrue(section.ssrcGroups.contains { $0.semantics == "FID" && $0.ssrcs == [track.ssrc, track.rtx!.ssrc] })
        }
    }

    func testH264FromAiortcGoesToChromeAsConstrainedBaselineMode1() throws {
        let (_, published) = try publish(CodecSDPSamples.aiortcPublish, preference: VideoCodecPreference([.h264]))
        let (answer, tracks, _) = try subscribe(CodecSDPSamples.chromeSubscribe, [producer(published)])
        XCTAssertEqual(tracks.first?.payloadType, 108)
        let fmtp = try XCTUnwrap(videoSection(answer).codecs.first?.fmtp)
        XCTAssertTrue(fmtp.contains("packetization-mode=1") && fmtp.contains("42e01f"), fmtp)
    }

    func testSubscriberWithoutTheCodecGetsNoTrackAndAReport() throws {
        // Firefox here has no H.264: an H.264 producer is reported, its m-line stays inactive; VP9 still flows.
        let (_, h264) = try publish(CodecSDPSamples.chromePublish, preference: VideoCodecPreference([.h264]))
        let (answer, tracks, unsupported) = try subscribe(CodecSDPSamples.firefoxSubscribe, [producer(h264, id: "h")])
        XCTAssertEqual(tracks, [])
        XCTAssertEqual(unsupported, [OfferAnswer.UnsupportedProducer(producerID: "h", codec: "H264")])
        XCTAssertEqual(try videoSection(answer).direction, .inactive)

        let (_, vp9) = try publish(CodecSDPSamples.chromePublish, preference: VideoCodecPreference([.vp9]))
        let both = try subscribe(CodecSDPSamples.firefoxSubscribe, [producer(h264, id: "h"), producer(vp9, id: "v")])
        XCTAssertEqual(both.tracks.map(\.producerID), ["v"])
        XCTAssertEqual(both.tracks.first?.payloadType, 121)
        XCTAssertEqual(both.unsupported.map(\.producerID), ["h"])

        // aiortc decodes neither VP9 nor AV1.
        let (_, av1) = try publish(CodecSDPSamples.chromePublish, preference: VideoCodecPreference([.av1]))
        let aiortc = try subscribe(CodecSDPSamples.aiortcSubscribe, [producer(av1, id: "a"), producer(vp9, id: "v")])
        XCTAssertEqual(Set(aiortc.unsupported.map(\.producerID)), ["a", "v"])
    }

    func testFormatParametersMustMatch() throws {
        func codec(_ name: String, _ fmtp: String) -> RtpCodec { RtpCodec(payloadType: 100, name: name, clockRate: 90000, fmtp: fmtp) }
        func offered(_ name: String, _ fmtp: String) -> SDPCodec {
            SDPCodec(payloadType: 120, name: name, clockRate: 90000, channels: nil, fmtp: fmtp, feedback: [])
        }
        let cb1 = codec("H264", "packetization-mode=1;profile-level-id=42e01f")
        XCTAssertTrue(CodecNegotiation.canCarry(cb1, in: offered("H264", "profile-level-id=42e034;packetization-mode=1")))
        XCTAssertTrue(CodecNegotiation.canCarry(cb1, in: offered("h264", "packetization-mode=1;profile-level-id=42001f")))
        XCTAssertFalse(CodecNegotiation.canCarry(cb1, in: offered("H264", "profile-level-id=42e01f"))) // mode 0
        XCTAssertFalse(CodecNegotiation.canCarry(cb1, in: offered("H264", "packetization-mode=1;profile-level-id=4d001f")))
        XCTAssertFalse(CodecNegotiation.canCarry(codec("H264", "packetization-mode=1;profile-level-id=64001f"),
                                                 in: offered("H264", "packetization-mode=1;profile-level-id=42e01f")))
        XCTAssertFalse(CodecNegotiation.canCarry(cb1, in: offered("H264", "packetization-mode=1;profile-level-id=zz")))
        XCTAssertTrue(CodecNegotiation.canCarry(codec("VP9", ""), in: offered("VP9", "profile-id=0")))
        XCTAssertFalse(CodecNegotiation.canCarry(codec("VP9", "profile-id=2"), in: offered("VP9", "profile-id=0")))
        XCTAssertFalse(CodecNegotiation.canCarry(codec("AV1", "profile=1"), in: offered("AV1", "level-idx=5;profile=0;tier=0")))
        XCTAssertTrue(CodecNegotiation.canCarry(codec("AV1", "level-idx=5;profile=0;tier=0"), in: offered("AV1", "")))
        XCTAssertFalse(CodecNegotiation.canCarry(codec("VP8", ""), in: offered("VP9", "")))
        // Malformed H.264 formats are not forwardable at all.
        XCTAssertFalse(CodecNegotiation.isForwardable(offered("H264", "profile-level-id=4"), kind: .video))
        XCTAssertFalse(CodecNegotiation.isForwardable(offered("H264", "packetization-mode=2;profile-level-id=42e01f"), kind: .video))
        XCTAssertFalse(CodecNegotiation.isForwardable(offered("VP9", ""), kind: .audio))
    }

    func testH264Profiles() {
        XCTAssertEqual(H264Profile(profileLevelID: "42e01f"), .constrainedBaseline)
        XCTAssertEqual(H264Profile(profileLevelID: "42001f"), .baseline)
        XCTAssertEqual(H264Profile(profileLevelID: "4d001f"), .main)
        XCTAssertEqual(H264Profile(profileLevelID: "4d801f"), .constrainedBaseline)
        XCTAssertEqual(H264Profile(profileLevelID: "640c1f"), .constrainedHigh)
        XCTAssertEqual(H264Profile(profileLevelID: "64001f"), .high)
        XCTAssertEqual(H264Profile(profileLevelID: "f4001f"), .other(0xF4))
        XCTAssertEqual(H264Profile(profileLevelID: nil), .baseline) // RFC 6184 default 420010
        XCTAssertNil(H264Profile(profileLevelID: "42e01"))
        XCTAssertNil(H264Profile(profileLevelID: "42e01g"))
        XCTAssertNil(H264Profile(profileLevelID: "+42e01"))
    }

    // MARK: Renegotiation

    func testSubscriberRenegotiationKeepsMidsAndReusesFreedMLines() throws {
        let (_, vp8) = try publish(CodecSDPSamples.chromePublish)
        let first = try subscribe(CodecSDPSamples.chromeSubscribe, [producer(vp8, id: "a")])
        let kept = try XCTUnwrap(first.tracks.first)
        // The same offer again, with a second producer in the room: the kept mid keeps its SSRCs and payload type.
        var twoVideo = CodecSDPSamples.chromeSubscribe
        let videoStart = try XCTUnwrap(twoVideo.range(of: "m=video"))
        var second = String(twoVideo[videoStart.lowerBound...]).replacingOccurrences(of: "a=mid:1", with: "a=mid:2")
        second = second.hasSuffix("\n") ? second : second + "\n"
        twoVideo = (twoVideo.hasSuffix("\n") ? twoVideo : twoVideo + "\n") + second
        twoVideo = twoVideo.replacingOccurrences(of: "a=group:BUNDLE 0 1", with: "a=group:BUNDLE 0 1 2")
        let again = try subscribe(twoVideo, [producer(vp8, id: "a"), producer(vp8, id: "b")], existing: [kept])
        XCTAssertEqual(again.tracks.count, 2)
        XCTAssertEqual(again.tracks[0], kept)
        XCTAssertEqual(again.tracks[1].mid, "2")
        XCTAssertEqual(again.tracks[1].producerID, "b")
        XCTAssertNotEqual(again.tracks[1].ssrc, kept.ssrc)
        XCTAssertEqual(again.answer.bundleMids, ["0", "1", "2"])
        // "a" leaves: mid 1 goes inactive, "b" stays on mid 2; a later producer "c" reuses mid 1.
        let afterLeave = try subscribe(twoVideo, [producer(vp8, id: "b")], existing: again.tracks)
        XCTAssertEqual(afterLeave.tracks.map(\.mid), ["2"])
        XCTAssertEqual(afterLeave.tracks[0], again.tracks[1])
        XCTAssertEqual(afterLeave.answer.section(mid: "1")?.direction, .inactive)
        let reuse = try subscribe(twoVideo, [producer(vp8, id: "b"), producer(vp8, id: "c")], existing: afterLeave.tracks)
        XCTAssertEqual(reuse.tracks.map(\.mid), ["1", "2"])
        XCTAssertEqual(reuse.tracks.map(\.producerID), ["c", "b"])
    }

    func testPublisherRenegotiationKeepsTheCodecOfAKeptMid() throws {
        let (_, vp8) = try publish(CodecSDPSamples.chromePublish)
        // With VP9 now preferred, a re-offer of the same mid keeps VP8: the stream must not change under the consumers.
        let (_, tracks) = try OfferAnswer.answerPublish(OfferAnswer.parse(CodecSDPSamples.chromePublish), local: local,
                                                        preference: VideoCodecPreference([.vp9, .vp8]), existing: [vp8])
        XCTAssertEqual(tracks.first { $0.kind == .video }?.codec.payloadType, 96)
    }
}
