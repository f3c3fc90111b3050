// Offers captured from the real peers on this machine (candidates removed), for the per-codec negotiation tests.
// Regenerate: createOffer() in the browser / aiortc with the transceivers described.

enum CodecSDPSamples {
    /// Chromium 156 (Debian), getUserMedia audio+video, sendonly transceivers.
    static let chromePublish = """
    v=0
    o=- 5916430831922590468 2 IN IP4 127.0.0.1
    s=-
    t=0 0
    a=group:BUNDLE 0 1
    a=extmap-allow-mixed
    a=msid-semantic: WMS 9fe5e8cd-21c2-4c21-a098-14c93d1ddeaa
    m=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126
    c=IN IP4 0.0.0.0
    a=rtcp:9 IN IP4 0.0.0.0
    a=ice-ufrag:s2Pt
    a=ice-pwd:2uG8jyHrD5p5t1H9iuQth2Im
    a=ice-options:trickle
    a=fingerprint:sha-256 8A:E6:2D:7E:F0:6E:CB:86:75:74:BE:C5:DA:E4:35:CA:F3:04:18:AE:06:64:89:3D:04:9E:CD:B7:5E:AD:29:E6
    a=setup:actpass
    a=mid:0
    a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level
    a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time
    a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01
    a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid
    a=sendonly
    a=msid:9fe5e8cd-21c2-4c21-a098-14c93d1ddeaa 410d4a69-8b55-4cf7-abea-d0a9d923a4d7
    a=rtcp-mux
    a=rtcp-rsize
    a=rtcp-xr:rcvr-rtt=all
    a=rtpmap:111 opus/48000/2
    a=rtcp-fb:111 transport-cc
    a=fmtp:111 minptime=10;useinbandfec=1
    a=rtpmap:63 red/48000/2
    a=fmtp:63 111/111
    a=rtpmap:9 G722/8000
    a=rtpmap:0 PCMU/8000
    a=rtpmap:8 PCMA/8000
    a=rtpmap:13 CN/8000
    a=rtpmap:110 telephone-event/48000
    a=rtpmap:126 telephone-event/8000
    a=ssrc:311198976 cname:5kAVxYEMccoBQsV5
    a=ssrc:311198976 msid:9fe5e8cd-21c2-4c21-a098-14c93d1ddeaa 410d4a69-8b55-4cf7-abea-d0a9d923a4d7
    m=video 9 UDP/TLS/RTP/SAVPF 96 97 102 103 104 107 108 109 114 115 116 117 39 40 45 46 98 99 100 101 118 119 120
    c=IN IP4 0.0.0.0
    a=rtcp:9 IN IP4 0.0.0.0
    a=ice-ufrag:s2Pt
    a=ice-pwd:2uG8jyHrD5p5t1H9iuQth2Im
    a=ice-options:trickle
    a=fingerprint:sha-256 8A:E6:2D:7E:F0:6E:CB:86:75:74:BE:C5:DA:E4:35:CA:F3:04:18:AE:06:64:89:3D:04:9E:CD:B7:5E:AD:29:E6
    a=setup:actpass
    a=mid:1
    a=extmap:14 urn:ietf:params:rtp-hdrext:toffset
    a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time
    a=extmap:13 urn:3gpp:video-orientation
    a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01
    a=extmap:5 http://www.webrtc.org/experiments/rtp-hdrext/playout-delay
    a=extmap:6 http://www.webrtc.org/experiments/rtp-hdrext/video-content-type
    a=extmap:7 http://www.webrtc.org/experiments/rtp-hdrext/video-timing
    a=extmap:8 http://www.webrtc.org/experiments/rtp-hdrext/color-space
    a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid
    a=extmap:10 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id
    a=extmap:11 urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id
    a=sendonly
    a=msid:9fe5e8cd-21c2-4c21-a098-14c93d1ddeaa 99fb7c5b-b4e6-4802-8d7c-1fa3c8b67588
    a=rtcp-mux
    a=rtcp-rsize
    a=rtcp-xr:rcvr-rtt=all
    a=rtpmap:96 VP8/90000
    a=rtcp-fb:96 goog-remb
    a=rtcp-fb:96 transport-cc
    a=rtcp-fb:96 ccm fir
    a=rtcp-fb:96 nack
    a=rtcp-fb:96 nack pli
    a=rtpmap:97 rtx/90000
    a=fmtp:97 apt=96
    a=rtpmap:102 H264/90000
    a=rtcp-fb:102 goog-remb
    a=rtcp-fb:102 transport-cc
    a=rtcp-fb:102 ccm fir
    a=rtcp-fb:102 nack
    a=rtcp-fb:102 nack pli
    a=fmtp:102 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42001f
    a=rtpmap:103 rtx/90000
    a=fmtp:103 apt=102
    a=rtpmap:104 H264/90000
    a=rtcp-fb:104 goog-remb
    a=rtcp-fb:104 transport-cc
    a=rtcp-fb:104 ccm fir
    a=rtcp-fb:104 nack
    a=rtcp-fb:104 nack pli
    a=fmtp:104 level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=42001f
    a=rtpmap:107 rtx/90000
    a=fmtp:107 apt=104
    a=rtpmap:108 H264/90000
    a=rtcp-fb:108 goog-remb
    a=rtcp-fb:108 transport-cc
    a=rtcp-fb:108 ccm fir
    a=rtcp-fb:108 nack
    a=rtcp-fb:108 nack pli
    a=fmtp:108 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f
    a=rtpmap:109 rtx/90000
    a=fmtp:109 apt=108
    a=rtpmap:114 H264/90000
    a=rtcp-fb:114 goog-remb
    a=rtcp-fb:114 transport-cc
    a=rtcp-fb:114 ccm fir
    a=rtcp-fb:114 nack
    a=rtcp-fb:114 nack pli
    a=fmtp:114 level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=42e01f
    a=rtpmap:115 rtx/90000
    a=fmtp:115 apt=114
    a=rtpmap:116 H264/90000
    a=rtcp-fb:116 goog-remb
    a=rtcp-fb:116 transport-cc
    a=rtcp-fb:116 ccm fir
    a=rtcp-fb:116 nack
    a=rtcp-fb:116 nack pli
    a=fmtp:116 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=4d001f
    a=rtpmap:117 rtx/90000
    a=fmtp:117 apt=116
    a=rtpmap:39 H264/90000
    a=rtcp-fb:39 goog-remb
    a=rtcp-fb:39 transport-cc
    a=rtcp-fb:39 ccm fir
    a=rtcp-fb:39 nack
    a=rtcp-fb:39 nack pli
    a=fmtp:39 level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=4d001f
    a=rtpmap:40 rtx/90000
    a=fmtp:40 apt=39
    a=rtpmap:45 AV1/90000
    a=rtcp-fb:45 goog-remb
    a=rtcp-fb:45 transport-cc
    a=rtcp-fb:45 ccm fir
    a=rtcp-fb:45 nack
    a=rtcp-fb:45 nack pli
    a=fmtp:45 level-idx=5;profile=0;tier=0
    a=rtpmap:46 rtx/90000
    a=fmtp:46 apt=45
    a=rtpmap:98 VP9/90000
    a=rtcp-fb:98 goog-remb
    a=rtcp-fb:98 transport-cc
    a=rtcp-fb:98 ccm fir
    a=rtcp-fb:98 nack
    a=rtcp-fb:98 nack pli
    a=fmtp:98 profile-id=0
    a=rtpmap:99 rtx/90000
    a=fmtp:99 apt=98
    a=rtpmap:100 VP9/90000
    a=rtcp-fb:100 goog-remb
    a=rtcp-fb:100 transport-cc
    a=rtcp-fb:100 ccm fir
    a=rtcp-fb:100 nack
    a=rtcp-fb:100 nack pli
    a=fmtp:100 profile-id=2
    a=rtpmap:101 rtx/90000
    a=fmtp:101 apt=100
    a=rtpmap:118 red/90000
    a=rtpmap:119 rtx/90000
    a=fmtp:119 apt=118
    a=rtpmap:120 ulpfec/90000
    a=ssrc-group:FID 1410848567 1624083229
    a=ssrc:1410848567 cname:5kAVxYEMccoBQsV5
    a=ssrc:1410848567 msid:9fe5e8cd-21c2-4c21-a098-14c93d1ddeaa 99fb7c5b-b4e6-4802-8d7c-1fa3c8b67588
    a=ssrc:1624083229 cname:5kAVxYEMccoBQsV5
    a=ssrc:1624083229 msid:9fe5e8cd-21c2-4c21-a098-14c93d1ddeaa 99fb7c5b-b4e6-4802-8d7c-1fa3c8b67588
    """

