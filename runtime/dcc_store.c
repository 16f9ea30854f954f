/* dcc_store.c — weights in two banks that survive a power cut.
 * No malloc and no stdio: see dcc_store.h for the layout and the order of
 * the writes, which is what the power-cut guarantee rests on. */
#include "dcc_store.h"

#include <stddef.h>
#include <string.h>

#define MAGIC 0x57636364u /* "dccW" in little-endian bytes */
#define HDR DCC_STORE_HEADER_SIZE
#define CHUNK 64 /* bytes staged on the stack: a multiple of every write unit */
#define HEADER_CRC_AT 24
#define MAGIC_AT 28

/* A bank's header, decoded. */
typedef struct {
  uint32_t version, real_size, signature, sequence, n_params, n_state, payload_crc;
  uint32_t payload_len; /* (n_params + n_state) * real_size */
} header;

/* Both banks as a scan found them. */
typedef struct {
  int valid[2];      /* DCC_STORE_OK, _EMPTY, _CORRUPT or _BAD_VERSION */
  int has_header[2]; /* the header passed its CRC (sequence known) */
  header h[2];
  int newest, older; /* valid banks (-1: none) */
} scan_result;

/* ---- CRC-32 (IEEE 802.3, reflected 0xEDB88320), four bits at a time:
 * a 64-byte table instead of the usual 1 KiB one. */
static const uint32_t crc_nibble[16] = {
    0x00000000u, 0x1DB71064u, 0x3B6E20C8u, 0x26D930ACu, 0x76DC4190u, 0x6B6B51F4u, 0x4DB26158u, 0x5005713Cu,
    0xEDB88320u, 0xF00F9344u, 0xD6D6A3E8u, 0xCB61B38Cu, 0x9B64C2B0u, 0x86D3D2D4u, 0xA00AE278u, 0xBDBDF21Cu,
};

uint32_t dcc_store_crc32(uint32_t crc, const void *data, uint32_t len) {
  const unsigned char *b = (const unsigned char *)data;
  crc = ~crc;
  for (uint32_t i = 0; i < len; i++) {
    crc ^= b[i];
    crc = (crc >> 4) ^ crc_nibble[crc & 15u];
    crc = (crc >> 4) ^ crc_nibble[crc & 15u];
  }
  return ~crc;
}

/* ---- little-endian fields */
static uint32_t get16(const unsigned char *b) { return (uint32_t)b[0] | (uint32_t)b[1] << 8; }
static uint32_t get32(const unsigned char *b) {
  return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}
static void put16(unsigned char *b, uint32_t v) {
  b[0] = (unsigned char)(v & 0xFFu);
  b[1] = (unsigned char)(v >> 8 & 0xFFu);
}
static void put32(unsigned char *b, uint32_t v) {
  put16(b, v & 0xFFFFu);
  put16(b + 2, v >> 16);
}

static uint32_t round_up(uint32_t n, uint32_t unit) { return (n + unit - 1) / unit * unit; }

static uint32_t write_unit(const dcc_store *s) { return s->write_unit > 1 ? s->write_unit : 1; }

/* The last bytes of the header, written by the commit: the magic, and
 * the rest of its write unit. */
static uint32_t commit_size(const dcc_store *s) { return write_unit(s) > 4 ? write_unit(s) : 4; }

static uint32_t params_bytes(const dcc_store *s) { return s->n_params * (uint32_t)sizeof(dcc_real); }
static uint32_t state_bytes(const dcc_store *s) { return s->n_state * (uint32_t)sizeof(dcc_real); }

/* The dcc_store is usable, and this model's save fits in a bank.  (No
 * 64-bit division: it would pull a helper into a Cortex-M's flash.) */
