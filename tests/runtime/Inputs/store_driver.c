/* The checks of dcc_store (tests/runtime/store-*.test), on a simulated
 * device, with the five-point network's params (dcc's five_points.h,
 * --real float or double) and 18 reals of optimiser state beside them
 * (two per param, as Adam keeps).
 *
 * The device is 2048 bytes, bank A at 0 and bank B at 1024, in one of
 * these configurations:
 *   nor-w1-e64     NOR flash: erase sets 0xFF, writes only clear bits and
 *                  program each byte once between erases (the simulation
 *                  counts any other write as a broken rule); erase unit 64,
 *                  any byte writable; with state
 *   nor-w8-e128    8-byte program units (an STM32L4's double-words), erase
 *                  unit 128; with state
 *   nor-w32-e256   32-byte program units (an STM32H7's flash words), erase
 *                  unit 256; params only
 *   eeprom-w1      byte-writable storage, no erase (EEPROM, a file), its
 *                  bytes garbage at first; with state
 *   eeprom-w4      the same, written in 4-byte words; params only
 *
 * A power cut: the device stops after k bytes of writing or erasing
 * (counted across the calls of one save or rollback, in address order),
 * and every call after it fails until the reboot.  Three kinds:
 *   clean  the k bytes are done, nothing more;
 *   torn   also, the byte being written or erased is half done: a NOR
 *          write clears only its high nibble's bits, an erase sets only
 *          its high nibble, an EEPROM byte gets the new high nibble and
 *          keeps the old low one;
 *   fail   the write or erase returns an error after k bytes but the
 *          device stays up (the store must stop at the error).
 *
 * Modes (no argument: all but dump and load-image):
 *   cuts        every cut point of a save from 0, 1, 2 and 3 earlier saves,
 *               and of a rollback: loading gives the old or the new weights,
 *               bit for bit, and a save after it works
 *   flips       every single bit of header and payload flipped, in either
 *               bank: that bank is rejected, the other loads
 *   model       another model's weights, sizes and state lengths refused
 *   rollback    load_previous and rollback
 *   wrap        sequence numbers across 0xFFFFFFFF, ties
 *   errors      bad configurations and arguments, unknown versions, a
 *               device that does not hold what is written, failing reads,
 *               every result's sentence
 *   crc         the CRC-32 of "123456789" (its check value is 0xCBF43926)
 *   dump FILE   two saves (seeds 1 and 2, with state), the device's bytes
 *               into FILE and the saved values on standard output (for
 *               store_layout.py)
 *   load-image FILE SIGNATURE   load FILE's banks as a store of this
 *               build's model but with that signature (hex) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dcc_store.h"
#include "five_points.h"

#define NP FIVE_POINTS_N_PARAMS
#define NS (2 * FIVE_POINTS_N_GRAD)
#define SIM_SIZE 2048
#define BANK_B 1024

/* ---- the simulated device */
enum { CUT_CLEAN, CUT_TORN, CUT_FAIL };

typedef struct {
  unsigned char mem[SIM_SIZE];
  unsigned char programmed[SIM_SIZE]; /* NOR: written since the last erase */
  int nor;
  uint32_t write_unit, erase_unit;
  long budget; /* bytes of writing or erasing before the cut; -1: no cut */
  int cut_kind;
  int dead;
  long done;        /* bytes written or erased */
  long erased;      /* of which erased */
  int broken_rules; /* writes or erases the device does not allow */
  int fail_reads;   /* every read fails */
  int stuck_at;     /* a byte with a bit that never programs (-1: none) */
  int quiet;        /* a broken rule is expected: do not print it */
} sim;

static void rule(sim *d, const char *what, uint32_t at) {
  if (!d->broken_rules++ && !d->quiet)
    printf("device rule broken: %s at %u\n", what, (unsigned)at);
}

static int sim_read(void *ctx, uint32_t off, void *buf, uint32_t len) {
  sim *d = ctx;
  if (d->budget == 0 && d->cut_kind != CUT_FAIL)
    d->dead = 1; /* the power went after the last byte written */
  if (d->dead || d->fail_reads)
    return -1;
  if (off > SIM_SIZE || len > SIM_SIZE - off) {
    rule(d, "read out of range", off);
    return -1;
  }
  memcpy(buf, d->mem + off, len);
  return 0;
}

/* The cut: is it now?  For fail, also report the error. */
static int cut_now(sim *d) {
  if (d->budget != 0)
    return 0;
  if (d->cut_kind != CUT_FAIL)
    d->dead = 1;
  d->budget = -1;
  return 1;
}

