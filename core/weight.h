/* weight.h — Windows' automatic filter weight (private). */
#ifndef WFP_WEIGHT_H
#define WFP_WEIGHT_H

#include "wfp_catalog.h"

/* Low 60 bits of the automatic weight for a filter with these conditions in this layer. */
uint64_t wfpi_auto_weight(const wfp_layer_info *layer, const wfp_condition *conds, uint32_t n);

#endif