    /// Chromium 156 (Debian), recvonly audio + video.
    static let chromeSubscribe = """
    v=0
    o=- 7425787580313353177 2 IN IP4 127.0.0.1
    s=-
    t=0 0
    a=group:BUNDLE 0 1
    a=extmap-allow-mixed
    a=msid-semantic: WMS
    m=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126
    c=IN IP4 0.0.0.0
    a=rtcp:9 IN IP4 0.0.0.0
    a=ice-ufrag:npyH
    a=ice-pwd:5vtFT3RoMnA4HSzQsVL2VKfA
    a=ice-options:trickle
    a=fingerprint:sha-256 5B:C0:33:02:D0:95:C0:17:DB:46:08:B3:FE:C5:19:68:81:C9:4E:0C:D9:86:12:B9:09:38:F1:CB:39:99:34:CC
    a=setup:actpass
    a=mid:0
    a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level
    a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time
    a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01
    a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid
    a=recvonly
    a=rtcp-mux
    a=rtcp-rsize
    a=rtcp-xr:rcvr-rtt=all
    a=rtpmap:111 opus/48000/2
    a=rtcp-fb:111 transport-cc
    a=fmtp:111 minptime=10;useinbandfec=1
    a=rtpmap:63 red/48000/2
    a=fmtp:63 111/111
    a=rtpmap:9 G722/8000
    a=rtpmap:0 PCMU/8000
    a=rtpmap:8 PCMA/8000
    a=rtpmap:13 CN/8000
    a=rtpmap:110 telephone-event/48000
    a=rtpmap:126 telephone-event/8000
    m=video 9 UDP/TLS/RTP/SAVPF 96 97 98 99 100 101 35 36 37 38 102 103 104 107 108 109 114 115 116 117 39 40 41 42 43 44 45 46 47 48 118 119 120 49
    c=IN IP4 0.0.0.0
    a=rtcp:9 IN IP4 0.0.0.0
    a=ice-ufrag:npyH
    a=ice-pwd:5vtFT3RoMnA4HSzQsVL2VKfA
    a=ice-options:trickle
    a=fingerprint:sha-256 5B:C0:33:02:D0:95:C0:17:DB:46:08:B3:FE:C5:19:68:81:C9:4E:0C:D9:86:12:B9:09:38:F1:CB:39:99:34:CC
    a=setup:actpass
    a=mid:1
    a=extmap:14 urn:ietf:params:rtp-hdrext:toffset
    a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time
    a=extmap:13 urn:3gpp:video-orientation
    a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01
    a=extmap:5 http://www.webrtc.org/experiments/rtp-hdrext/playout-delay
    a=extmap:6 http://www.webrtc.org/experiments/rtp-hdrext/video-content-type
    a=extmap:7 http://www.webrtc.org/experiments/rtp-hdrext/video-timing
    a=extmap:8 http://www.webrtc.org/experiments/rtp-hdrext/color-space
    a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid
    a=extmap:10 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id
    a=extmap:11 urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id
    a=recvonly
    a=rtcp-mux
    a=rtcp-rsize
    a=rtcp-xr:rcvr-rtt=all
    a=rtpmap:96 VP8/90000
    a=rtcp-fb:96 goog-remb
    a=rtcp-fb:96 transport-cc
    a=rtcp-fb:96 ccm fir
    a=rtcp-fb:96 nack
    a=rtcp-fb:96 nack pli
    a=rtpmap:97 rtx/90000
    a=fmtp:97 apt=96
    a=rtpmap:98 VP9/90000
    a=rtcp-fb:98 goog-remb
    a=rtcp-fb:98 transport-cc
    a=rtcp-fb:98 ccm fir
    a=rtcp-fb:98 nack
    a=rtcp-fb:98 nack pli
    a=fmtp:98 profile-id=0
    a=rtpmap:99 rtx/90000
    a=fmtp:99 apt=98
    a=rtpmap:100 VP9/90000
    a=rtcp-fb:100 goog-remb
    a=rtcp-fb:100 transport-cc
    a=rtcp-fb:100 ccm fir
    a=rtcp-fb:100 nack
    a=rtcp-fb:100 nack pli
    a=fmtp:100 profile-id=2
    a=rtpmap:101 rtx/90000
    a=fmtp:101 apt=100
    a=rtpmap:35 VP9/90000
    a=rtcp-fb:35 goog-remb
    a=rtcp-fb:35 transport-cc
    a=rtcp-fb:35 ccm fir
    a=rtcp-fb:35 nack
    a=rtcp-fb:35 nack pli
    a=fmtp:35 profile-id=1
    a=rtpmap:36 rtx/90000
    a=fmtp:36 apt=35
    a=rtpmap:37 VP9/90000
    a=rtcp-fb:37 goog-remb
    a=rtcp-fb:37 transport-cc
    a=rtcp-fb:37 ccm fir
    a=rtcp-fb:37 nack
    a=rtcp-fb:37 nack pli
    a=fmtp:37 profile-id=3
    a=rtpmap:38 rtx/90000
    a=fmtp:38 apt=37
    a=rtpmap:102 H264/90000
    a=rtcp-fb:102 goog-remb
    a=rtcp-fb:102 transport-cc
    a=rtcp-fb:102 ccm fir
    a=rtcp-fb:102 nack
    a=rtcp-fb:102 nack pli
    a=fmtp:102 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42001f
    a=rtpmap:103 rtx/90000
    a=fmtp:103 apt=102
    a=rtpmap:104 H264/90000
    a=rtcp-fb:104 goog-remb
    a=rtcp-fb:104 transport-cc
    a=rtcp-fb:104 ccm fir
    a=rtcp-fb:104 nack
    a=rtcp-fb:104 nack pli
    a=fmtp:104 level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=42001f
    a=rtpmap:107 rtx/90000
    a=fmtp:107 apt=104
    a=rtpmap:108 H264/90000
    a=rtcp-fb:108 goog-remb
    a=rtcp-fb:108 transport-cc
    a=rtcp-fb:108 ccm fir
    a=rtcp-fb:108 nack
    a=rtcp-fb:108 nack pli
    a=fmtp:108 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f
    a=rtpmap:109 rtx/90000
    a=fmtp:109 apt=108
    a=rtpmap:114 H264/90000
    a=rtcp-fb:114 goog-remb
    a=rtcp-fb:114 transport-cc
    a=rtcp-fb:114 ccm fir
    a=rtcp-fb:114 nack
    a=rtcp-fb:114 nack pli
    a=fmtp:114 level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=42e01f
    a=rtpmap:115 rtx/90000
    a=fmtp:115 apt=114
    a=rtpmap:116 H264/90000
    a=rtcp-fb:116 goog-remb
    a=rtcp-fb:116 transport-cc
    a=rtcp-fb:116 ccm fir
    a=rtcp-fb:116 nack
    a=rtcp-fb:116 nack pli
    a=fmtp:116 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=4d001f
    a=rtpmap:117 rtx/90000
    a=fmtp:117 apt=116
    a=rtpmap:39 H264/90000
    a=rtcp-fb:39 goog-remb
    a=rtcp-fb:39 transport-cc
    a=rtcp-fb:39 ccm fir
    a=rtcp-fb:39 nack
    a=rtcp-fb:39 nack pli
    a=fmtp:39 level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=4d001f
    a=rtpmap:40 rtx/90000
    a=fmtp:40 apt=39
    a=rtpmap:41 H264/90000
    a=rtcp-fb:41 goog-remb
    a=rtcp-fb:41 transport-cc
    a=rtcp-fb:41 ccm fir
    a=rtcp-fb:41 nack
    a=rtcp-fb:41 nack pli
    a=fmtp:41 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=f4001f
    a=rtpmap:42 rtx/90000
    a=fmtp:42 apt=41
    a=rtpmap:43 H264/90000
    a=rtcp-fb:43 goog-remb
    a=rtcp-fb:43 transport-cc
    a=rtcp-fb:43 ccm fir
    a=rtcp-fb:43 nack
    a=rtcp-fb:43 nack pli
    a=fmtp:43 level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=f4001f
    a=rtpmap:44 rtx/90000
    a=fmtp:44 apt=43
    a=rtpmap:45 AV1/90000
    a=rtcp-fb:45 goog-remb
    a=rtcp-fb:45 transport-cc
    a=rtcp-fb:45 ccm fir
    a=rtcp-fb:45 nack
    a=rtcp-fb:45 nack pli
    a=fmtp:45 level-idx=5;profile=0;tier=0
    a=rtpmap:46 rtx/90000
    a=fmtp:46 apt=45
    a=rtpmap:47 AV1/90000
    a=rtcp-fb:47 goog-remb
    a=rtcp-fb:47 transport-cc
    a=rtcp-fb:47 ccm fir
    a=rtcp-fb:47 nack
    a=rtcp-fb:47 nack pli
    a=fmtp:47 level-idx=5;profile=1;tier=0
    a=rtpmap:48 rtx/90000
    a=fmtp:48 apt=47
    a=rtpmap:118 red/90000
    a=rtpmap:119 rtx/90000
    a=fmtp:119 apt=118
    a=rtpmap:120 ulpfec/90000
    a=rtpmap:49 flexfec-03/90000
    a=rtcp-fb:49 goog-remb
    a=rtcp-fb:49 transport-cc
    a=fmtp:49 repair-window=10000000
    """

