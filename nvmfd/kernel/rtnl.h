/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Link and address changes from rtnetlink. A netdev going up or down, or
 * gaining or losing carrier or an address, sends no uevent; rtnetlink says
 * it. The messages are not parsed: any of them means "read the links
 * again", and an overflow (ENOBUFS) means the same.
 */
#pragma once

/* A socket subscribed to link and address changes (non-blocking), or -errno. */
int rtnl_open(void);

/* Drain FD. Returns whether anything (or an overflow) arrived. */
int rtnl_drain(int fd);
