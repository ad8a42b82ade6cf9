/* Snapshots: the whole dynamic state of a simulation between two days, saved so a run can continue
 * from it bit for bit (REBOUND's test: restored and uninterrupted runs compare equal) or fork a
 * counterfactual from a shared history under another scenario. One walker visits every piece of
 * state in a fixed order and either appends it to a buffer or reads it back, so saving and
 * loading cannot drift apart. What a scenario determines afresh each day (policy, utility tables,
 * trip options) is not saved: a fork takes it from its own scenario.
 *
 * File: magic "CBSNAP\r\n", format version, byte-order mark, header (seed, run, days, record
 * period, the world's layout fingerprint, the scenario it was taken from), the state, and a
 * SHA-256 of everything before it. Written atomically; checked whole before anything is read. */
#include <nettle/sha2.h>
#include <stdlib.h>
#include <string.h>

#include "engine/calendar.h"
#include "io/files.h"
#include "model/snapshot.h"
#include "model/world.h"

#define SNAP_MAGIC "CBSNAP\r\n"
#define SNAP_VERSION 5u  /* 5: traders have a base; 4: buyers keep a share per income source; 3: officials' penalty replaces ask and willingness; traders' haggling skill and deals per supplier replace the fixed discount */
#define SNAP_BOM 0x01020304u

typedef struct snap_io {
  int loading;
  uint8_t *buf;
  size_t len, cap, pos;
  const char *name;   /* the file, for messages */
  cb_err *e;
} snap_io;

static int truncated(snap_io *io) {
  return cb_err_set(io->e, CB_EPARSE, "snapshot %s: ends early (at byte %zu of %zu); the file is truncated or "
                    "corrupt; take the snapshot again", io->name, io->pos, io->len);
}

static int io_bytes(snap_io *io, void *p, size_t n) {
  if (io->e->code) return io->e->code;
  if (io->loading) {
    if (n > io->len - io->pos) return truncated(io);
    if (n) memcpy(p, io->buf + io->pos, n);
    io->pos += n;
    return CB_OK;
  }
  if (io->len + n > io->cap) {
    size_t cap = io->cap ? io->cap : 1 << 20;
    while (cap < io->len + n) cap *= 2;
    uint8_t *b = cb_xrealloc(io->e, io->buf, cap);
    if (!b) return io->e->code;
    io->buf = b;
    io->cap = cap;
  }
  if (n) memcpy(io->buf + io->len, p, n);
  io->len += n;
  return CB_OK;
}
#define IO(io, x) io_bytes((io), &(x), sizeof(x))

/* The count of a counted array; on load the array grows to hold that many. A count the
 * remaining bytes cannot hold (each element takes at least min_bytes) is refused before anything
 * is allocated. */
static int io_count(snap_io *io, void **items, uint32_t *n, uint32_t *cap, size_t elem, size_t min_bytes) {
  if (IO(io, *n)) return io->e->code;
  if (io->loading) {
    if ((size_t)*n > (io->len - io->pos) / min_bytes) return truncated(io);
    if (*n > *cap) {
      void *a = cb_xrealloc(io->e, *items, (size_t)*n * elem);
      if (!a) return io->e->code;
      *items = a;
      *cap = *n;
    }
  }
  return CB_OK;
}

/* A counted array of plain numbers (no padding inside): the count, then the bytes. */
static int io_array(snap_io *io, void **items, uint32_t *n, uint32_t *cap, size_t elem) {
  if (io_count(io, items, n, cap, elem, elem)) return io->e->code;
  return io_bytes(io, *items, (size_t)*n * elem);
}

/* Records with padding go field by field, so the file never carries uninitialised bytes and two
 * snapshots of the same state are the same bytes. */
static void io_order(snap_io *io, cb_order *o) {
  IO(io, o->buyer); IO(io, o->product); IO(io, o->market); IO(io, o->covered); IO(io, o->day); IO(io, o->price);
}

static void io_shelf(snap_io *io, cb_shelf *s) {
  IO(io, s->product); IO(io, s->market); IO(io, s->qty); IO(io, s->unit_cost);
}

static void io_supply(snap_io *io, cb_supply *s) { IO(io, s->middleman); IO(io, s->deals); }