    /// Firefox ESR (Debian, no OpenH264 plugin: no H.264), recvonly audio + video.
    static let firefoxSubscribe = """
    v=0
    o=mozilla...THIS_IS_SDPARTA-99.0 8712789055814286669 0 IN IP4 0.0.0.0
    s=-
    t=0 0
    a=fingerprint:sha-256 B8:83:87:F7:2F:56:CA:54:28:93:9C:70:5D:94:66:99:C5:37:7A:26:D9:D2:7D:16:6E:D7:3B:20:61:CD:95:D2
    a=group:BUNDLE 0 1
    a=ice-options:trickle
    a=msid-semantic:WMS *
    m=audio 9 UDP/TLS/RTP/SAVPF 109 9 0 8 101
    c=IN IP4 0.0.0.0
    a=recvonly
    a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level
    a=extmap:2/recvonly urn:ietf:params:rtp-hdrext:csrc-audio-level
    a=extmap:3 urn:ietf:params:rtp-hdrext:sdes:mid
    a=extmap:7 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01
    a=extmap-allow-mixed
    a=fmtp:109 maxplaybackrate=48000;stereo=1;useinbandfec=1
    a=fmtp:101 0-15
    a=ice-pwd:92a614d53a62144d43fb74a113088e2f
    a=ice-ufrag:c83a7348
    a=mid:0
    a=rtcp-fb:109 transport-cc
    a=rtcp-fb:9 transport-cc
    a=rtcp-fb:0 transport-cc
    a=rtcp-fb:8 transport-cc
    a=rtcp-mux
    a=rtpmap:109 opus/48000/2
    a=rtpmap:9 G722/8000/1
    a=rtpmap:0 PCMU/8000
    a=rtpmap:8 PCMA/8000
    a=rtpmap:101 telephone-event/8000/1
    a=setup:actpass
    a=ssrc:1350788438 cname:{d42e3e1a-9c88-4155-8f32-3c9560e16b84}
    m=video 9 UDP/TLS/RTP/SAVPF 120 124 121 125 99 100 123 122 119
    c=IN IP4 0.0.0.0
    a=recvonly
    a=extmap:3 urn:ietf:params:rtp-hdrext:sdes:mid
    a=extmap:4 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time
    a=extmap:5 urn:ietf:params:rtp-hdrext:toffset
    a=extmap:6/recvonly http://www.webrtc.org/experiments/rtp-hdrext/playout-delay
    a=extmap:7 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01
    a=extmap-allow-mixed
    a=fmtp:120 max-fs=12288;max-fr=60
    a=fmtp:124 apt=120
    a=fmtp:121 max-fs=12288;max-fr=60
    a=fmtp:125 apt=121
    a=fmtp:100 apt=99
    a=fmtp:119 apt=122
    a=ice-pwd:92a614d53a62144d43fb74a113088e2f
    a=ice-ufrag:c83a7348
    a=mid:1
    a=rtcp-fb:120 nack
    a=rtcp-fb:120 nack pli
    a=rtcp-fb:120 ccm fir
    a=rtcp-fb:120 goog-remb
    a=rtcp-fb:120 transport-cc
    a=rtcp-fb:121 nack
    a=rtcp-fb:121 nack pli
    a=rtcp-fb:121 ccm fir
    a=rtcp-fb:121 goog-remb
    a=rtcp-fb:121 transport-cc
    a=rtcp-fb:99 nack
    a=rtcp-fb:99 nack pli
    a=rtcp-fb:99 ccm fir
    a=rtcp-fb:99 goog-remb
    a=rtcp-fb:99 transport-cc
    a=rtcp-fb:123 nack
    a=rtcp-fb:123 nack pli
    a=rtcp-fb:123 ccm fir
    a=rtcp-fb:123 goog-remb
    a=rtcp-fb:123 transport-cc
    a=rtcp-fb:122 nack
    a=rtcp-fb:122 nack pli
    a=rtcp-fb:122 ccm fir
    a=rtcp-fb:122 goog-remb
    a=rtcp-fb:122 transport-cc
    a=rtcp-mux
    a=rtcp-rsize
    a=rtpmap:120 VP8/90000
    a=rtpmap:124 rtx/90000
    a=rtpmap:121 VP9/90000
    a=rtpmap:125 rtx/90000
    a=rtpmap:99 AV1/90000
    a=rtpmap:100 rtx/90000
    a=rtpmap:123 ulpfec/90000
    a=rtpmap:122 red/90000
    a=rtpmap:119 rtx/90000
    a=setup:actpass
    a=ssrc:2741188471 cname:{d42e3e1a-9c88-4155-8f32-3c9560e16b84}
    """

