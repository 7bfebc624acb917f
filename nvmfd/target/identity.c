/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "target/identity.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

#include "base/macro.h"

/* nvmetcfg's namespace for name-based UUIDs (RFC 9562, 6.5): fixed for good,
 * since every derived identity depends on it. */
static const uint8_t id_namespace[16] = {
	0x5b, 0x3a, 0x7c, 0x2e, 0x9d, 0x41, 0x4f, 0x6a, 0x8e, 0x15, 0xc0, 0xd2, 0xb7, 0xa9, 0x4f, 0x31,
};

/* SHA-1 of the namespace and NAME (RFC 9562, 5.5). */
static int digest(const char *name, uint8_t out[20])
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	unsigned len = 0;
	int ok;

	if (!c)
		return -ENOMEM;
	ok = EVP_DigestInit_ex(c, EVP_sha1(), NULL) && EVP_DigestUpdate(c, id_namespace, sizeof(id_namespace)) &&
	     EVP_DigestUpdate(c, name, strlen(name)) && EVP_DigestFinal_ex(c, out, &len) && len == 20;
	EVP_MD_CTX_free(c);
	return ok ? 0 : -ENOMEM;
}

static void format_id(const uint8_t b[16], char out[NVMET_ID_LEN])
{
	snprintf(out, NVMET_ID_LEN, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
		 b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
}

int nvmet_derive_ns_ids(const char *nqn, uint32_t nsid, char uuid[NVMET_ID_LEN], char nguid[NVMET_ID_LEN])
{
	char name[512];
	uint8_t d[20], u[16];
	int r;

	snprintf(name, sizeof(name), "%s/%u", nqn, nsid);
	r = digest(name, d);
	if (r < 0)
		return r;
	memcpy(u, d, sizeof(u));
	u[6] = (uint8_t)((u[6] & 0x0f) | 0x50); /* version 5 */
	u[8] = (uint8_t)((u[8] & 0x3f) | 0x80); /* the RFC's variant */
	format_id(u, uuid);
	format_id(d + 4, nguid);
	return 0;
}

int nvmet_derive_serial(const char *nqn, char serial[NVMET_SERIAL_LEN])
{
	char name[512];
	uint8_t d[20];
	int r;

	snprintf(name, sizeof(name), "serial/%s", nqn);
	r = digest(name, d);
	if (r < 0)
		return r;
	snprintf(serial, NVMET_SERIAL_LEN, "%02x%02x%02x%02x%02x%02x%02x%02x", d[0], d[1], d[2], d[3], d[4], d[5], d[6],
		 d[7]);
	return 0;
}