static void io_middleman(snap_io *io, cb_middleman *m) {
  IO(io, m->hub); IO(io, m->commission); IO(io, m->relabel_skill); IO(io, m->capacity); IO(io, m->busy_until);
  IO(io, m->earnings_usd);
}

static void io_official(snap_io *io, cb_official *o) {
  IO(io, o->checkpoint); IO(io, o->connected); IO(io, o->skill); IO(io, o->penalty);
  IO(io, o->bribes_usd); IO(io, o->fines_usd);
}

static void io_consignment(snap_io *io, cb_consignment *c) {
  IO(io, c->trader); IO(io, c->middleman); IO(io, c->qty); IO(io, c->product); IO(io, c->route);
  IO(io, c->channel); IO(io, c->relabel); IO(io, c->stage); IO(io, c->live);
  IO(io, c->day_bought); IO(io, c->day_cross); IO(io, c->day_arrive);
  IO(io, c->unit_cost); IO(io, c->enforcement_usd); IO(io, c->relabel_skill);
}

/* Day buckets: the non-empty slots, each as (slot, ids). */
static int io_buckets(snap_io *io, cb_buckets *b) {
  uint32_t used = 0;
  for (int32_t i = 0; i < b->horizon && !io->loading; i++) used += b->slot[i].n > 0;
  if (IO(io, used)) return io->e->code;
  if (io->loading)
    for (int32_t i = 0; i < b->horizon; i++) b->slot[i].n = 0;
  int32_t slot = 0;
  for (uint32_t k = 0; k < used && !io->e->code; k++) {
    if (!io->loading)
      while (b->slot[slot].n == 0) slot++;
    if (IO(io, slot)) break;
    if (slot < 0 || slot >= b->horizon)
      return cb_err_set(io->e, CB_EPARSE, "snapshot %s: a schedule slot %d is out of range; the file is corrupt", io->name, slot);
    cb_bucket *s = &b->slot[slot];
    io_array(io, (void **)&s->ids, &s->n, &s->cap, sizeof *s->ids);
    slot++;
  }
  return io->e->code;
}

static int io_trader(snap_io *io, cb_sim *S, cb_trader *t) {
  IO(io, t->type); IO(io, t->active); IO(io, t->exiting); IO(io, t->home);
  if (io->loading && (t->type >= S->sc.n_trader_types || (t->home != CB_NO_HOME && t->home >= S->sc.n_crossings)))
    return cb_err_set(io->e, CB_EPARSE, "snapshot %s: a trader has a type or base that does not exist; the file is corrupt", io->name);
  IO(io, t->capital); IO(io, t->month_start_capital); IO(io, t->month_profit); IO(io, t->haggling);
  IO(io, t->revenue_usd); IO(io, t->bribes_usd); IO(io, t->fines_usd);
  IO(io, t->next_trip); IO(io, t->protection); IO(io, t->top_clients); IO(io, t->in_flight);
  io_count(io, (void **)&t->orders, &t->norders, &t->cap_orders, sizeof *t->orders, 20);
  for (uint32_t i = 0; i < t->norders && !io->e->code; i++) io_order(io, &t->orders[i]);
  io_count(io, (void **)&t->shelf, &t->nshelf, &t->cap_shelf, sizeof *t->shelf, 15);
  for (uint32_t i = 0; i < t->nshelf && !io->e->code; i++) io_shelf(io, &t->shelf[i]);
  io_bytes(io, t->contacts, sizeof t->contacts);
  IO(io, t->ncontacts);
  for (int h = 0; h < S->sc.n_hubs; h++) io_supply(io, &t->supply[h]);
  return io_bytes(io, t->risk, (size_t)cb_risk_size(S) * sizeof *t->risk);
}