    /// Firefox ESR (Debian), fake camera, sendonly video.
    static let firefoxPublish = """
    v=0
    o=mozilla...THIS_IS_SDPARTA-99.0 2635953536691161591 0 IN IP4 0.0.0.0
    s=-
    t=0 0
    a=fingerprint:sha-256 38:27:B9:63:8A:40:88:C3:B5:A9:6D:90:19:86:BD:E4:36:8E:0A:B2:FD:40:BC:FE:0B:A8:7E:C0:6B:BD:A4:CE
    a=group:BUNDLE 0
    a=ice-options:trickle
    a=msid-semantic:WMS *
    m=video 9 UDP/TLS/RTP/SAVPF 120 124 121 125 99 100 123 122 119
    c=IN IP4 0.0.0.0
    a=sendonly
    a=extmap:3 urn:ietf:params:rtp-hdrext:sdes:mid
    a=extmap:4 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time
    a=extmap:5 urn:ietf:params:rtp-hdrext:toffset
    a=extmap:6/recvonly http://www.webrtc.org/experiments/rtp-hdrext/playout-delay
    a=extmap:7 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01
    a=extmap-allow-mixed
    a=fmtp:120 max-fs=12288;max-fr=60
    a=fmtp:124 apt=120
    a=fmtp:121 max-fs=12288;max-fr=60
    a=fmtp:125 apt=121
    a=fmtp:100 apt=99
    a=fmtp:119 apt=122
    a=ice-pwd:c2029ba9a382ec28c26729774e35933d
    a=ice-ufrag:11d97ae0
    a=mid:0
    a=msid:{60f4ef57-b7c6-4c0a-b257-2b00e26b6412} {fe5f577a-3cc9-442b-84fb-afbb28436391}
    a=rtcp-fb:120 nack
    a=rtcp-fb:120 nack pli
    a=rtcp-fb:120 ccm fir
    a=rtcp-fb:120 goog-remb
    a=rtcp-fb:120 transport-cc
    a=rtcp-fb:121 nack
    a=rtcp-fb:121 nack pli
    a=rtcp-fb:121 ccm fir
    a=rtcp-fb:121 goog-remb
    a=rtcp-fb:121 transport-cc
    a=rtcp-fb:99 nack
    a=rtcp-fb:99 nack pli
    a=rtcp-fb:99 ccm fir
    a=rtcp-fb:99 goog-remb
    a=rtcp-fb:99 transport-cc
    a=rtcp-fb:123 nack
    a=rtcp-fb:123 nack pli
    a=rtcp-fb:123 ccm fir
    a=rtcp-fb:123 goog-remb
    a=rtcp-fb:123 transport-cc
    a=rtcp-fb:122 nack
    a=rtcp-fb:122 nack pli
    a=rtcp-fb:122 ccm fir
    a=rtcp-fb:122 goog-remb
    a=rtcp-fb:122 transport-cc
    a=rtcp-mux
    a=rtcp-rsize
    a=rtpmap:120 VP8/90000
    a=rtpmap:124 rtx/90000
    a=rtpmap:121 VP9/90000
    a=rtpmap:125 rtx/90000
    a=rtpmap:99 AV1/90000
    a=rtpmap:100 rtx/90000
    a=rtpmap:123 ulpfec/90000
    a=rtpmap:122 red/90000
    a=rtpmap:119 rtx/90000
    a=setup:actpass
    a=ssrc:4186018121 cname:{07788f63-02ba-4e81-a97d-bf32d7233649}
    a=ssrc:2171645892 cname:{07788f63-02ba-4e81-a97d-bf32d7233649}
    a=ssrc-group:FID 4186018121 2171645892
    """

