/*
 * ident.h - identifiers: IBAN, BIC, ISO 3166 country, dates, UUID, and the
 * character sets banks impose (SEPA Latin subset).
 *
 * Each check returns 0 when valid or H2H_EINVALID with a reason in words
 * a treasury user understands ("IBAN DE89... has a wrong check digit").
 */
#ifndef FMT_IDENT_H
#define FMT_IDENT_H

#include <stddef.h>

#include "h2h_err.h"

/* Canonical form only: capitals, no spaces (see fmt_iban_normalize). */
int fmt_iban_check(const char *iban, struct h2h_err *err);
/* Copy in to out without spaces, letters in capitals, for inputs (CSV,
 * MT) that print IBANs in groups.  Returns the length, or H2H_ETOOBIG
 * when out is too small. */
int fmt_iban_normalize(const char *in, char *out, size_t outsz);
int fmt_bic_check(const char *bic, struct h2h_err *err);
int fmt_country_valid(const char *cc); /* 1 if an ISO 3166-1 alpha-2 code */
/* "YYYY-MM-DD", a real calendar date. */
int fmt_date_check(const char *d, struct h2h_err *err);
/* ISO 8601 timestamp "YYYY-MM-DDThh:mm:ss" with optional fraction/zone. */
int fmt_datetime_check(const char *t, struct h2h_err *err);
/* Days from 1970-01-01 of a valid "YYYY-MM-DD"; INT32_MIN if invalid. */
long fmt_date_days(const char *d);
/* UETR form: lower-case UUID version 4 (8-4-4-4-12 hex, variant 8-b). */
int fmt_uuid_check(const char *u, struct h2h_err *err);

/* 1 if every character of the UTF-8 string s is in the SEPA set
 * (a-z A-Z 0-9 / - ? : ( ) . , ' + space). */
int fmt_sepa_charset_ok(const char *s);
/* Transliterate s to the SEPA set (ä->a, ß->ss, unknown -> '.');
 * returns a new string the caller frees, NULL on ENOMEM. Only when a
 * profile asks for it.  '\n' (the model's line separator in rmt_ustrd)
 * is kept; '&' becomes '+' as the EPC recommends. */
char *fmt_sepa_transliterate(const char *s);
/* 1 if s is valid UTF-8. */
int fmt_utf8_valid(const char *s, size_t len);

#endif