/* Every piece of state that changes as the simulation runs, in one fixed order. */
static int io_state(snap_io *io, cb_sim *S) {
  size_t nmp = (size_t)S->sc.n_markets * (size_t)S->nprod, nrisk = (size_t)cb_risk_size(S);
  IO(io, S->day);
  io_bytes(io, S->B.mem, (size_t)S->B.n * S->B.stride);
  io_buckets(io, &S->reviews);
  io_bytes(io, S->holders, nmp * sizeof *S->holders);
  io_bytes(io, S->poss_cost, (size_t)S->sc.n_markets * sizeof *S->poss_cost);
  io_bytes(io, S->poss_month, (size_t)S->sc.n_markets * sizeof *S->poss_month);
  io_bytes(io, S->lane_free, (size_t)S->sc.n_crossings * 2 * sizeof *S->lane_free);
  for (uint32_t t = 0; t < S->ntraders_max && !io->e->code; t++) io_trader(io, S, &S->T[t]);
  io_bytes(io, S->trader_open, S->ntraders_max);
  uint32_t cap = S->ntraders_max;
  io_array(io, (void **)&S->active_ids, &S->nactive, &cap, sizeof *S->active_ids);
  if (S->nactive > S->ntraders_max) return cb_err_set(io->e, CB_EPARSE, "snapshot %s: more active traders than slots; the file is corrupt", io->name);
  io_bytes(io, S->client_cdf, S->nactive * sizeof *S->client_cdf);
  io_buckets(io, &S->trips);
  for (uint32_t i = 0; i < S->nmiddlemen; i++) io_middleman(io, &S->M[i]);
  for (uint32_t i = 0; i < S->nofficials; i++) io_official(io, &S->O[i]);
  uint32_t cap_cons = S->cap_cons, cap_free = S->cap_cons;
  io_count(io, (void **)&S->C, &S->ncons, &cap_cons, sizeof *S->C, 50);
  for (uint32_t i = 0; i < S->ncons && !io->e->code; i++) io_consignment(io, &S->C[i]);
  if (io->loading && cap_cons > S->cap_cons) { /* the free list must be able to hold every slot */
    uint32_t *f = cb_xrealloc(io->e, S->free_cons, cap_cons * sizeof *f);
    if (!f) return io->e->code;
    S->free_cons = f;
    cap_free = S->cap_cons = cap_cons;
  }
  io_array(io, (void **)&S->free_cons, &S->nfree_cons, &cap_free, sizeof *S->free_cons);
  if (S->nfree_cons > S->ncons) return cb_err_set(io->e, CB_EPARSE, "snapshot %s: more free consignment slots than slots; the file is corrupt", io->name);
  io_buckets(io, &S->shipments);
  IO(io, S->in_transit);
  io_bytes(io, S->P, nmp * sizeof *S->P);
  IO(io, S->L);
  cb_metrics *m = &S->metrics;
  io_bytes(io, m->cur, m->nslots * sizeof *m->cur);
  uint32_t cap_p = m->cap_periods, cap_h = m->cap_periods;
  /* each period is its start and a row of hist: a count the bytes left cannot hold is refused
   * before hist grows to it (a few corrupt bytes could otherwise ask for gigabytes) */
  io_count(io, (void **)&m->period_start, &m->nperiods, &cap_p, sizeof *m->period_start,
           sizeof *m->period_start + (size_t)m->nslots * sizeof *m->hist);
  io_bytes(io, m->period_start, (size_t)m->nperiods * sizeof *m->period_start);
  if (io->loading && m->nperiods > m->cap_periods) {
    double *h = cb_xrealloc(io->e, m->hist, (size_t)cap_p * m->nslots * sizeof *h);
    if (!h) return io->e->code;
    m->hist = h;
    cap_h = m->cap_periods = cap_p;
  }
  (void)cap_h;
  io_bytes(io, m->hist, (size_t)m->nperiods * m->nslots * sizeof *m->hist);
  io_bytes(io, S->pool_cost, nrisk * sizeof *S->pool_cost);
  io_bytes(io, S->pool_value, nrisk * sizeof *S->pool_value);
  io_bytes(io, S->pool_cost_all, nrisk * sizeof *S->pool_cost_all);
  io_bytes(io, S->pool_value_all, nrisk * sizeof *S->pool_value_all);
  return io_bytes(io, S->risk_pooled, nrisk * sizeof *S->risk_pooled);
}

/* The world's layout: what must be the same for a snapshot to fit a simulation (entity names and
 * counts, population sizes, record layout), as a SHA-256 of a text listing it. */
