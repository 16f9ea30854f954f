/* dcc_store.h — a model's weights (and an optimiser's state) in flash,
 * EEPROM or a file, so that they survive a reset and a power cut.
 * Portable C99: no malloc (every buffer is the caller's, plus at most a
 * few hundred bytes of stack), no stdio; the storage is reached only
 * through the caller's read/write/erase callbacks.
 *
 * The storage holds two banks, A and B, each a header and a payload:
 *
 *   offset  size  field
 *        0     2  version      DCC_STORE_FORMAT (1)
 *        2     2  real_size    sizeof(dcc_real): 4 (float) or 8 (double)
 *        4     4  signature    the model's PU_SIGNATURE
 *        8     4  sequence     1 + the other bank's, at each save (wraps)
 *       12     4  n_params     reals of params in the payload
 *       16     4  n_state      reals of optimiser state after them
 *       20     4  payload_crc  CRC-32 of the payload
 *       24     4  header_crc   CRC-32 of bytes 0..23
 *       28     4  magic        "dccW" (0x57636364): the commit marker
 *       32        payload      the params, then the state: (n_params +
 *                              n_state) * real_size bytes, as they are in
 *                              memory (IEEE 754, the machine's byte order)
 *
 * The header's integers are little-endian whatever the machine.  The
 * CRC-32 is the one of zlib, PNG and Ethernet (IEEE 802.3): polynomial
 * 0x04C11DB7, bits reflected (0xEDB88320), initial value and final XOR
 * 0xFFFFFFFF; the CRC of the ASCII "123456789" is 0xCBF43926.
 *
 * A bank is valid when its magic is there, both CRCs match and the version
 * is 1.  Loading takes the newest valid bank (by sequence number) and
 * refuses it if it is another model's: another signature, real size,
 * n_params, or (when the caller asks for the state) n_state.
 *
 * What survives a power cut.  A save never touches the bank that holds
 * the newest valid save: it writes the other one, in this order:
 *   1. with an erase callback, erase the target bank's units that the
 *      save will use, the header's first; without one (EEPROM, a file),
 *      overwrite the target's magic with zeros.  From here the target
 *      bank is invalid: its magic is gone.
 *   2. write the payload, then the header but its last 4 bytes (its
 *      last write unit, if larger), which hold the magic;
 *   3. read all of it back and compare (a difference: DCC_STORE_VERIFY,
 *      and the magic is not written);
 *   4. write those last bytes, the magic: the commit; read the header
 *      back.
 * The magic is written only once everything it vouches for is in place
 * and verified, and a magic torn by a cut is not the magic, so the target
 * is valid exactly when the save got through step 4's write; until then
 * the other bank, untouched, is the newest valid one.  A cut at any moment
 * therefore leaves either the old weights or the new ones loadable, never
 * a mix.  (A cut in step 1 may leave the target's own old contents
 * partly erased; the CRCs reject that, and even intact they are older
 * than the other bank's.)  dcc_store_save returns DCC_STORE_OK only when
 * the new weights are committed and read back; after an error, loading
 * gives the old weights, or the new ones if the error came after the
 * commit.
 *
 * Errors the CRCs detect: every single flipped bit, every burst of up to
 * 32 bits, and all but 1 in 2^32 of other corruption of a bank.
 *
 * Sequence numbers compare as serial numbers (RFC 1982): b is newer than a
 * when (b - a) mod 2^32 is in [1, 2^31).  The two banks of a store are at
 * most one save apart, so wrapping from 0xFFFFFFFF to 0 is seamless; two
 * equal numbers (which saves never make) or numbers 2^31 apart pick A.
 *
 * The device, as callbacks (each returns 0 on success, anything else on
 * failure, which makes the call return DCC_STORE_IO):
 *   read(ctx, offset, buf, len)   any offset and length;
 *   write(ctx, offset, buf, len)  offset and len multiples of write_unit;
 *                                 on NOR flash the store writes each byte
 *                                 at most once between erases, and only
 *                                 over erased bytes (what it needs: writes
 *                                 that can only clear bits);
 *   erase(ctx, offset, len)       one erase unit: offset a multiple of
 *                                 erase_unit, len == erase_unit; the value
 *                                 it leaves does not matter (0xFF on NOR).
 *                                 NULL for byte-writable storage (EEPROM,
 *                                 a file, RAM), which is then only written.
 * Offsets are the storage's, from 0; a bank starts at bank_offset[b] and
 * has bank_size bytes, which must be a multiple of erase_unit (with erase)
 * and hold DCC_STORE_BYTES(n_params + n_state) bytes.  write_unit is the
 * device's programming unit: a power of two up to DCC_STORE_MAX_WRITE_UNIT
 * (0 and 1: any byte), e.g. 8 for an STM32L4's double-words, 32 for an
 * STM32H7's flash words; bank offsets are multiples of it.  The last
 * write unit of the payload is padded with 0xFF.
 *
 * Example: the digits model (dcc --real float), its weights in two 16 KiB
 * sectors of the flash, and Adam's two moments beside them:
 *
 *     #include "dcc_store.h"
 *     #include "digits.h"
 *
 *     static int rd(void *c, uint32_t o, void *b, uint32_t n) { ... }
 *     static int wr(void *c, uint32_t o, const void *b, uint32_t n) { ... }
 *     static int er(void *c, uint32_t o, uint32_t n) { ... }
 *
 *     dcc_store s = {0};
 *     s.read = rd, s.write = wr, s.erase = er;
 *     s.bank_offset[0] = 0x8000, s.bank_offset[1] = 0xC000;
 *     s.bank_size = 0x4000, s.erase_unit = 0x4000, s.write_unit = 8;
 *     s.signature = DIGITS_SIGNATURE;
 *     s.n_params = DIGITS_N_PARAMS, s.n_state = 2 * DIGITS_N_GRAD;
 *
 *     dcc_real p[DIGITS_N_PARAMS], adam[2 * DIGITS_N_GRAD];
 *     if (dcc_store_load(&s, p, adam, NULL) != DCC_STORE_OK) {
 *       digits_init(p, 1);               // nothing saved yet, or another model's
 *       memset(adam, 0, sizeof adam);
 *     }
 *     ...train...
 *     int e = dcc_store_save(&s, p, adam, NULL);
 *     if (e) report(dcc_store_strerror(e));
 *     ...validation loss got worse:
 *     dcc_store_rollback(&s, p, adam, NULL);   // back to the save before
 */
