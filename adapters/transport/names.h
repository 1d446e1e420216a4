/*
 * names.h - which file names in a drop folder are acceptable.
 *
 * The same rules apply to names in remote listings (bank folders, SFTP):
 * they are just as untrusted.
 *
 * Treasury systems and people put files into the drop folders; a name
 * travels on into the store, log lines, .reason files and (through name
 * patterns) to banks, so it is untrusted input.  names_check_drop() refuses
 * names that could escape a folder, confuse a terminal or a log parser, or
 * not be represented on the way out.  names_is_ignored() says which names
 * belong to writers still at work (editors, copy tools, our own temporaries)
 * and must be skipped silently, neither picked up nor rejected.
 *
 * Pure functions, no state: any thread.
 */
#ifndef H2H_NAMES_H
#define H2H_NAMES_H

#include "h2h_err.h"

/* Longest acceptable drop file name, in bytes. */
#define NAMES_DROP_MAX 200

/*
 * 0 when name is acceptable; H2H_EINVALID with the reason in err when it is
 * "", ".", "..", longer than NAMES_DROP_MAX bytes, contains '/', "..",
 * a control character (< 0x20, 0x7f, or a C1 control U+0080..U+009F), or is
 * not valid UTF-8 (overlong forms, surrogates and code points above
 * U+10FFFF included).
 */
int names_check_drop(const char *name, struct h2h_err *err);

/* 1 for names to skip silently: hidden (".*") and temporary ("*.tmp",
 * "*.part", "*.swp", "*~"; suffixes compared ignoring case); else 0.
 * NULL counts as ignored. */
int names_is_ignored(const char *name);

#endif