static int sim_write(void *ctx, uint32_t off, const void *buf, uint32_t len) {
  sim *d = ctx;
  const unsigned char *b = buf;
  if (d->dead)
    return -1;
  if (off > SIM_SIZE || len > SIM_SIZE - off || off % d->write_unit || len % d->write_unit) {
    rule(d, "write misaligned or out of range", off);
    return -1;
  }
  for (uint32_t i = 0; i < len; i++) {
    unsigned char *m = &d->mem[off + i];
    if (cut_now(d)) {
      if (d->cut_kind == CUT_TORN)
        *m = d->nor ? (unsigned char)(*m & (b[i] | 0x0F)) : (unsigned char)((*m & 0x0F) | (b[i] & 0xF0));
      return -1;
    }
    if (d->nor) {
      if (d->programmed[off + i])
        rule(d, "NOR byte programmed twice without an erase", off + i);
      if ((*m & b[i]) != b[i])
        rule(d, "NOR write would set a bit", off + i);
      d->programmed[off + i] = 1;
      *m &= b[i];
      if ((int)(off + i) == d->stuck_at)
        *m |= 0x01;
    } else {
      *m = b[i];
    }
    d->done++;
    if (d->budget > 0)
      d->budget--;
  }
  return 0;
}

static int sim_erase(void *ctx, uint32_t off, uint32_t len) {
  sim *d = ctx;
  if (d->dead)
    return -1;
  if (!d->nor || off % d->erase_unit || len != d->erase_unit || off > SIM_SIZE - len) {
    rule(d, "erase misaligned, of the wrong length or on a device without erase", off);
    return -1;
  }
  for (uint32_t i = 0; i < len; i++) {
    if (cut_now(d)) {
      if (d->cut_kind == CUT_TORN)
        d->mem[off + i] |= 0xF0;
      return -1;
    }
    d->mem[off + i] = 0xFF;
    d->programmed[off + i] = 0;
    d->done++, d->erased++;
    if (d->budget > 0)
      d->budget--;
  }
  return 0;
}

/* ---- configurations */
typedef struct {
  const char *name;
  int nor;
  uint32_t write_unit, erase_unit, bank_size, n_state;
} config;

static const config configs[] = {
    {"nor-w1-e64", 1, 1, 64, 512, NS}, {"nor-w8-e128", 1, 8, 128, 512, NS}, {"nor-w32-e256", 1, 32, 256, 512, 0},
    {"eeprom-w1", 0, 1, 0, 320, NS},   {"eeprom-w4", 0, 4, 0, 320, 0},
};
#define N_CONFIGS (int)(sizeof configs / sizeof configs[0])

static void sim_reset(sim *d, const config *c) {
  memset(d, 0, sizeof *d);
  d->nor = c->nor;
  d->write_unit = c->write_unit;
  d->erase_unit = c->erase_unit;
  d->budget = -1;
  d->stuck_at = -1;
  if (c->nor) {
    memset(d->mem, 0xFF, sizeof d->mem);
  } else {
    uint32_t x = 12345; /* a fresh EEPROM or file: anything */
    for (int i = 0; i < SIM_SIZE; i++) {
      x = x * 1103515245u + 12345u;
      d->mem[i] = (unsigned char)(x >> 16);
    }
  }
}

static dcc_store store_of(const config *c, sim *d) {
  dcc_store s;
  memset(&s, 0, sizeof s);
  s.read = sim_read;
  s.write = sim_write;
  s.erase = c->nor ? sim_erase : NULL;
  s.ctx = d;
  s.bank_offset[0] = 0;
  s.bank_offset[1] = BANK_B;
  s.bank_size = c->bank_size;
  s.erase_unit = c->erase_unit;
  s.write_unit = c->write_unit;
  s.signature = FIVE_POINTS_SIGNATURE;
  s.n_params = NP;
  s.n_state = c->n_state;
  return s;
}

/* ---- weights: params from five_points_init(seed), state from the seed */
typedef struct {
  dcc_real p[NP], st[NS];
} weights;

static weights make_weights(uint32_t seed) {
  weights w;
  five_points_init(w.p, seed);
  for (int j = 0; j < NS; j++)
    w.st[j] = (dcc_real)seed + (dcc_real)j / 8;
  return w;
}

/* Bytes no load writes. */
static void sentinel(weights *w) { memset(w, 0xA5, sizeof *w); }

