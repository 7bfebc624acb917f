/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* An inventory from YAML text the test knows to be valid (include after cmocka-prelude.h). */
#pragma once

#include <string.h>

#include "base/diag.h"
#include "inventory/inventory.h"

static inline struct inventory *load_inventory(const char *yaml)
{
	struct diags d = { 0 };
	struct inventory *inv = NULL;

	assert_int_equal(inventory_load_string("inv.yaml", yaml, strlen(yaml), &d, &inv), 0);
	diags_clear(&d);
	return inv;
}
