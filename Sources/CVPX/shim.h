#pragma once
#include <vpx/vpx_encoder.h>
#include <vpx/vpx_decoder.h>
#include <vpx/vp8cx.h>
#include <vpx/vp8dx.h>

// vpx_codec_enc_init is a macro and packets are a union: one inline wrapper each, no logic.
static inline vpx_codec_err_t cvpx_vp8_encoder_init(vpx_codec_ctx_t *ctx, vpx_codec_enc_cfg_t *cfg) {
    vpx_codec_err_t err = vpx_codec_enc_config_default(vpx_codec_vp8_cx(), cfg, 0);
    return err;
}
static inline vpx_codec_err_t cvpx_vp8_encoder_open(vpx_codec_ctx_t *ctx, const vpx_codec_enc_cfg_t *cfg) {
    return vpx_codec_enc_init(ctx, vpx_codec_vp8_cx(), cfg, 0);
}
static inline int cvpx_frame_packet(const vpx_codec_cx_pkt_t *pkt, const void **buf, size_t *size, int *keyframe) {
    if (pkt->kind != VPX_CODEC_CX_FRAME_PKT) return 0;
    *buf = pkt->data.frame.buf;
    *size = pkt->data.frame.sz;
    *keyframe = (pkt->data.frame.flags & VPX_FRAME_IS_KEY) != 0;
    return 1;
}
static inline vpx_enc_frame_flags_t cvpx_force_keyframe(void) { return VPX_EFLAG_FORCE_KF; }
static inline unsigned long cvpx_realtime(void) { return VPX_DL_REALTIME; }
