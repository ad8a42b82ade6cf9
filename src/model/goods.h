/* What the law and the customs make of a product in a channel: which channels can carry it,
 * whether it must or may be relabelled, and what each kind of checkpoint counts as a violation. */
#ifndef CB_MODEL_GOODS_H
#define CB_MODEL_GOODS_H

#include "model/world.h"

/* 1 if the channel can carry the product today (sanctions, Chinese customs' label rule). */
int cb_goods_channel_ok(const cb_sim *S, int product, int channel);
/* 1 if relabelling is possible in this channel; *forced = 1 if the channel requires it. */
int cb_goods_relabel_options(const cb_sim *S, int product, int channel, int *forced);
/* 1 if a checkpoint of this kind sees consignments of this channel at all. */
int cb_checkpoint_sees(int kind, int channel);
/* 1 if such a consignment breaks a rule this kind of checkpoint enforces. */
int cb_goods_violation(const cb_sim *S, int kind, int channel, int product);
/* 1 if detection there depends on the label (so relabelling hides the violation). */
int cb_goods_label_matters(const cb_sim *S, int kind, int channel, int product);

#endif
