#pragma once
// Only spandsp's G.722 codec: <spandsp.h> would pull in every modem and fax header (and tiffio.h with them).
// telephony.h defines SPAN_DECLARE, which g722.h uses; it needs the fixed-width integer types first.
#include <stdint.h>
#include <spandsp/telephony.h>
#include <spandsp/g722.h>