static int same(const weights *a, const weights *b, uint32_t n_state) {
  return !memcmp(a->p, b->p, sizeof a->p) && !memcmp(a->st, b->st, n_state * sizeof(dcc_real));
}

static int save(const dcc_store *s, const weights *w) {
  return dcc_store_save(s, w->p, s->n_state ? w->st : NULL, NULL);
}

static int failures;
static void expect(int ok, const char *what) {
  if (!ok) {
    failures++;
    printf("FAILED: %s\n", what);
  }
}

/* What a load finds: which of the candidates (bit for bit), none (an
 * error with the buffers untouched), or other. */
enum { GOT_OTHER = -2, GOT_NONE = -1 };
static int load_which(const dcc_store *s, const weights *cand, int n_cand, int *code) {
  weights got, untouched;
  sentinel(&got);
  sentinel(&untouched);
  int r = dcc_store_load(s, got.p, s->n_state ? got.st : NULL, NULL);
  if (code)
    *code = r;
  if (r != DCC_STORE_OK)
    return !memcmp(&got, &untouched, sizeof got) ? GOT_NONE : GOT_OTHER;
  for (int i = 0; i < n_cand; i++)
    if (same(&got, &cand[i], s->n_state))
      return i;
  return GOT_OTHER;
}

static int previous_which(const dcc_store *s, const weights *cand, int n_cand) {
  weights got;
  sentinel(&got);
  int r = dcc_store_load_previous(s, got.p, s->n_state ? got.st : NULL, NULL);
  if (r != DCC_STORE_OK)
    return r == DCC_STORE_NO_PREVIOUS ? GOT_NONE : GOT_OTHER;
  for (int i = 0; i < n_cand; i++)
    if (same(&got, &cand[i], s->n_state))
      return i;
  return GOT_OTHER;
}

/* ---- cuts */
static const char *kind_name[] = {"clean", "torn", "fail"};

/* Every cut point of one save (rollback: of one rollback) from a device
 * with `prior` saves (seeds 1..prior).  Adds to the counts. */
typedef struct {
  long points, old, new_, none, other, claimed, recovery_bad;
  long bytes, erased;
} cut_counts;

static void cut_one_state(const config *c, int prior, int rollback, cut_counts *n) {
  static sim d0, d;
  sim_reset(&d0, c);
  dcc_store s0 = store_of(c, &d0);
  for (int i = 1; i <= prior; i++) {
    weights w = make_weights((uint32_t)i);
    expect(save(&s0, &w) == DCC_STORE_OK, "a save before the cut");
  }
  /* The candidates: 0 the old weights, 1 the new; 2 the weights of the
   * save after the reboot. */
  weights cand[3];
  int have_old;
  if (rollback) {
    cand[0] = make_weights((uint32_t)prior);     /* the newest */
    cand[1] = make_weights((uint32_t)prior - 1); /* the one before */
    have_old = 1;
  } else {
    cand[0] = make_weights((uint32_t)prior);
    cand[1] = make_weights(100);
    have_old = prior > 0;
  }
  cand[2] = make_weights(200);

  /* The bytes of the operation, uncut. */
  d = d0;
  dcc_store s = store_of(c, &d);
  d.done = d.erased = 0;
  int r = rollback ? dcc_store_rollback(&s, NULL, NULL, NULL) : save(&s, &cand[1]);
  expect(r == DCC_STORE_OK, "the uncut save or rollback");
  expect(load_which(&s, cand, 2, NULL) == 1, "the uncut save or rollback loads the new weights");
  long total = d.done;
  n->bytes = total, n->erased = d.erased;

  for (long k = 0; k <= total; k++) {
    for (int kind = CUT_CLEAN; kind <= CUT_FAIL; kind++) {
      if (kind != CUT_CLEAN && k == total)
        continue; /* nothing is being written at the end */
      d = d0;
      d.budget = k, d.cut_kind = kind;
      r = rollback ? dcc_store_rollback(&s, NULL, NULL, NULL) : save(&s, &cand[1]);
      d.dead = 0, d.budget = -1; /* the reboot */
      int code, got = load_which(&s, cand, 2, &code);
      n->points++;
      if (got == 0 && have_old)
        n->old++;
      else if (got == 1)
        n->new_++;
      else if (got == GOT_NONE && !have_old && (code == DCC_STORE_EMPTY || code == DCC_STORE_CORRUPT))
        n->none++;
      else {
        n->other++;
        printf("%s: %s cut after %ld of %ld bytes (%s): loaded %s (%s)\n", c->name, rollback ? "rollback" : "save", k,
               total, kind_name[kind],
               got == GOT_OTHER  ? "other weights"
               : got == GOT_NONE ? "nothing"
                                 : "the old weights",
               dcc_store_strerror(code));
      }
      if (r == DCC_STORE_OK && got != 1)
        n->claimed++; /* it said it saved, and it had not */
      /* After the reboot the store works again: a save, then the newest
       * is it and the one before is what the cut left. */
      weights after = cand[2];
      int ok = save(&s, &after) == DCC_STORE_OK && load_which(&s, cand, 3, NULL) == 2;
      int prev = previous_which(&s, cand, 2);
      if (got >= 0)
        ok = ok && prev == got;
      else
        ok = ok && prev == GOT_NONE;
      if (!ok)
        n->recovery_bad++;
      if (d.broken_rules)
        n->other++;
    }
  }
}

