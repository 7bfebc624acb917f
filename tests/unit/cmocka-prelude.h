/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The includes cmocka needs before its own header, in the order it needs them. */
#pragma once
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