static int layout_fingerprint(const cb_sim *S, char hex[65], cb_err *e) {
  const cb_scenario *sc = &S->sc;
  size_t cap = 1 << 16, n = 0;
  char *t = cb_xmalloc(e, cap);
  if (!t) return e->code;
#define PUT(...) (n += (size_t)snprintf(t + n, n < cap ? cap - n : 0, __VA_ARGS__))
  PUT("buyers %u stride %zu traders %u middlemen %u officials %u slots %u risk %d\n", S->B.n, S->B.stride, S->ntraders_max,
      S->nmiddlemen, S->nofficials, S->metrics.nslots, cb_risk_size(S));
  for (int i = 0; i < sc->n_hubs; i++) PUT("hub %s\n", sc->hubs[i].name);
  for (int i = 0; i < sc->n_crossings; i++) PUT("crossing %s\n", sc->crossings[i].name);
  for (int i = 0; i < sc->n_markets; i++) PUT("market %s\n", sc->markets[i].name);
  for (int i = 0; i < sc->n_checkpoints; i++) PUT("checkpoint %s\n", sc->checkpoints[i].name);
  for (int i = 0; i < sc->n_origins; i++) PUT("origin %s\n", sc->origins[i].name);
  for (int i = 0; i < sc->n_categories; i++) PUT("category %s\n", sc->categories[i].name);
  for (int i = 0; i < S->nroutes; i++) PUT("route %d %d %d\n", S->routes[i].hub, S->routes[i].crossing, S->routes[i].market);
#undef PUT
  if (n >= cap) {
    free(t);
    return cb_err_set(e, CB_EMISUSE, "snapshot: the world's layout is too long to fingerprint");
  }
  cb_sha256_bytes(t, n, hex);
  free(t);
  return CB_OK;
}

int cb_snapshot_check_fork_day(cb_sim *S, const char *day) {
  int32_t d;
  char a[11], b[11];
  cb_format_date(S->start, a);
  cb_format_date(S->end, b);
  if (cb_parse_date(day, &d))
    return cb_err_set(&S->err, CB_ESCHEMA, "--fork-at: '%s' is not a date; write YYYY-MM-DD", day);
  if (d <= S->start || d > S->end)
    return cb_err_set(&S->err, CB_ESCHEMA, "--fork-at: %s is outside %s's period after its first day (%s to %s); "
                      "choose a day in it", day, S->scenario_path, a, b);
  return CB_OK;
}

typedef struct snap_header {
  char magic[8];
  uint32_t version, bom;
  uint64_t seed;
  uint32_t run, record;
  int32_t start, day;
  char layout[65], scenario_sha256[65];
  char pad[6];
} snap_header;

/* The snapshot of S's state (a malloc'd buffer). */
int cb_snapshot_to_buffer(cb_sim *S, uint8_t **out, size_t *len) {
  snap_io io = {0, NULL, 0, 0, 0, "(memory)", &S->err};
  snap_header h;
  memset(&h, 0, sizeof h);
  memcpy(h.magic, SNAP_MAGIC, 8);
  h.version = SNAP_VERSION;
  h.bom = SNAP_BOM;
  h.seed = S->seed;
  h.run = S->run;
  h.record = (uint32_t)S->sc.sim.record;
  h.start = S->start;
  h.day = S->day;
  memcpy(h.scenario_sha256, S->scenario_sha256, sizeof h.scenario_sha256);
  if (layout_fingerprint(S, h.layout, &S->err) || IO(&io, h) || io_state(&io, S)) {
    free(io.buf);
    return S->err.code;
  }
  uint8_t digest[SHA256_DIGEST_SIZE];
  struct sha256_ctx ctx;
  sha256_init(&ctx);
  sha256_update(&ctx, io.len, io.buf);
  sha256_digest(&ctx, sizeof digest, digest);
  if (io_bytes(&io, digest, sizeof digest)) {
    free(io.buf);
    return S->err.code;
  }
  *out = io.buf;
  *len = io.len;
  return CB_OK;
}

/* Restores S (initialised from a scenario with the same layout) from a snapshot buffer; name is
 * used in messages. Nothing of S changes unless the whole snapshot checks out, except on a failure
 * inside the state itself (impossible once the checksum matched, short of a bug). */
