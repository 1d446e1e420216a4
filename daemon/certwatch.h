/*
 * certwatch.h - expiry warnings for the certificates the banks use.
 *
 * The daemon walks every bank adapter's certificates (ops->certs) at
 * start, after every reload and once an hour, and hands each one to
 * certwatch_check().  A certificate that has crossed a threshold (less
 * than 30, 7 or 1 day left, or expired; cert_warn_level() in cert.h) is
 * logged once per threshold:
 *
 *   level=warn  event=cert.expiring bank=b label="tls client" subject=...
 *               issuer=... not_after=2026-12-01T10:00:00Z days_left=4
 *               threshold="7 days" fingerprint=AB:CD:...
 *   level=error event=cert.expired  (same keys, days_left negative)
 *
 * "Once" is per (bank, SHA-256 fingerprint) for the life of the process:
 * the memory lives here, in the daemon, not in the adapters, so a reload
 * (which recreates every adapter and reloads every certificate) does not
 * repeat a warning, while a renewed certificate (another fingerprint)
 * starts over.  It is keyed by bank too because each bank's configuration
 * is a separate place an operator must fix; a certificate used twice in
 * one bank (e.g. for TLS and for signing) is announced once, under the
 * first label seen.  A certificate first seen already past several
 * thresholds is logged at the most severe one only (as cert_warn_crossed
 * in cert.h does): one line per news, not a burst of stale ones.
 *
 * Checks come in rounds (certwatch_round_begin, certwatch_check for every
 * certificate in use, certwatch_round_end); the end of a round forgets
 * certificates no longer in use, so the memory stays the size of the
 * configuration.  A certificate that comes back later is announced again.
 * A restart starts with an empty memory: the warnings still due are
 * logged again once, at start.
 *
 * Ownership: the caller owns the struct certwatch; certificates are only
 * read during the call.  Threads: the loop thread only (it logs).
 */
#ifndef H2H_CERTWATCH_H
#define H2H_CERTWATCH_H

#include <stddef.h>
#include <time.h>

#include "cert.h"
#include "h2h_err.h"

struct certwatch;

/* 0 or H2H_ENOMEM. */
int certwatch_new(struct certwatch **out, struct h2h_err *err);
void certwatch_free(struct certwatch *w); /* NULL ok */

void certwatch_round_begin(struct certwatch *w);
/* Forget the certificates not checked since certwatch_round_begin. */
void certwatch_round_end(struct certwatch *w);

/*
 * Check x, used by bank for label, as of now: log cert.expiring /
 * cert.expired when it has crossed a threshold not yet logged for (bank,
 * its fingerprint).  Returns the level logged, CERT_WARN_NONE when
 * nothing was.  A certificate that cannot be described is logged as
 * cert.check.failed (every round: it is news each time it is looked at).
 */
enum cert_warn certwatch_check(struct certwatch *w, const char *bank,
                               const char *label, X509 *x, time_t now);

/* Certificates remembered with a warning (tests). */
size_t certwatch_size(const struct certwatch *w);

#endif
