/*
 * amount.h - exact money: ISO 4217 table and decimal <-> minor units.
 *
 * Never double.  Parsing "12.5" in EUR gives 1250; "12.345" in EUR is an
 * error (more decimals than the currency allows), never rounded; "12.340"
 * is accepted (trailing zeros carry no value).  JPY has 0 decimals, BHD 3.
 */
#ifndef FMT_AMOUNT_H
#define FMT_AMOUNT_H

#include <stddef.h>
#include <stdint.h>

#include "h2h_err.h"

/* Decimal places of an ISO 4217 alpha code, or -1 if not a known code. */
int fmt_ccy_exponent(const char *ccy);
/* 1 if ccy is a known active ISO 4217 code. */
int fmt_ccy_valid(const char *ccy);

/*
 * Parse a decimal string ("1234.56", no sign, no exponent, no thousands
 * separators, no surrounding spaces - readers trim; a leading '-' only
 * when allow_negative) into minor units of ccy.  At least one digit before
 * and after a '.'; at most 18 significant digits (ISO totalDigits).
 * Returns 0, H2H_EINVALID (with reason in err; also for an unknown ccy)
 * or H2H_ETOOBIG (more than 18 digits, or beyond int64).
 */
int fmt_amount_parse(const char *s, size_t len, const char *ccy,
                     int allow_negative, int64_t *minor, struct h2h_err *err);

/* Format minor units of ccy as "1234.56" ("-" prefixed when negative);
 * dec_sep is '.' or ',' (MT uses ','). Returns length; buf >= 32 bytes.
 * H2H_EINVALID for an unknown ccy, H2H_ETOOBIG when buf is too small. */
int fmt_amount_format(int64_t minor, const char *ccy, char dec_sep, char *buf,
                      size_t bufsz);

/* Parse a decimal sum across currencies (CtrlSum) into 1/1000 units;
 * more than 3 significant decimals is H2H_EINVALID. */
int fmt_milli_parse(const char *s, size_t len, int64_t *milli,
                    struct h2h_err *err);
/* Format 1/1000 units with 2 decimals, or 3 when the last is non-zero. */
int fmt_milli_format(int64_t milli, char *buf, size_t bufsz);
/* Convert minor units of ccy to 1/1000 units (exponent <= 3; an unknown
 * or empty ccy counts as 2 decimals; saturates at INT64_MIN/MAX). */
int64_t fmt_minor_to_milli(int64_t minor, const char *ccy);

#endif