#ifndef DCC_STORE_H
#define DCC_STORE_H

#include <stdint.h>

#include "dcc_train.h" /* dcc_real */

#ifdef __cplusplus
extern "C" {
#endif

#define DCC_STORE_FORMAT 1
#define DCC_STORE_HEADER_SIZE 32
#define DCC_STORE_MAX_WRITE_UNIT 32
/* The bytes of a bank that a save of n reals (params + state) uses. */
#define DCC_STORE_BYTES(n) (DCC_STORE_HEADER_SIZE + (uint32_t)(n) * (uint32_t)sizeof(dcc_real))

/* Results (0, or negative). */
#define DCC_STORE_OK 0
#define DCC_STORE_EMPTY (-1)       /* no bank holds a committed save */
#define DCC_STORE_CORRUPT (-2)     /* a save's CRC fails, or its header is impossible */
#define DCC_STORE_BAD_VERSION (-3) /* a save in a format version this runtime does not know */
#define DCC_STORE_WRONG_MODEL (-4) /* the save is another model's: its signature differs */
#define DCC_STORE_WRONG_SIZE (-5)  /* same signature, but n_params or the real type's size differs */
#define DCC_STORE_WRONG_STATE (-6) /* the save's optimiser state is not n_state reals */
#define DCC_STORE_NO_PREVIOUS (-7) /* no valid save older than the newest */
#define DCC_STORE_IO (-8)          /* a read, write or erase callback failed */
#define DCC_STORE_VERIFY (-9)      /* what was read back differs from what was written */
#define DCC_STORE_NO_SPACE (-10)   /* header and payload do not fit in a bank */
#define DCC_STORE_BAD_CONFIG (-11) /* the dcc_store is inconsistent (callbacks, units, banks) */
#define DCC_STORE_BAD_ARG (-12)    /* a NULL pointer where data is needed */

/* Where the weights live, and whose they are.  Only read by the calls:
 * it can be const, in flash. */
typedef struct {
  int (*read)(void *ctx, uint32_t offset, void *buf, uint32_t len);
  int (*write)(void *ctx, uint32_t offset, const void *buf, uint32_t len);
  int (*erase)(void *ctx, uint32_t offset, uint32_t len); /* NULL: no erase */
  void *ctx;
  uint32_t bank_offset[2]; /* banks A and B; they must not overlap */
  uint32_t bank_size;
  uint32_t erase_unit; /* with erase: bytes of one erase */
  uint32_t write_unit; /* 0 or 1: any byte; else a power of two <= 32 */
  uint32_t signature;  /* the model's PU_SIGNATURE */
  uint32_t n_params;   /* PU_N_PARAMS */
  uint32_t n_state;    /* reals of optimiser state saved with them (0: none) */
} dcc_store;

/* What a call found and did (every call accepts NULL).  Filled once the
 * call has read the banks: not after DCC_STORE_BAD_CONFIG, _NO_SPACE,
 * _BAD_ARG, or an I/O error while reading them. */
typedef struct {
  int bank;             /* the bank loaded, written or rolled back to: 0 (A), 1 (B), -1 none */
  int status[2];        /* each bank as this store judges it: DCC_STORE_OK (valid and
                           this model's), _EMPTY, _CORRUPT, _BAD_VERSION,
                           _WRONG_MODEL, _WRONG_SIZE, _WRONG_STATE */
  uint32_t sequence[2]; /* each bank's sequence number, where its header is valid */
} dcc_store_info;

/* Save p (n_params reals) and, when n_state > 0, state (n_state reals)
 * into the bank that does not hold the newest valid save of any model
 * (with none, bank A, unless A holds a save of an unknown format version
 * and B does not), in the order at the top of this file.  DCC_STORE_OK
 * once they are committed and read back.  It reads both banks (to find
 * the newest valid one), then writes one and reads it back. */
int dcc_store_save(const dcc_store *s, const dcc_real *p, const dcc_real *state, dcc_store_info *info);

/* Load the newest valid save into p and, with state and n_state > 0,
 * into state.  The state must then be n_state reals in the save
 * (DCC_STORE_WRONG_STATE otherwise: a save made without one, say); with
 * state NULL or n_state 0 the save's state, of any length, is skipped:
 * params saved with Adam's moments load into an inference build.
 * p and state are written only after the bank is verified, so on an
 * error they are as they were, except when the copy itself fails (a read
 * error, DCC_STORE_IO, or the storage reading differently from a moment
 * before, DCC_STORE_CORRUPT): then they are unspecified.  It reads both
 * banks once, and the one it loads once more. */
int dcc_store_load(const dcc_store *s, dcc_real *p, dcc_real *state, dcc_store_info *info);

/* Load the save before the newest (the other bank), leaving the storage
 * as it is: to compare, or to decide on a rollback.  DCC_STORE_NO_PREVIOUS
 * when the other bank holds no valid save; refusals and state as in
 * dcc_store_load. */
int dcc_store_load_previous(const dcc_store *s, dcc_real *p, dcc_real *state, dcc_store_info *info);

/* Roll back: make the save before the newest the newest again, by
 * invalidating the newest bank (with erase, its header's erase unit;
 * without, zeros over its magic), and load it into p and state (either
 * may be NULL: roll back without loading).  The previous save is verified
 * first; if it is missing or another model's, nothing is changed and the
 * result says why.  A cut during the rollback leaves the newest save or
 * the previous one.  The next save goes into the invalidated bank. */
int dcc_store_rollback(const dcc_store *s, dcc_real *p, dcc_real *state, dcc_store_info *info);

/* What dcc_store_load would return with a state buffer, without copying
 * anything (info says what each bank holds). */
int dcc_store_scan(const dcc_store *s, dcc_store_info *info);

/* A sentence for a result code. */
const char *dcc_store_strerror(int code);

/* The CRC-32 above, continued from crc over len bytes (start from 0;
 * zlib's crc32 convention: crc32(crc32(0, a), b) is the CRC of a then b). */
uint32_t dcc_store_crc32(uint32_t crc, const void *data, uint32_t len);

#ifdef __cplusplus
}
#endif

#endif
