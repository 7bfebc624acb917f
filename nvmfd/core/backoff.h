/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Reconnect backoff: the delay doubles from initial up to max with each
 * failed attempt, varied by +/- jitter percent so that many paths lost at once
 * do not retry in step (bgpd's IdleHoldTime, with jitter). A path that stays
 * live long enough starts again from initial.
 */
#pragma once

#include <stdint.h>

#include "base/duration.h"
#include "inventory/inventory.h"

/* The delay before retry number ATTEMPT (0 for the first); RANDOM is any
 * 32-bit random value, which picks the jitter. */
usec_t backoff_delay(const struct inv_backoff *b, unsigned attempt, uint32_t random);