static int mode_cuts(void) {
  for (int i = 0; i < N_CONFIGS; i++) {
    const config *c = &configs[i];
    cut_counts n;
    memset(&n, 0, sizeof n);
    for (int prior = 0; prior <= 3; prior++)
      cut_one_state(c, prior, 0, &n);
    printf(
        "%s save: %ld bytes (%ld erased, %ld written), %ld cut points: old %ld, new %ld, nothing yet %ld, other %ld; "
        "ok claimed wrongly %ld; save after the reboot wrong %ld\n",
        c->name, n.bytes, n.erased, n.bytes - n.erased, n.points, n.old, n.new_, n.none, n.other, n.claimed,
        n.recovery_bad);
    cut_counts m;
    memset(&m, 0, sizeof m);
    for (int prior = 2; prior <= 3; prior++)
      cut_one_state(c, prior, 1, &m);
    printf("%s rollback: %ld bytes (%ld erased, %ld written), %ld cut points: newest %ld, previous %ld, other %ld; "
           "ok claimed wrongly %ld; save after the reboot wrong %ld\n",
           c->name, m.bytes, m.erased, m.bytes - m.erased, m.points, m.old, m.new_, m.other + m.none, m.claimed,
           m.recovery_bad);
  }
  return 0;
}

/* ---- flipped bits */
static void flip(sim *d, uint32_t at, int bit) { d->mem[at] ^= (unsigned char)(1u << bit); }

static int mode_flips(void) {
  for (int i = 0; i < N_CONFIGS; i++) {
    const config *c = &configs[i];
    static sim d;
    sim_reset(&d, c);
    dcc_store s = store_of(c, &d);
    weights cand[2] = {make_weights(1), make_weights(2)};
    uint32_t len = DCC_STORE_BYTES(NP + c->n_state);
    long bits = 0, rejected = 0, other_loaded = 0, bad = 0;
    /* One save (bank A): a flip leaves nothing to load. */
    expect(save(&s, &cand[0]) == DCC_STORE_OK, "flips: first save");
    for (uint32_t at = 0; at < len; at++)
      for (int bit = 0; bit < 8; bit++) {
        flip(&d, at, bit);
        int code, got = load_which(&s, cand, 2, &code);
        bits++;
        if (got == GOT_NONE && (code == DCC_STORE_CORRUPT || code == DCC_STORE_EMPTY))
          rejected++;
        else
          bad++;
        flip(&d, at, bit);
      }
    /* Two saves: A holds seed 1, B seed 2 (the newest). */
    expect(save(&s, &cand[1]) == DCC_STORE_OK, "flips: second save");
    for (int b = 0; b < 2; b++)
      for (uint32_t at = 0; at < len; at++)
        for (int bit = 0; bit < 8; bit++) {
          uint32_t where = s.bank_offset[b] + at;
          flip(&d, where, bit);
          dcc_store_info info;
          int scan = dcc_store_scan(&s, &info);
          int got = load_which(&s, cand, 2, NULL);
          bits++;
          int status_ok = info.status[b] == DCC_STORE_CORRUPT || info.status[b] == DCC_STORE_EMPTY;
          if (scan == DCC_STORE_OK && status_ok && info.status[1 - b] == DCC_STORE_OK && got == 1 - b)
            rejected++, other_loaded++;
          else {
            bad++;
            if (bad < 5)
              printf("%s: bank %c byte %u bit %d: loaded %d, status %d\n", c->name, "AB"[b], (unsigned)at, bit, got,
                     info.status[b]);
          }
          flip(&d, where, bit);
        }
    printf("%s flips: %ld bits (%u bytes a bank), rejected %ld, the other bank loaded %ld, missed %ld\n", c->name, bits,
           (unsigned)len, rejected, other_loaded, bad);
    expect(bad == 0, "every flipped bit is detected");
  }
  return 0;
}