int cb_snapshot_from_buffer(cb_sim *S, const uint8_t *buf, size_t len, const char *name) {
  cb_err *e = &S->err;
  if (len < sizeof(snap_header) + SHA256_DIGEST_SIZE || memcmp(buf, SNAP_MAGIC, 8))
    return cb_err_set(e, CB_EPARSE, "snapshot %s: not a contraband snapshot (no CBSNAP header); give a file written "
                      "with --snapshot", name);
  uint8_t digest[SHA256_DIGEST_SIZE];
  struct sha256_ctx ctx;
  sha256_init(&ctx);
  sha256_update(&ctx, len - sizeof digest, buf);
  sha256_digest(&ctx, sizeof digest, digest);
  snap_header h;
  memcpy(&h, buf, sizeof h);
  if (h.version != SNAP_VERSION)
    return cb_err_set(e, CB_EPARSE, "snapshot %s: format version %u, this contraband reads version %u; take the "
                      "snapshot again with this version", name, h.version, SNAP_VERSION);
  if (memcmp(digest, buf + len - sizeof digest, sizeof digest))
    return cb_err_set(e, CB_EPARSE, "snapshot %s: checksum mismatch: the file is truncated or corrupt; take the "
                      "snapshot again", name);
  if (h.bom != SNAP_BOM)
    return cb_err_set(e, CB_EPARSE, "snapshot %s: written on a machine of another byte order; take it again here", name);
  char layout[65];
  if (layout_fingerprint(S, layout, e)) return e->code;
  if (memcmp(layout, h.layout, sizeof layout))
    return cb_err_set(e, CB_ESCHEMA, "snapshot %s: taken of a world with other places, goods, routes or population "
                      "sizes than %s; a continuation or fork may change policies and parameters, not the world's "
                      "entities or sizes", name, S->scenario_path);
  char a[11], b[11];
  cb_format_date(h.day, a);
  if (h.start != S->start || h.record != (uint32_t)S->sc.sim.record) {
    cb_format_date(h.start, b);
    return cb_err_set(e, CB_ESCHEMA, "snapshot %s: taken of a run that started on %s with another recording period; "
                      "simulation.start and simulation.record must match the snapshot's", name, b);
  }
  if (h.day > S->end) { /* nothing would be left to simulate, and the last period would stay open */
    cb_format_date(S->end, b);
    return cb_err_set(e, CB_ESCHEMA, "snapshot %s: taken on %s, after this scenario's last day (%s); set simulation.end later",
                      name, a, b);
  }
  snap_io io = {1, (uint8_t *)buf, len - sizeof digest, 0, sizeof h, name, e};
  if (io_state(&io, S)) return e->code;
  if (io.pos != io.len)
    return cb_err_set(e, CB_EPARSE, "snapshot %s: %zu bytes left over after the state; the file is corrupt", name, io.len - io.pos);
  int64_t bad = cb_buyers_first_invalid(S);
  if (bad >= 0)
    return cb_err_set(e, CB_EPARSE, "snapshot %s: buyer %lld has a market, rank or held origin that does not exist; the file is corrupt",
                      name, (long long)bad);
  /* a lane's queue ends on a real day no further ahead than consignments can be scheduled */
  for (int l = 0; l < S->sc.n_crossings * 2; l++)
    if (!(S->lane_free[l] >= S->start && S->lane_free[l] <= (double)S->day + CB_SHIP_HORIZON))
      return cb_err_set(e, CB_EPARSE, "snapshot %s: crossing %s's %s lane is clear on an impossible day; the file is corrupt", name,
                        S->sc.crossings[l / 2].name, l % 2 ? "unofficial" : "official");
  S->seed = h.seed;
  S->run = h.run;
  S->rng = cb_rng_make(h.seed, h.run);
  /* the day's trip options follow the policy; rebuild them for this scenario */
  free(S->opt_protos);
  S->opt_protos = NULL;
  free(S->opt_count); free(S->opt_listed); free(S->opt_closed);
  S->opt_count = NULL;
  S->opt_listed = NULL;
  S->opt_closed = NULL;
  cb_buyers_recount(S); /* by rank, from the restored buyers */
  snprintf(S->forked_from, sizeof S->forked_from, "%s", name);
  S->forked_day = h.day;
  return CB_OK;
}