static int check_config(const dcc_store *s) {
  if (!s || !s->read || !s->write)
    return DCC_STORE_BAD_CONFIG;
  uint32_t w = write_unit(s), a = s->bank_offset[0], b = s->bank_offset[1], size = s->bank_size;
  if (w > DCC_STORE_MAX_WRITE_UNIT || (w & (w - 1)) || size == 0 || size % w || a % w || b % w)
    return DCC_STORE_BAD_CONFIG;
  uint64_t end_a = (uint64_t)a + size, end_b = (uint64_t)b + size;
  if (end_a > 0x100000000u || end_b > 0x100000000u || (a < end_b && b < end_a))
    return DCC_STORE_BAD_CONFIG;
  if (s->erase) {
    uint32_t e = s->erase_unit;
    if (e == 0 || e % w || a % e || b % e || size % e)
      return DCC_STORE_BAD_CONFIG;
  }
  uint64_t need = HDR + ((uint64_t)s->n_params + s->n_state) * sizeof(dcc_real);
  if (need > size) /* and so is its last write unit: size is a multiple of w */
    return DCC_STORE_NO_SPACE;
  return DCC_STORE_OK;
}

/* The CRC of len bytes of storage from offset, continued from *crc. */
static int crc_storage(const dcc_store *s, uint32_t offset, uint32_t len, uint32_t *crc) {
  unsigned char buf[CHUNK];
  while (len) {
    uint32_t n = len < CHUNK ? len : CHUNK;
    if (s->read(s->ctx, offset, buf, n))
      return DCC_STORE_IO;
    *crc = dcc_store_crc32(*crc, buf, n);
    offset += n, len -= n;
  }
  return DCC_STORE_OK;
}

/* Bank b's header and payload: DCC_STORE_OK if the bank is valid (of any
 * model), else why not; *has_header when its header passed its CRC. */
static int scan_bank(const dcc_store *s, int b, header *h, int *has_header) {
  unsigned char raw[HDR];
  uint32_t base = s->bank_offset[b];
  *has_header = 0;
  if (s->read(s->ctx, base, raw, HDR))
    return DCC_STORE_IO;
  if (get32(raw + MAGIC_AT) != MAGIC)
    return DCC_STORE_EMPTY;
  if (dcc_store_crc32(0, raw, HEADER_CRC_AT) != get32(raw + HEADER_CRC_AT))
    return DCC_STORE_CORRUPT;
  h->version = get16(raw);
  h->real_size = get16(raw + 2);
  h->signature = get32(raw + 4);
  h->sequence = get32(raw + 8);
  h->n_params = get32(raw + 12);
  h->n_state = get32(raw + 16);
  h->payload_crc = get32(raw + 20);
  *has_header = 1;
  if (h->version != DCC_STORE_FORMAT)
    return DCC_STORE_BAD_VERSION;
  uint64_t len = ((uint64_t)h->n_params + h->n_state) * h->real_size;
  if (len > s->bank_size - HDR) /* a header no save of ours writes */
    return DCC_STORE_CORRUPT;
  h->payload_len = (uint32_t)len;
  uint32_t crc = 0;
  int r = crc_storage(s, base + HDR, h->payload_len, &crc);
  if (r)
    return r;
  return crc == h->payload_crc ? DCC_STORE_OK : DCC_STORE_CORRUPT;
}

/* b is newer than a: serial number arithmetic (RFC 1982). */
static int newer(uint32_t b, uint32_t a) { return (uint32_t)(b - a) - 1u < 0x7FFFFFFFu; }

static int scan_both(const dcc_store *s, scan_result *sc) {
  for (int b = 0; b < 2; b++) {
    sc->valid[b] = scan_bank(s, b, &sc->h[b], &sc->has_header[b]);
    if (sc->valid[b] == DCC_STORE_IO)
      return DCC_STORE_IO;
  }
  int a_ok = sc->valid[0] == DCC_STORE_OK, b_ok = sc->valid[1] == DCC_STORE_OK;
  if (a_ok && b_ok)
    sc->newest = newer(sc->h[1].sequence, sc->h[0].sequence) ? 1 : 0;
  else
    sc->newest = a_ok ? 0 : b_ok ? 1 : -1;
  sc->older = a_ok && b_ok ? 1 - sc->newest : -1;
  return DCC_STORE_OK;
}

/* Why no bank is valid: damage outranks an unknown version, which
 * outranks nothing saved. */
static int none_valid(const scan_result *sc) {
  if (sc->valid[0] == DCC_STORE_CORRUPT || sc->valid[1] == DCC_STORE_CORRUPT)
    return DCC_STORE_CORRUPT;
  if (sc->valid[0] == DCC_STORE_BAD_VERSION || sc->valid[1] == DCC_STORE_BAD_VERSION)
    return DCC_STORE_BAD_VERSION;
  return DCC_STORE_EMPTY;
}