/* ---- another model */
static int mode_model(void) {
  const config *c = &configs[0];
  static sim d;
  sim_reset(&d, c);
  dcc_store s = store_of(c, &d);
  weights w1 = make_weights(1), got, untouched;
  expect(save(&s, &w1) == DCC_STORE_OK, "model: save");
  sentinel(&untouched);

  dcc_store other = s;
  other.signature ^= 1u;
  sentinel(&got);
  dcc_store_info info;
  int r = dcc_store_load(&other, got.p, got.st, &info);
  printf("another signature: %s; params untouched: %s; bank A: %s\n", dcc_store_strerror(r),
         !memcmp(&got, &untouched, sizeof got) ? "yes" : "no", dcc_store_strerror(info.status[0]));

  dcc_store fewer = s;
  fewer.n_params = NP - 1;
  r = dcc_store_load(&fewer, got.p, got.st, NULL);
  printf("n_params %d: %s\n", NP - 1, dcc_store_strerror(r));

  dcc_store less_state = s;
  less_state.n_state = NS - 1;
  sentinel(&got);
  r = dcc_store_load(&less_state, got.p, got.st, NULL);
  printf("n_state %d with a state buffer: %s; untouched: %s\n", NS - 1, dcc_store_strerror(r),
         !memcmp(&got, &untouched, sizeof got) ? "yes" : "no");
  sentinel(&got);
  r = dcc_store_load(&less_state, got.p, NULL, NULL);
  printf("n_state %d, state NULL: %s; params: %s\n", NS - 1, dcc_store_strerror(r),
         !memcmp(got.p, w1.p, sizeof got.p) ? "the saved ones" : "wrong");

  /* Saved without state, loaded with it: the moments would be garbage. */
  dcc_store no_state = s;
  no_state.n_state = 0;
  expect(save(&no_state, &w1) == DCC_STORE_OK, "model: save without state");
  sentinel(&got);
  r = dcc_store_load(&s, got.p, got.st, NULL);
  printf("saved without state, loaded with %d: %s; untouched: %s\n", NS, dcc_store_strerror(r),
         !memcmp(&got, &untouched, sizeof got) ? "yes" : "no");
  r = dcc_store_load(&s, got.p, NULL, NULL);
  printf("the same, state NULL: %s\n", dcc_store_strerror(r));

  /* A firmware update: the newest save is the old model's. */
  sim_reset(&d, c);
  weights w2 = make_weights(2);
  expect(save(&s, &w1) == DCC_STORE_OK, "model: ours");
  expect(save(&other, &w2) == DCC_STORE_OK, "model: another model's, newer");
  sentinel(&got);
  r = dcc_store_load(&s, got.p, got.st, &info);
  printf("newest is another model's: load: %s (A %s, B %s)\n", dcc_store_strerror(r),
         dcc_store_strerror(info.status[0]), dcc_store_strerror(info.status[1]));
  r = dcc_store_load_previous(&s, got.p, got.st, NULL);
  printf("load_previous: %s, ours: %s\n", dcc_store_strerror(r), same(&got, &w1, NS) ? "yes" : "no");
  r = dcc_store_rollback(&other, NULL, NULL, NULL);
  printf("the other model rolling back to ours: %s\n", dcc_store_strerror(r));
  r = dcc_store_scan(&other, &info);
  printf("its save still there: %s\n", r == DCC_STORE_OK && info.bank == 1 ? "yes" : "no");
  return 0;
}

/* ---- rollback */
static const char *which_name(int got) {
  static const char *names[] = {"w1", "w2", "w3", "w4"};
  return got >= 0 ? names[got] : got == GOT_NONE ? "none" : "other";
}

