/*
 * log.h - logfmt event log: one event per line.
 *
 *   ts=2026-11-28T13:50:01.123Z level=info event=payment.accepted \
 *       msg=M20261128-0001 channel=erp file=pay1.xml sha256=ab12...
 *
 * Call sites pass a stable event name and "key=value" pairs built with
 * h2h_log(); values are quoted and escaped as needed by the logger, so
 * callers pass raw values:
 *
 *     h2h_log(H2H_LOG_INFO, "payment.accepted", "msg", id, "file", name,
 *             NULL);
 *
 * Keys and values alternate and the list ends with NULL.  Never pass a
 * secret; account numbers go through h2h_log_mask_account() first.
 *
 * Destination: stderr (default) or a file opened O_APPEND; h2h_log_reopen()
 * reopens the file after logrotate moved it (called on SIGHUP).
 * Thread-safety: the loop thread only; thread-pool workers return errors to
 * the loop, which logs them.
 */
#ifndef H2H_LOG_H
#define H2H_LOG_H

#include <stddef.h>

enum h2h_log_level {
    H2H_LOG_DEBUG = 0,
    H2H_LOG_INFO = 1,
    H2H_LOG_WARN = 2,
    H2H_LOG_ERROR = 3,
};

/* Open path for appending ("-" or NULL: stderr).  0 or -errno. */
int h2h_log_open(const char *path, enum h2h_log_level level);
int h2h_log_reopen(void);
void h2h_log_close(void);
void h2h_log_set_level(enum h2h_log_level level);
/* "debug", "info", "warn", "error" -> level; -1 if unknown. */
int h2h_log_level_parse(const char *s);

/* Emit one event; variadic key, value pairs ending with NULL.  A NULL
 * value is skipped together with its key when it is not the terminator:
 * pass "" for an empty value. */
void h2h_log(enum h2h_log_level level, const char *event, ...);
/* Same, with the key/value pairs in an array of 2*n strings. */
void h2h_log_kv(enum h2h_log_level level, const char *event,
                const char *const *kv, size_t n);

/* Mask an account number for logs: keep the first 4 and last 4
 * characters ("DE89********3000"); buf >= 48 bytes. */
const char *h2h_log_mask_account(const char *acct, char *buf, size_t bufsz);

#endif
