/*
 * cmd_key: `helios key generate FILE` makes a new Ed25519 signing key for
 * manifest.json: FILE (PEM private key, mode 0600) and FILE.pub (its PEM
 * public key, what clients put in their keyring), and prints the key id
 * the manifest will name.  It never writes over an existing file.
 */
#include <err.h>
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "keyring.h"

int
hl_cmd_key(int argc, char **argv)
{
	struct hl_err e = HL_ERR_INIT;
	char id[HL_KEYRING_ID_LEN + 1];

	if (argc != 3 || strcmp(argv[1], "generate") != 0 ||
	    argv[2][0] == '-') {
		fputs("usage: helios key generate FILE\n", stderr);
		return 1;
	}
	if (hl_keyring_generate(argv[2], id, &e) != 0)
		errx(1, "%s", e.msg);
	printf("private key: %s\npublic key: %s.pub\nkey id: %s\n", argv[2],
	    argv[2], id);
	return 0;
}