static int mode_rollback(void) {
  for (int i = 0; i < N_CONFIGS; i++) {
    const config *c = &configs[i];
    static sim d;
    sim_reset(&d, c);
    dcc_store s = store_of(c, &d);
    weights w[4] = {make_weights(1), make_weights(2), make_weights(3), make_weights(4)};
    dcc_store_info info;
    for (int k = 0; k < 3; k++)
      expect(save(&s, &w[k]) == DCC_STORE_OK, "rollback: saves");
    printf("%s: load %s", c->name, which_name(load_which(&s, w, 4, NULL)));
    printf(", previous %s", which_name(previous_which(&s, w, 4)));
    printf(", load again %s", which_name(load_which(&s, w, 4, NULL)));
    weights got;
    sentinel(&got);
    int r = dcc_store_rollback(&s, got.p, s.n_state ? got.st : NULL, &info);
    printf("; rollback %s to bank %c, got w%d", dcc_store_strerror(r), "-AB"[info.bank + 1],
           same(&got, &w[1], s.n_state) ? 2 : 0);
    printf(", load %s", which_name(load_which(&s, w, 4, NULL)));
    weights before = got;
    r = dcc_store_rollback(&s, got.p, s.n_state ? got.st : NULL, NULL);
    printf("; rollback again: %s, untouched %s", dcc_store_strerror(r),
           !memcmp(&got, &before, sizeof got) ? "yes" : "no");
    printf(", load %s", which_name(load_which(&s, w, 4, NULL)));
    expect(save(&s, &w[3]) == DCC_STORE_OK, "rollback: save after");
    printf("; save w4, load %s, previous %s", which_name(load_which(&s, w, 4, NULL)),
           which_name(previous_which(&s, w, 4)));
    r = dcc_store_rollback(&s, NULL, NULL, &info);
    printf("; rollback without loading %s, load %s\n", dcc_store_strerror(r), which_name(load_which(&s, w, 4, NULL)));
  }
  return 0;
}

/* ---- sequence numbers */
/* Rewrite a field of bank b's header (and its CRC), as a test does. */
static void patch(sim *d, const dcc_store *s, int b, int at, uint32_t v, int size) {
  unsigned char *h = d->mem + s->bank_offset[b];
  for (int i = 0; i < size; i++)
    h[at + i] = (unsigned char)(v >> (8 * i));
  uint32_t crc = dcc_store_crc32(0, h, 24);
  for (int i = 0; i < 4; i++)
    h[24 + i] = (unsigned char)(crc >> (8 * i));
}

static int mode_wrap(void) {
  const config *c = &configs[3];
  static sim d;
  sim_reset(&d, c);
  dcc_store s = store_of(c, &d);
  weights w[4] = {make_weights(1), make_weights(2), make_weights(3), make_weights(4)};
  dcc_store_info info;
  expect(save(&s, &w[0]) == DCC_STORE_OK, "wrap: first save");
  patch(&d, &s, 0, 8, 0xFFFFFFFEu, 4);
  for (int k = 1; k < 4; k++) {
    expect(dcc_store_save(&s, w[k].p, w[k].st, &info) == DCC_STORE_OK, "wrap: save");
    printf("save w%d: bank %c sequence 0x%08X", k + 1, "AB"[info.bank], (unsigned)info.sequence[info.bank]);
    printf(", load %s, previous %s\n", which_name(load_which(&s, w, 4, NULL)), which_name(previous_which(&s, w, 4)));
  }
  int r = dcc_store_rollback(&s, NULL, NULL, NULL);
  printf("rollback across the wrap: %s, load %s\n", dcc_store_strerror(r), which_name(load_which(&s, w, 4, NULL)));
  /* Banks A (w3) and B (w2) with numbers no save makes. */
  sim_reset(&d, c);
  expect(save(&s, &w[2]) == DCC_STORE_OK && save(&s, &w[1]) == DCC_STORE_OK, "wrap: two saves");
  patch(&d, &s, 0, 8, 7, 4);
  patch(&d, &s, 1, 8, 7, 4);
  printf("equal sequence numbers: load %s\n", which_name(load_which(&s, w, 4, NULL)));
  patch(&d, &s, 1, 8, 7u + 0x80000000u, 4);
  printf("2^31 apart: load %s\n", which_name(load_which(&s, w, 4, NULL)));
  patch(&d, &s, 1, 8, 7u + 0x7FFFFFFFu, 4);
  printf("2^31 - 1 apart: load %s\n", which_name(load_which(&s, w, 4, NULL)));
  return 0;
}

/* ---- errors */
static void config_case(const char *what, dcc_store s) {
  weights w = make_weights(1);
  int r = dcc_store_save(&s, w.p, w.st, NULL);
  int l = dcc_store_load(&s, w.p, w.st, NULL);
  printf("%s: save: %s; load: %s\n", what, dcc_store_strerror(r), dcc_store_strerror(l));
}