    /// aiortc 1.16, sendonly video.
    static let aiortcPublish = """
    v=0
    o=- 4004440306 4004440306 IN IP4 0.0.0.0
    s=-
    t=0 0
    a=group:BUNDLE 0
    a=msid-semantic:WMS *
    m=video 57884 UDP/TLS/RTP/SAVPF 97 98 99 100 101 102
    c=IN IP4 192.0.2.2
    a=sendonly
    a=extmap:1 urn:ietf:params:rtp-hdrext:sdes:mid
    a=extmap:3 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time
    a=mid:0
    a=msid:d2d12d3b-e29e-4092-8688-26692e67b571 3f6f79e4-18de-427d-92df-3c52f346f25a
    a=rtcp:9 IN IP4 0.0.0.0
    a=rtcp-mux
    a=ssrc-group:FID 1933724476 2463810869
    a=ssrc:1933724476 cname:90b0070e-3cee-478e-980c-57a0aead91ec
    a=ssrc:2463810869 cname:90b0070e-3cee-478e-980c-57a0aead91ec
    a=rtpmap:97 VP8/90000
    a=rtcp-fb:97 nack
    a=rtcp-fb:97 nack pli
    a=rtcp-fb:97 goog-remb
    a=rtpmap:98 rtx/90000
    a=fmtp:98 apt=97
    a=rtpmap:99 H264/90000
    a=rtcp-fb:99 nack
    a=rtcp-fb:99 nack pli
    a=rtcp-fb:99 goog-remb
    a=fmtp:99 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42001f
    a=rtpmap:100 rtx/90000
    a=fmtp:100 apt=99
    a=rtpmap:101 H264/90000
    a=rtcp-fb:101 nack
    a=rtcp-fb:101 nack pli
    a=rtcp-fb:101 goog-remb
    a=fmtp:101 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f
    a=rtpmap:102 rtx/90000
    a=fmtp:102 apt=101
    a=ice-ufrag:EMPI
    a=ice-pwd:Z6jlIKjxGuNrlwbNE4dxxw
    a=fingerprint:sha-256 6C:CE:09:46:0C:5D:21:69:B2:05:1F:CC:94:96:35:F2:68:B1:41:92:28:8D:AB:42:F4:E2:10:17:63:3B:76:44
    a=fingerprint:sha-384 BD:AB:CE:D5:B9:38:16:68:D4:4C:CB:94:CC:07:45:A7:20:A8:66:AF:9E:67:B4:27:3E:AC:AA:54:FE:3B:63:A5:A4:8C:85:F0:F1:AC:42:32:D0:8A:53:55:D5:4B:5D:71
    a=fingerprint:sha-512 19:C0:3A:87:89:8A:E6:0B:8E:11:C2:A9:46:83:51:72:D7:F5:B4:FC:E9:95:C0:C5:C3:87:6C:2E:CC:5A:EF:E6:58:EA:17:EB:37:79:92:34:30:5D:4F:F8:76:AE:A3:6E:47:4B:EA:1E:F0:F3:9A:C7:B8:12:33:75:72:88:1E:1E
    a=setup:actpass
    """

