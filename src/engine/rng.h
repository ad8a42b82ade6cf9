/* Counter-based random numbers (Random123's Philox4x32-10). Every draw is a pure function of
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
  CB_RNG_PLAN, CB_RNG_INSPECT, CB_RNG_POSSESSION, CB_RNG_ENTRY, CB_RNG_UPGRADE
} cb_rng_purpose;

typedef struct cb_rng {
  uint32_t key0, key1;  /* from the seed */
  uint32_t run;         /* replicate number; 0 for a single run */
} cb_rng;

static inline cb_rng cb_rng_make(uint64_t seed, uint32_t run) {
  cb_rng r = {(uint32_t)seed, (uint32_t)(seed >> 32), run};
  return r;
}

/* Four independent 32-bit words for (purpose, agent, day, index). */
static inline philox4x32_ctr_t cb_rng_words(const cb_rng *r, cb_rng_purpose purpose, uint32_t agent,
                                            int32_t day, uint32_t index) {
  philox4x32_ctr_t c = {{agent, (uint32_t)day, ((uint32_t)purpose << 24) ^ index, r->run}};
  philox4x32_key_t k = {{r->key0, r->key1}};
  return philox4x32(c, k);
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