/* A valid bank's save is this model's (with want_state, its optimiser
 * state's length too). */
static int judge(const dcc_store *s, const header *h, int want_state) {
  if (h->signature != s->signature)
    return DCC_STORE_WRONG_MODEL;
  if (h->real_size != sizeof(dcc_real) || h->n_params != s->n_params)
    return DCC_STORE_WRONG_SIZE;
  if (want_state && h->n_state != s->n_state)
    return DCC_STORE_WRONG_STATE;
  return DCC_STORE_OK;
}

static void fill_info(const dcc_store *s, const scan_result *sc, int want_state, dcc_store_info *info) {
  if (!info)
    return;
  info->bank = -1;
  for (int b = 0; b < 2; b++) {
    info->status[b] = sc->valid[b] == DCC_STORE_OK ? judge(s, &sc->h[b], want_state) : sc->valid[b];
    info->sequence[b] = sc->has_header[b] ? sc->h[b].sequence : 0;
  }
}

/* Read bank b's payload into p and state (either may be NULL: that part
 * is only read for the CRC), checking the CRC of what arrived. */
static int copy_out(const dcc_store *s, int b, const header *h, dcc_real *p, dcc_real *state) {
  uint32_t at = s->bank_offset[b] + HDR, lp = h->n_params * h->real_size;
  uint32_t ls = h->payload_len - lp, crc = 0;
  int r;
  if (p) {
    if (lp && s->read(s->ctx, at, p, lp))
      return DCC_STORE_IO;
    crc = dcc_store_crc32(crc, p, lp);
  } else if ((r = crc_storage(s, at, lp, &crc)) != DCC_STORE_OK) {
    return r;
  }
  if (state) {
    if (ls && s->read(s->ctx, at + lp, state, ls))
      return DCC_STORE_IO;
    crc = dcc_store_crc32(crc, state, ls);
  } else if ((r = crc_storage(s, at + lp, ls, &crc)) != DCC_STORE_OK) {
    return r;
  }
  return crc == h->payload_crc ? DCC_STORE_OK : DCC_STORE_CORRUPT;
}

/* Bytes [pos, pos + n) of the payload (params, then state, then 0xFF). */
static void payload_bytes(const dcc_store *s, const dcc_real *p, const dcc_real *state, uint32_t pos,
                          unsigned char *buf, uint32_t n) {
  uint32_t lp = params_bytes(s), ls = state_bytes(s);
  for (uint32_t i = 0; i < n;) {
    uint32_t at = pos + i, k;
    if (at < lp) {
      k = lp - at < n - i ? lp - at : n - i;
      memcpy(buf + i, (const unsigned char *)p + at, k);
    } else if (at < lp + ls) {
      k = lp + ls - at < n - i ? lp + ls - at : n - i;
      memcpy(buf + i, (const unsigned char *)state + (at - lp), k);
    } else {
      k = n - i;
      memset(buf + i, 0xFF, k);
    }
    i += k;
  }
}

/* Storage [offset, offset + n) holds want (n <= CHUNK). */
static int read_back(const dcc_store *s, uint32_t offset, const unsigned char *want, uint32_t n) {
  unsigned char got[CHUNK];
  if (s->read(s->ctx, offset, got, n))
    return DCC_STORE_IO;
  return memcmp(got, want, n) ? DCC_STORE_VERIFY : DCC_STORE_OK;
}

/* Erase the units of bank b that hold its first len bytes, the first
 * (the header's) first. */
static int erase_front(const dcc_store *s, int b, uint32_t len) {
  uint32_t end = round_up(len, s->erase_unit);
  for (uint32_t u = 0; u < end; u += s->erase_unit)
    if (s->erase(s->ctx, s->bank_offset[b] + u, s->erase_unit))
      return DCC_STORE_IO;
  return DCC_STORE_OK;
}