    /// aiortc 1.16, recvonly audio + video.
    static let aiortcSubscribe = """
    v=0
    o=- 4004440306 4004440306 IN IP4 0.0.0.0
    s=-
    t=0 0
    a=group:BUNDLE 0 1
    a=msid-semantic:WMS *
    m=audio 36408 UDP/TLS/RTP/SAVPF 96 9 0 8
    c=IN IP4 192.0.2.2
    a=recvonly
    a=extmap:1 urn:ietf:params:rtp-hdrext:sdes:mid
    a=extmap:2 urn:ietf:params:rtp-hdrext:ssrc-audio-level
    a=mid:0
    a=msid:ea468c46-731a-4096-83eb-5b65c77e1aba d6f33cc5-f099-4978-b226-b0ad44124d9f
    a=rtcp:9 IN IP4 0.0.0.0
    a=rtcp-mux
    a=ssrc:3944969540 cname:6a9a9727-00fe-4b05-b0c5-282b5b116879
    a=rtpmap:96 opus/48000/2
    a=rtpmap:9 G722/8000
    a=rtpmap:0 PCMU/8000
    a=rtpmap:8 PCMA/8000
    a=ice-ufrag:9peS
    a=ice-pwd:hFGLttfBjQJyeyFL2Rn9lu
    a=fingerprint:sha-256 45:C7:68:C9:9F:3B:73:C8:F1:F9:9F:9B:73:DB:BC:77:89:28:11:74:C6:C6:54:B1:D2:88:00:16:49:0D:A4:61
    a=fingerprint:sha-384 7B:9D:D6:39:27:01:F6:D6:D3:8B:DC:B2:8E:A3:E0:19:11:AF:E9:DB:A9:17:DB:44:41:D2:9C:F7:C5:2E:9F:3A:38:34:C9:DA:F5:DC:21:A4:05:F5:6C:73:FC:BA:B5:DB
    a=fingerprint:sha-512 D1:6C:F8:1B:A1:0B:32:E2:FD:8C:47:0F:6B:67:FE:47:A2:12:DE:1E:BA:C4:9B:97:41:E8:8E:DF:B9:03:50:EF:60:D9:4E:37:DD:73:29:9B:11:7B:C3:DA:37:FC:52:ED:4E:61:5D:EA:D0:A4:47:8C:12:71:F7:40:86:BD:3B:99
    a=setup:actpass
    m=video 50408 UDP/TLS/RTP/SAVPF 97 98 99 100 101 102
    c=IN IP4 192.0.2.2
    a=recvonly
    a=extmap:1 urn:ietf:params:rtp-hdrext:sdes:mid
    a=extmap:3 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time
    a=mid:1
    a=msid:ea468c46-731a-4096-83eb-5b65c77e1aba 41c722b4-ba0b-4345-b47e-f3a01f67a760
    a=rtcp:9 IN IP4 0.0.0.0
    a=rtcp-mux
    a=ssrc-group:FID 3476440417 3688611126
    a=ssrc:3476440417 cname:6a9a9727-00fe-4b05-b0c5-282b5b116879
    a=ssrc:3688611126 cname:6a9a9727-00fe-4b05-b0c5-282b5b116879
    a=rtpmap:97 VP8/90000
    a=rtcp-fb:97 nack
    a=rtcp-fb:97 nack pli
    a=rtcp-fb:97 goog-remb
    a=rtpmap:98 rtx/90000
    a=fmtp:98 apt=97
    a=rtpmap:99 H264/90000
    a=rtcp-fb:99 nack
    a=rtcp-fb:99 nack pli
    a=rtcp-fb:99 goog-remb
    a=fmtp:99 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42001f
    a=rtpmap:100 rtx/90000
    a=fmtp:100 apt=99
    a=rtpmap:101 H264/90000
    a=rtcp-fb:101 nack
    a=rtcp-fb:101 nack pli
    a=rtcp-fb:101 goog-remb
    a=fmtp:101 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f
    a=rtpmap:102 rtx/90000
    a=fmtp:102 apt=101
    a=ice-ufrag:9peS
    a=ice-pwd:hFGLttfBjQJyeyFL2Rn9lu
    a=fingerprint:sha-256 45:C7:68:C9:9F:3B:73:C8:F1:F9:9F:9B:73:DB:BC:77:89:28:11:74:C6:C6:54:B1:D2:88:00:16:49:0D:A4:61
    a=fingerprint:sha-384 7B:9D:D6:39:27:01:F6:D6:D3:8B:DC:B2:8E:A3:E0:19:11:AF:E9:DB:A9:17:DB:44:41:D2:9C:F7:C5:2E:9F:3A:38:34:C9:DA:F5:DC:21:A4:05:F5:6C:73:FC:BA:B5:DB
    a=fingerprint:sha-512 D1:6C:F8:1B:A1:0B:32:E2:FD:8C:47:0F:6B:67:FE:47:A2:12:DE:1E:BA:C4:9B:97:41:E8:8E:DF:B9:03:50:EF:60:D9:4E:37:DD:73:29:9B:11:7B:C3:DA:37:FC:52:ED:4E:61:5D:EA:D0:A4:47:8C:12:71:F7:40:86:BD:3B:99
    a=setup:actpass
    """
}
