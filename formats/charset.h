/*
 * charset.h - conversion between UTF-8 (inside) and wire charsets (GBK,
 * GB18030, GB2312, CP852, ISO-8859-x, ...), through iconv.
 *
 * Fails closed: a byte sequence that cannot be decoded, or a character the
 * target cannot represent, is H2H_ECHARSET with the offset of the offending
 * input in the message; nothing is substituted or transliterated.
 *
 * Ownership: *out is malloc'd, NUL-terminated, freed by the caller.
 */
#ifndef FMT_CHARSET_H
#define FMT_CHARSET_H

#include <stddef.h>

#include "h2h_err.h"

/* 1 if charset names UTF-8 ("UTF-8", "utf8", NULL or ""). */
int fmt_charset_is_utf8(const char *charset);
/* 1 if iconv knows charset. */
int fmt_charset_known(const char *charset);

/* in[0..len) in charset -> UTF-8. */
int fmt_to_utf8(const char *charset, const char *in, size_t len, char **out,
                size_t *outlen, struct h2h_err *err);
/* UTF-8 in[0..len) -> charset. */
int fmt_from_utf8(const char *charset, const char *in, size_t len, char **out,
                  size_t *outlen, struct h2h_err *err);

#endif
