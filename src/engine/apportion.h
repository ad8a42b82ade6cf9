/* Dividing whole agents among categories by shares, deterministically: blocks by largest
 * remainder (buyers per market, officials per checkpoint), or an interleaved sequence whose
 * every prefix follows the shares (trader types, middlemen's hubs), so that any first k agents
 * have the intended mix. */
#ifndef CB_ENGINE_APPORTION_H
#define CB_ENGINE_APPORTION_H

#include <stdint.h>

/* Splits total into counts[0..n) proportional to shares (which sum to 1): floors first, then
 * the largest remainders get one more each (ties to the lower index). */
void cb_apportion(const double *shares, int n, uint32_t total, uint32_t *counts);

/* The category of the next agent in an interleaved sequence: the one furthest behind its share
 * after `placed` agents; given[] counts agents placed so far per category (updated). */
int cb_interleave_next(const double *shares, int n, uint32_t placed, double *given);

#endif
