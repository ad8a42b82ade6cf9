/* What the law and the customs make of a product in a channel: which channels can carry it,
 * whether relabelling can hide it, and what a checkpoint counts as a violation (by the rules the
 * scenario gives its kind). */
#ifndef CB_MODEL_GOODS_H
#define CB_MODEL_GOODS_H

#include "model/world.h"

/* 1 if the channel can carry the product today (sanctions, Chinese customs' label rule). */
int cb_goods_channel_ok(const cb_sim *S, int product, int channel);
/* 1 if relabelling can change anything in this channel (foreign goods, not declared as what they
 * are). Whether to relabel is the trader's choice (traders.c), never forced by a channel. */
int cb_goods_can_relabel(const cb_sim *S, int product, int channel);
/* 1 if checkpoint c sees consignments of this channel at all (its kind's `sees`). */
int cb_checkpoint_sees(const cb_sim *S, int checkpoint, int channel);
/* What checkpoint c counts against such a consignment, by its kind's rules: nothing, an offence
 * whatever the label, or a foreign label (which relabelling hides). */
enum { CB_OFFENCE_NONE, CB_OFFENCE_ANY_LABEL, CB_OFFENCE_LABEL };
int cb_goods_offence(const cb_sim *S, int checkpoint, int channel, int product);

#endif