static int mode_errors(void) {
  const config *c = &configs[0];
  static sim d;
  sim_reset(&d, c);
  dcc_store s = store_of(c, &d), t;
  weights w1 = make_weights(1), w2 = make_weights(2);

  {
    weights w = make_weights(1);
    printf("NULL store: save: %s; load: %s; scan: %s; rollback: %s\n",
           dcc_store_strerror(dcc_store_save(NULL, w.p, w.st, NULL)),
           dcc_store_strerror(dcc_store_load(NULL, w.p, w.st, NULL)), dcc_store_strerror(dcc_store_scan(NULL, NULL)),
           dcc_store_strerror(dcc_store_rollback(NULL, NULL, NULL, NULL)));
  }
  t = s, t.read = NULL, config_case("no read callback", t);
  t = s, t.write = NULL, config_case("no write callback", t);
  t = s, t.write_unit = 3, config_case("write unit 3", t);
  t = s, t.write_unit = 64, config_case("write unit 64", t);
  t = s, t.bank_offset[1] = 256, config_case("banks overlap", t);
  t = s, t.bank_offset[1] = 0xFFFFFF00u, config_case("bank B past 4 GiB", t);
  t = s, t.erase_unit = 0, config_case("erase unit 0", t);
  t = s, t.bank_size = 500, config_case("bank not a whole number of erase units", t);
  t = s, t.bank_offset[1] = 1000, config_case("bank B not on an erase unit", t);
  t = s, t.bank_size = 0, config_case("bank size 0", t);
  t = s, t.bank_size = 128, config_case("bank of 128 bytes", t);
  t = s, t.n_params = 0x40000000u, config_case("2^30 params", t);
  printf("params NULL: save: %s; load: %s\n", dcc_store_strerror(dcc_store_save(&s, NULL, w1.st, NULL)),
         dcc_store_strerror(dcc_store_load(&s, NULL, w1.st, NULL)));
  printf("state NULL: save: %s\n", dcc_store_strerror(dcc_store_save(&s, w1.p, NULL, NULL)));
  printf("empty device: load: %s; previous: %s; rollback: %s\n",
         dcc_store_strerror(dcc_store_load(&s, w1.p, w1.st, NULL)),
         dcc_store_strerror(dcc_store_load_previous(&s, w1.p, w1.st, NULL)),
         dcc_store_strerror(dcc_store_rollback(&s, NULL, NULL, NULL)));

  /* An unknown version (a newer runtime's save), alone and beside ours. */
  weights cand[2] = {w1, w2};
  expect(save(&s, &w1) == DCC_STORE_OK, "errors: save");
  patch(&d, &s, 0, 0, 2, 2);
  int code, got = load_which(&s, cand, 2, &code);
  printf("version 2 alone: %s (%s)\n", dcc_store_strerror(code), which_name(got));
  expect(save(&s, &w2) == DCC_STORE_OK, "errors: save beside version 2");
  got = load_which(&s, cand, 2, &code);
  printf("version 2 beside a save: %s, load %s\n", dcc_store_strerror(code), which_name(got));
  /* A header whose CRC holds but whose length cannot be. */
  patch(&d, &s, 0, 0, 1, 2);
  patch(&d, &s, 0, 12, 0x10000000u, 4);
  dcc_store_info info;
  dcc_store_scan(&s, &info);
  printf("impossible length: bank A %s\n", dcc_store_strerror(info.status[0]));
  /* Both banks damaged. */
  d.mem[BANK_B + 40] ^= 1;
  printf("both damaged: load: %s\n", dcc_store_strerror(dcc_store_load(&s, w1.p, w1.st, NULL)));

  /* A device that does not keep what is written: a bit stuck at 1 in bank
   * B's payload; the save into B is not committed. */
  sim_reset(&d, c);
  d.stuck_at = BANK_B + 32 + 5;
  weights zeros;
  memset(&zeros, 0, sizeof zeros);
  expect(save(&s, &w1) == DCC_STORE_OK, "errors: save into A");
  int r = save(&s, &zeros);
  got = load_which(&s, cand, 2, &code);
  printf("stuck bit: save: %s; load %s\n", dcc_store_strerror(r), which_name(got));
  /* NOR flash described without its erase: the commit cannot be
   * written over the zeros that invalidated the bank. */
  sim_reset(&d, c);
  d.quiet = 1;
  t = s, t.erase = NULL;
  r = save(&t, &w1);
  got = load_which(&t, cand, 2, &code);
  printf("NOR without erase: save: %s; load: %s\n", dcc_store_strerror(r), dcc_store_strerror(code));
  sim_reset(&d, c);
  expect(save(&s, &w1) == DCC_STORE_OK, "errors: save before failing reads");
  /* Reads that fail. */
  d.fail_reads = 1;
  printf("reads fail: load: %s; save: %s\n", dcc_store_strerror(dcc_store_load(&s, w1.p, w1.st, NULL)),
         dcc_store_strerror(save(&s, &w1)));
  d.fail_reads = 0;

  /* Every result has its own sentence. */
  const char *seen[14];
  int distinct = 1;
  for (int k = 0; k <= 12; k++) {
    seen[k] = dcc_store_strerror(-k);
    for (int j = 0; j < k; j++)
      if (!seen[k] || !strcmp(seen[k], seen[j]))
        distinct = 0;
  }
  seen[13] = dcc_store_strerror(-13);
  printf("13 results, distinct sentences: %s; -13: %s; 1: %s\n", distinct ? "yes" : "no", seen[13],
         dcc_store_strerror(1));
  return 0;
}