/* Make bank b invalid: its magic gone (erased, or zeros over it). */
static int invalidate(const dcc_store *s, int b) {
  static const unsigned char zeros[DCC_STORE_MAX_WRITE_UNIT];
  uint32_t c = commit_size(s);
  if (s->erase)
    return erase_front(s, b, HDR);
  return s->write(s->ctx, s->bank_offset[b] + HDR - c, zeros, c) ? DCC_STORE_IO : DCC_STORE_OK;
}

int dcc_store_save(const dcc_store *s, const dcc_real *p, const dcc_real *state, dcc_store_info *info) {
  int r = check_config(s);
  if (r)
    return r;
  if ((!p && s->n_params) || (!state && s->n_state))
    return DCC_STORE_BAD_ARG;
  scan_result sc;
  if ((r = scan_both(s, &sc)) != DCC_STORE_OK)
    return r;
  fill_info(s, &sc, 1, info);

  /* The target: never the bank of the newest valid save; with none,
   * rather not a save of a format version this runtime does not know. */
  int t = sc.newest >= 0 ? 1 - sc.newest : sc.valid[0] == DCC_STORE_BAD_VERSION && sc.valid[1] != DCC_STORE_BAD_VERSION;
  uint32_t seq = sc.newest < 0 ? 0 : sc.h[sc.newest].sequence + 1;
  uint32_t lp = params_bytes(s), ls = state_bytes(s), w = write_unit(s), c = commit_size(s);
  uint32_t base = s->bank_offset[t], padded = round_up(lp + ls, w);
  uint32_t crc = dcc_store_crc32(dcc_store_crc32(0, p, lp), state, ls);

  unsigned char hdr[HDR];
  memset(hdr, 0, sizeof hdr);
  put16(hdr, DCC_STORE_FORMAT);
  put16(hdr + 2, (uint32_t)sizeof(dcc_real));
  put32(hdr + 4, s->signature);
  put32(hdr + 8, seq);
  put32(hdr + 12, s->n_params);
  put32(hdr + 16, s->n_state);
  put32(hdr + 20, crc);
  put32(hdr + HEADER_CRC_AT, dcc_store_crc32(0, hdr, HEADER_CRC_AT));
  put32(hdr + MAGIC_AT, MAGIC);

  /* 1. The target's magic goes first. */
  if ((r = s->erase ? erase_front(s, t, HDR + padded) : invalidate(s, t)) != DCC_STORE_OK)
    return r;
  /* 2. The payload, then the header but its commit unit. */
  unsigned char buf[CHUNK];
  for (uint32_t pos = 0; pos < padded; pos += CHUNK) {
    uint32_t n = padded - pos < CHUNK ? padded - pos : CHUNK;
    payload_bytes(s, p, state, pos, buf, n);
    if (s->write(s->ctx, base + HDR + pos, buf, n))
      return DCC_STORE_IO;
  }
  if (HDR > c && s->write(s->ctx, base, hdr, HDR - c))
    return DCC_STORE_IO;
  /* 3. All of it as it should be. */
  for (uint32_t pos = 0; pos < padded; pos += CHUNK) {
    uint32_t n = padded - pos < CHUNK ? padded - pos : CHUNK;
    payload_bytes(s, p, state, pos, buf, n);
    if ((r = read_back(s, base + HDR + pos, buf, n)) != DCC_STORE_OK)
      return r;
  }
  if (HDR > c && (r = read_back(s, base, hdr, HDR - c)) != DCC_STORE_OK)
    return r;
  /* 4. The commit. */
  if (s->write(s->ctx, base + HDR - c, hdr + HDR - c, c))
    return DCC_STORE_IO;
  if ((r = read_back(s, base, hdr, HDR)) != DCC_STORE_OK)
    return r;
  if (info) {
    info->bank = t;
    info->status[t] = DCC_STORE_OK;
    info->sequence[t] = seq;
  }
  return DCC_STORE_OK;
}

/* The checks every loading call starts with; want_state as in judge. */
static int load_start(const dcc_store *s, int want_state, scan_result *sc, dcc_store_info *info) {
  int r = check_config(s);
  if (r)
    return r;
  if ((r = scan_both(s, sc)) != DCC_STORE_OK)
    return r;
  fill_info(s, sc, want_state, info);
  return sc->newest < 0 ? none_valid(sc) : DCC_STORE_OK;
}

