/*
 * testgit: what the unit tests of the git targets share.
 */
#ifndef HL_TESTGIT_H
#define HL_TESTGIT_H

/*
 * The path of tests/tools/git-http.sh (the smart-HTTP git server), below
 * $HL_SRCDIR or the current directory.
 */
const char	*hl_testgit_server(void);

#endif