/* ---- the CRC's check value */
static int mode_crc(void) {
  printf("crc32(\"123456789\") = %08X; in two parts: %08X; of nothing: %08X\n",
         (unsigned)dcc_store_crc32(0, "123456789", 9),
         (unsigned)dcc_store_crc32(dcc_store_crc32(0, "1234", 4), "56789", 5), (unsigned)dcc_store_crc32(0, "", 0));
  return 0;
}

/* ---- the bytes, for store_layout.py */
static int mode_dump(const char *file) {
  const config *c = &configs[0];
  static sim d;
  sim_reset(&d, c);
  dcc_store s = store_of(c, &d);
  weights w[2] = {make_weights(1), make_weights(2)};
  for (int k = 0; k < 2; k++)
    expect(save(&s, &w[k]) == DCC_STORE_OK, "dump: save");
  FILE *f = fopen(file, "wb");
  if (!f || fwrite(d.mem, 1, SIM_SIZE, f) != SIM_SIZE || fclose(f)) {
    printf("cannot write %s\n", file);
    return 1;
  }
  printf("signature %08X real_size %u bank_b %d n_params %d n_state %d\n", (unsigned)FIVE_POINTS_SIGNATURE,
         (unsigned)sizeof(dcc_real), BANK_B, NP, NS);
  for (int k = 0; k < 2; k++) {
    printf("values");
    for (int j = 0; j < NP; j++)
      printf(" %.17g", (double)w[k].p[j]);
    for (int j = 0; j < NS; j++)
      printf(" %.17g", (double)w[k].st[j]);
    printf("\n");
  }
  return 0;
}

static int mode_load_image(const char *file, const char *sig) {
  const config *c = &configs[0];
  static sim d;
  sim_reset(&d, c);
  FILE *f = fopen(file, "rb");
  if (!f || fread(d.mem, 1, SIM_SIZE, f) != SIM_SIZE) {
    printf("cannot read %s\n", file);
    return 1;
  }
  fclose(f);
  dcc_store s = store_of(c, &d);
  s.signature = (uint32_t)strtoul(sig, NULL, 16);
  weights got;
  dcc_store_info info;
  int r = dcc_store_load(&s, got.p, got.st, &info);
  printf("load-image with signature %08X, sizeof(dcc_real) %u: %s\n", (unsigned)s.signature, (unsigned)sizeof(dcc_real),
         dcc_store_strerror(r));
  return 0;
}

int main(int argc, char **argv) {
  const char *mode = argc > 1 ? argv[1] : "all";
  int all = !strcmp(mode, "all");
  int r = 0;
  printf("real: %s\n", sizeof(dcc_real) == sizeof(float) ? "float" : "double");
  if (all || !strcmp(mode, "cuts"))
    r |= mode_cuts();
  if (all || !strcmp(mode, "flips"))
    r |= mode_flips();
  if (all || !strcmp(mode, "model"))
    r |= mode_model();
  if (all || !strcmp(mode, "rollback"))
    r |= mode_rollback();
  if (all || !strcmp(mode, "wrap"))
    r |= mode_wrap();
  if (all || !strcmp(mode, "errors"))
    r |= mode_errors();
  if (all || !strcmp(mode, "crc"))
    r |= mode_crc();
  if (!strcmp(mode, "dump") && argc > 2)
    r |= mode_dump(argv[2]);
  if (!strcmp(mode, "load-image") && argc > 3)
    r |= mode_load_image(argv[2], argv[3]);
  printf("failures: %d\n", failures);
  return r || failures;
}
