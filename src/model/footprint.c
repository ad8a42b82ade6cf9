/* Memory a scenario will need, estimated before anything large is allocated, so a run that would
 * not fit is refused with the estimate and the limit instead of being killed hours later by the
 * operating system. The estimate adds the fixed-size blocks exactly (buyers' records, traders'
 * learned risks, the metrics history) and allowances, calibrated on measured peak resident memory
 * (see docs/robustness.md), for what grows during a run (order books, consignments in transit,
 * day buckets). The limit is --max-memory, or else the memory the machine can give now
 * (MemAvailable, lowered by a cgroup's memory.max when the process runs under one). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "model/world.h"

#define MIB (1024.0 * 1024.0)

/* Buyers' open orders in traders' books (one per buyer, with the books' growth slack) and their
 * entries in the review buckets (with slack), per buyer. */
enum { ORDER_BYTES_PER_BUYER = 2 * (int)sizeof(cb_order), BUCKET_BYTES_PER_BUYER = 2 * (int)sizeof(uint32_t) };
/* Consignments in transit per trader slot, with slack: a baseline run has about 3. */
enum { CONSIGNMENTS_PER_TRADER = 16 };
/* Code, libraries, stacks, the scenario tree and small tables. */
#define BASE_BYTES (10.0 * MIB)

static double periods_in(const cb_sim *S) {
  double days = (double)(S->end - S->start + 1);
  switch (S->sc.sim.record) {
    case CB_PERIOD_DAY: return days;
    case CB_PERIOD_WEEK: return days / 7.0 + 1.0;
    case CB_PERIOD_MONTH: return days / 28.0 + 1.0;
    case CB_PERIOD_QUARTER: return days / 90.0 + 1.0;
    default: return days / 365.0 + 1.0;
  }
}

void cb_footprint_estimate(const cb_sim *S, cb_footprint *f) {
  double buyers = (double)S->sc.pop.buyers, traders = ceil((double)S->sc.pop.traders * S->sc.pop.trader_pool_factor);
  double stride = (double)cb_buyer_stride(S->ncat);
  double nrisk = (double)cb_risk_size(S);
  f->buyers = buyers * (stride + ORDER_BYTES_PER_BUYER + BUCKET_BYTES_PER_BUYER);
  f->traders = traders * ((double)sizeof(cb_trader) + 2.0 * nrisk + (double)S->sc.n_hubs * (double)sizeof(cb_supply) +
                          CONSIGNMENTS_PER_TRADER * (double)(sizeof(cb_consignment) + sizeof(uint32_t)));
  /* the history doubles its capacity as it grows, so up to twice the periods are held at once */
  f->metrics = (double)S->metrics.nslots * sizeof(double) * 2.0 * (periods_in(S) + 2.0);
  f->other = BASE_BYTES + (double)S->sc.pop.officials * 64.0 + (double)S->sc.pop.middlemen * 256.0 + 5.0 * nrisk * sizeof(double);
  f->total = f->buyers + f->traders + f->metrics + f->other;
}

/* Memory the machine can give this process now, in bytes; 0 if unknown. */
static double available_bytes(void) {
  double avail = 0;
  FILE *f = fopen("/proc/meminfo", "r");
  if (f) {
    char line[256];
    unsigned long long kb;
    while (fgets(line, sizeof line, f))
      if (sscanf(line, "MemAvailable: %llu kB", &kb) == 1) avail = (double)kb * 1024.0;
    fclose(f);
  }
  f = fopen("/sys/fs/cgroup/memory.max", "r");
  if (f) {
    unsigned long long max = 0, cur = 0;
    int ok = fscanf(f, "%llu", &max) == 1; /* "max" (no limit) does not parse */
    fclose(f);
    FILE *c = fopen("/sys/fs/cgroup/memory.current", "r");
    if (c) {
      if (fscanf(c, "%llu", &cur) != 1) cur = 0;
      fclose(c);
    }
    if (ok) {
      double room = max > cur ? (double)(max - cur) : 0.0;
      if (avail == 0 || room < avail) avail = room;
    }
  }
  return avail;
}

int cb_footprint_check(cb_sim *S) {
  cb_footprint f;
  cb_footprint_estimate(S, &f);
  S->mem_estimate = f.total;
  double limit = S->max_memory > 0 ? (double)S->max_memory : available_bytes();
  if (limit <= 0 || f.total <= limit) return CB_OK;
  return cb_err_set(&S->err, CB_ENOMEM,
                    "%s: this scenario needs about %.0f MiB (buyers %.0f MiB, traders %.0f MiB, metrics history %.0f MiB, the rest %.0f MiB), "
                    "more than the %.0f MiB %s; lower population.buyers or population.traders, record less often "
                    "(simulation.record), or %s",
                    S->scenario_path, f.total / MIB, f.buyers / MIB, f.traders / MIB, f.metrics / MIB, f.other / MIB, limit / MIB,
                    S->max_memory > 0 ? "allowed by the memory limit (--max-memory)" : "this machine has available",
                    S->max_memory > 0 ? "raise --max-memory" : "free memory");
}