int dcc_store_load(const dcc_store *s, dcc_real *p, dcc_real *state, dcc_store_info *info) {
  if (s && !p && s->n_params)
    return DCC_STORE_BAD_ARG;
  int want_state = state != NULL && s && s->n_state > 0;
  scan_result sc;
  int r = load_start(s, want_state, &sc, info);
  if (r)
    return r;
  if ((r = judge(s, &sc.h[sc.newest], want_state)) != DCC_STORE_OK)
    return r;
  if ((r = copy_out(s, sc.newest, &sc.h[sc.newest], p, want_state ? state : NULL)) != DCC_STORE_OK)
    return r;
  if (info)
    info->bank = sc.newest;
  return DCC_STORE_OK;
}

/* load_previous and rollback: the older valid save, judged, copied; with
 * roll, the newest invalidated after. */
static int previous(const dcc_store *s, dcc_real *p, dcc_real *state, dcc_store_info *info, int roll) {
  int want_state = state != NULL && s && s->n_state > 0;
  scan_result sc;
  int r = load_start(s, want_state, &sc, info);
  if (r)
    return r;
  if (sc.older < 0)
    return DCC_STORE_NO_PREVIOUS;
  if ((r = judge(s, &sc.h[sc.older], want_state)) != DCC_STORE_OK)
    return r;
  if ((r = copy_out(s, sc.older, &sc.h[sc.older], p, want_state ? state : NULL)) != DCC_STORE_OK)
    return r;
  if (roll) {
    if ((r = invalidate(s, sc.newest)) != DCC_STORE_OK)
      return r;
    unsigned char magic[4];
    if (s->read(s->ctx, s->bank_offset[sc.newest] + MAGIC_AT, magic, 4))
      return DCC_STORE_IO;
    if (get32(magic) == MAGIC)
      return DCC_STORE_VERIFY;
    if (info)
      info->status[sc.newest] = DCC_STORE_EMPTY;
  }
  if (info)
    info->bank = sc.older;
  return DCC_STORE_OK;
}

int dcc_store_load_previous(const dcc_store *s, dcc_real *p, dcc_real *state, dcc_store_info *info) {
  if (s && !p && s->n_params)
    return DCC_STORE_BAD_ARG;
  return previous(s, p, state, info, 0);
}

int dcc_store_rollback(const dcc_store *s, dcc_real *p, dcc_real *state, dcc_store_info *info) {
  return previous(s, p, state, info, 1);
}

int dcc_store_scan(const dcc_store *s, dcc_store_info *info) {
  int want_state = s && s->n_state > 0;
  scan_result sc;
  int r = load_start(s, want_state, &sc, info);
  if (r)
    return r;
  r = judge(s, &sc.h[sc.newest], want_state);
  if (!r && info)
    info->bank = sc.newest;
  return r;
}

const char *dcc_store_strerror(int code) {
  switch (code) {
  case DCC_STORE_OK:
    return "success";
  case DCC_STORE_EMPTY:
    return "no weights saved: neither bank holds a committed save";
  case DCC_STORE_CORRUPT:
    return "saved weights are damaged: a CRC does not match";
  case DCC_STORE_BAD_VERSION:
    return "saved weights are in a format version this runtime does not know";
  case DCC_STORE_WRONG_MODEL:
    return "saved weights are another model's (PU_SIGNATURE differs)";
  case DCC_STORE_WRONG_SIZE:
    return "saved weights have another number of params or real type";
  case DCC_STORE_WRONG_STATE:
    return "saved optimiser state has another length";
  case DCC_STORE_NO_PREVIOUS:
    return "no valid save before the newest";
  case DCC_STORE_IO:
    return "a read, write or erase of the storage failed";
  case DCC_STORE_VERIFY:
    return "the storage reads back differently from what was written";
  case DCC_STORE_NO_SPACE:
    return "the weights do not fit in a bank";
  case DCC_STORE_BAD_CONFIG:
    return "invalid dcc_store: callbacks, units or banks";
  case DCC_STORE_BAD_ARG:
    return "params or state missing (a NULL pointer)";
  default:
    return "unknown dcc_store result";
  }
}
