/* The ledger: every unit and every dollar accounted for. Each identity compares a running flow
 * with a sum recomputed from the agents' own state, so a bug that loses or invents goods or money
 * anywhere shows up on the day it happens (with --check). */
#include <math.h>
#include <stdio.h>

#include "engine/calendar.h"

#include "model/world.h"

/* Sums of millions of doubles in different orders agree to far better than 1e-9 relative. */
static int differs(double a, double b) { return fabs(a - b) > 1e-9 * (1.0 + fabs(a) + fabs(b)); }

static int fail(cb_sim *S, int32_t day, const char *what, double lhs, double rhs) {
  char d[11];
  cb_format_date(day, d);
  return cb_err_set(&S->err, CB_ELEDGER,
                    "ledger check failed on %s: %s (%.6f != %.6f, difference %.6g); this is a bug in contraband — "
                    "please report it with the scenario and seed",
                    d, what, lhs, rhs, lhs - rhs);
}

int cb_ledger_check(cb_sim *S, int32_t day) {
  double shelves = 0, escrow = 0, transit = 0, revenue = 0, trader_bribes = 0, trader_fines = 0;
  for (uint32_t t = 0; t < S->ntraders_max; t++) {
    const cb_trader *tr = &S->T[t];
    for (uint32_t i = 0; i < tr->nshelf; i++) shelves += tr->shelf[i].qty;
    for (uint32_t i = 0; i < tr->norders; i++) escrow += tr->orders[i].price;
    revenue += tr->revenue_usd;
    trader_bribes += tr->bribes_usd;
    trader_fines += tr->fines_usd;
  }
  for (uint32_t i = 0; i < S->ncons; i++)
    if (S->C[i].live) transit += S->C[i].qty;
  double savings = 0, official_bribes = 0, official_fines = 0;
  for (uint32_t b = 0; b < S->B.n; b++) savings += cb_buyer_at(S, b)->savings;
  for (uint32_t o = 0; o < S->nofficials; o++) {
    official_bribes += S->O[o].bribes_usd;
    official_fines += S->O[o].fines_usd;
  }
  const cb_ledger *L = &S->L;
  if (differs(transit, S->in_transit)) return fail(S, day, "units in transit by consignment != running count", transit, S->in_transit);
  if (differs(L->procured, L->sold + L->seized + transit + shelves))
    return fail(S, day, "units procured != sold to buyers + seized + in transit + on shelves", L->procured, L->sold + L->seized + transit + shelves);
  if (differs(L->buyer_paid_traders, revenue)) return fail(S, day, "what buyers paid traders != traders' revenue", L->buyer_paid_traders, revenue);
  if (differs(L->buyer_paid_state, L->state_shop_revenue)) return fail(S, day, "what buyers paid state shops != shops' revenue", L->buyer_paid_state, L->state_shop_revenue);
  if (differs(trader_bribes + L->buyer_bribes, official_bribes)) return fail(S, day, "bribes paid != bribes received", trader_bribes + L->buyer_bribes, official_bribes);
  if (differs(trader_fines + L->buyer_fines, official_fines)) return fail(S, day, "fines paid != fines collected", trader_fines + L->buyer_fines, official_fines);
  double out = savings + escrow + L->buyer_paid_traders + L->buyer_paid_state + L->buyer_bribes + L->buyer_fines + L->buyer_other;
  if (differs(L->buyer_income, out)) return fail(S, day, "buyers' income != savings + escrow + payments + bribes + fines + other spending", L->buyer_income, out);
  return CB_OK;
}
