/* Counter-based random numbers (Random123's Philox2x64-10). Every draw is a pure function of
 * (seed, run, purpose, agent, day, index): no generator state advances, so results do not depend
 * on iteration order, thread count or process count, and two counterfactual runs draw the same
 * number wherever the same agent faces the same choice on the same day. */
#ifndef CB_ENGINE_RNG_H
#define CB_ENGINE_RNG_H

#include <math.h>
#include <stdint.h>

#include <Random123/philox.h>

/* Why a number is drawn; part of the counter so different decisions never share a stream. */
typedef enum {
  CB_RNG_INIT_BUYER = 1, CB_RNG_INIT_TRADER, CB_RNG_INIT_MIDDLEMAN, CB_RNG_INIT_OFFICIAL,
  CB_RNG_APPEAL, CB_RNG_REVIEW, CB_RNG_CHOICE, CB_RNG_LIFETIME, CB_RNG_LINK,
  CB_RNG_PLAN, CB_RNG_INSPECT, CB_RNG_CHECK, CB_RNG_POSSESSION, CB_RNG_POSSESSION_DEAL, CB_RNG_ENTRY, CB_RNG_SWEEP,
  CB_RNG_ADOPT, CB_RNG_RELOCATE,
  CB_RNG_BOOTSTRAP, CB_RNG_MORRIS, /* sensitivity analysis (analysis/sa.h) */
  CB_RNG_ABC,                       /* calibration proposals (analysis/calibrate.c) */
  CB_RNG_NPURPOSES  /* not a purpose: one past the last */
} cb_rng_purpose;

#define CB_RNG_ROUNDS 10   /* Philox2x64-10 */

typedef struct cb_rng {
  uint64_t seed;        /* the key */
  uint32_t run;         /* replicate number; 0 for a single run */
  uint64_t round_key[CB_RNG_ROUNDS]; /* the key of each round (see cb_rng_words) */
} cb_rng;

static inline cb_rng cb_rng_make(uint64_t seed, uint32_t run) {
  cb_rng r = {seed, run, {0}};
  philox2x64_key_t k = {{seed}};
  for (int i = 0; i < CB_RNG_ROUNDS; i++, k = _philox2x64bumpkey(k)) r.round_key[i] = k.v[0];
  return r;
}

/* One draw: four independent 32-bit words. */
typedef struct cb_rng_block {
  uint32_t v[4];
} cb_rng_block;

/* Four independent 32-bit words for (purpose, agent, day, index): one Philox2x64-10 call with
 * counter {agent | day << 32, (purpose << 24 ^ index) | run << 32} and the seed as key. The
 * 64-bit variant does the same work in half the multiplications of Philox4x32 on 64-bit CPUs,
 * and is as thoroughly tested (both pass TestU01's BigCrush; Salmon et al., SC'11). */
static inline cb_rng_block cb_rng_words(const cb_rng *r, cb_rng_purpose purpose, uint32_t agent,
                                        int32_t day, uint32_t index) {
  philox2x64_ctr_t x = {{(uint64_t)agent | (uint64_t)(uint32_t)day << 32,
                         (uint64_t)(((uint32_t)purpose << 24) ^ index) | (uint64_t)r->run << 32}};
  /* philox2x64(x, {seed}) with the round keys taken from cb_rng_make rather than derived anew
   * each round: the same words, for a fifth fewer instructions on the busiest path */
  for (int i = 0; i < CB_RNG_ROUNDS; i++) x = _philox2x64round(x, (philox2x64_key_t){{r->round_key[i]}});
  cb_rng_block b = {{(uint32_t)x.v[0], (uint32_t)(x.v[0] >> 32), (uint32_t)x.v[1], (uint32_t)(x.v[1] >> 32)}};
  return b;
}

/* A stream of words for one (purpose, agent, day, base index), read by word number: word i is
 * word i % 4 of the block with index base + i / 4, and a block is computed only when a word of it
 * is first read. An agent making several decisions of one kind thus pays one Philox call per four
 * words, while each decision keeps its own fixed word (common random numbers hold). */
typedef struct cb_rng_stream {
  cb_rng_block w;
  uint32_t block;       /* block held in w; UINT32_MAX for none */
  cb_rng_purpose purpose;
  uint32_t agent;
  int32_t day;
  uint32_t base;
} cb_rng_stream;

static inline cb_rng_stream cb_rng_stream_make(cb_rng_purpose purpose, uint32_t agent, int32_t day, uint32_t base) {
  cb_rng_stream s = {{{0, 0, 0, 0}}, UINT32_MAX, purpose, agent, day, base};
  return s;
}

static inline uint32_t cb_rng_stream_word(const cb_rng *r, cb_rng_stream *s, uint32_t i) {
  if (s->block != i / 4) {
    s->w = cb_rng_words(r, s->purpose, s->agent, s->day, s->base + i / 4);
    s->block = i / 4;
  }
  return s->w.v[i % 4];
}

/* A uniform double in (0, 1) from one 32-bit word. */
static inline double cb_u01(uint32_t w) { return ((double)w + 0.5) * (1.0 / 4294967296.0); }

static inline double cb_rng_u01(const cb_rng *r, cb_rng_purpose p, uint32_t agent, int32_t day, uint32_t index) {
  return cb_u01(cb_rng_words(r, p, agent, day, index).v[0]);
}

/* Standard normal from two words (Box-Muller); deterministic given the words. */
static inline double cb_normal(uint32_t w0, uint32_t w1) {
  double u1 = cb_u01(w0), u2 = cb_u01(w1);
  return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

/* Exponential with the given mean. */
static inline double cb_exponential(uint32_t w, double mean) { return -mean * log(cb_u01(w)); }

#endif
