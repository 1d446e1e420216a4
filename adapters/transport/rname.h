/*
 * rname.h - validation of file names that come from outside: drop folders,
 * remote listings (SFTP, bank folders).
 *
 * A name is acceptable when it is a single path component: not empty, not
 * "." or "..", no '/', no "..", no control characters (< 0x20, 0x7f), valid
 * UTF-8, at most RNAME_MAX bytes.  Temporary and hidden names (".*",
 * "*.tmp", "*.part", "*.swp", "*~") are not errors: writers use them while a
 * file is incomplete, so they are skipped silently.
 */
#ifndef H2H_RNAME_H
#define H2H_RNAME_H

#include "h2h_err.h"

#define RNAME_MAX 200

/* 0 if acceptable, else H2H_EINVALID with the reason in err. */
int rname_check(const char *name, struct h2h_err *err);
/* 1 if acceptable. */
int rname_ok(const char *name);
/* 1 if the name is hidden/temporary and must be skipped. */
int rname_ignored(const char *name);

#endif
