/*
 * amount.c - ISO 4217 exponents and exact decimal parsing; see amount.h.
 *
 * The table holds the active ISO 4217 alpha codes that can appear in a
 * payment or a statement (list maintained by SIX, amendment level of 2024).
 * Left out on purpose: precious metals, bond units, SDR, test and "no
 * currency" codes (XAU XAG XPD XPT XBA-XBD XDR XSU XUA XTS XXX), and the
 * two 4-decimal units of account CLF and UYW, because CtrlSum arithmetic in
 * 1/1000 units (fmt_minor_to_milli) cannot hold them exactly.  Withdrawn
 * codes (HRK, CUC, ZWL, ...) are unknown: a bank will refuse them anyway.
 */
#include "amount.h"

#include <stdlib.h>
#include <string.h>

struct ccy {
    char code[4];
    signed char exp;
};

/* Sorted by code: looked up with bsearch. */
static const struct ccy ccys[] = {
    {"AED", 2}, {"AFN", 2}, {"ALL", 2}, {"AMD", 2}, {"ANG", 2}, {"AOA", 2},
    {"ARS", 2}, {"AUD", 2}, {"AWG", 2}, {"AZN", 2}, {"BAM", 2}, {"BBD", 2},
    {"BDT", 2}, {"BGN", 2}, {"BHD", 3}, {"BIF", 0}, {"BMD", 2}, {"BND", 2},
    {"BOB", 2}, {"BOV", 2}, {"BRL", 2}, {"BSD", 2}, {"BTN", 2}, {"BWP", 2},
    {"BYN", 2}, {"BZD", 2}, {"CAD", 2}, {"CDF", 2}, {"CHE", 2}, {"CHF", 2},
    {"CHW", 2}, {"CLP", 0}, {"CNY", 2}, {"COP", 2}, {"COU", 2}, {"CRC", 2},
    {"CUP", 2}, {"CVE", 2}, {"CZK", 2}, {"DJF", 0}, {"DKK", 2}, {"DOP", 2},
    {"DZD", 2}, {"EGP", 2}, {"ERN", 2}, {"ETB", 2}, {"EUR", 2}, {"FJD", 2},
    {"FKP", 2}, {"GBP", 2}, {"GEL", 2}, {"GHS", 2}, {"GIP", 2}, {"GMD", 2},
    {"GNF", 0}, {"GTQ", 2}, {"GYD", 2}, {"HKD", 2}, {"HNL", 2}, {"HTG", 2},
    {"HUF", 2}, {"IDR", 2}, {"ILS", 2}, {"INR", 2}, {"IQD", 3}, {"IRR", 2},
    {"ISK", 0}, {"JMD", 2}, {"JOD", 3}, {"JPY", 0}, {"KES", 2}, {"KGS", 2},
    {"KHR", 2}, {"KMF", 0}, {"KPW", 2}, {"KRW", 0}, {"KWD", 3}, {"KYD", 2},
    {"KZT", 2}, {"LAK", 2}, {"LBP", 2}, {"LKR", 2}, {"LRD", 2}, {"LSL", 2},
    {"LYD", 3}, {"MAD", 2}, {"MDL", 2}, {"MGA", 2}, {"MKD", 2}, {"MMK", 2},
    {"MNT", 2}, {"MOP", 2}, {"MRU", 2}, {"MUR", 2}, {"MVR", 2}, {"MWK", 2},
    {"MXN", 2}, {"MXV", 2}, {"MYR", 2}, {"MZN", 2}, {"NAD", 2}, {"NGN", 2},
    {"NIO", 2}, {"NOK", 2}, {"NPR", 2}, {"NZD", 2}, {"OMR", 3}, {"PAB", 2},
    {"PEN", 2}, {"PGK", 2}, {"PHP", 2}, {"PKR", 2}, {"PLN", 2}, {"PYG", 0},
    {"QAR", 2}, {"RON", 2}, {"RSD", 2}, {"RUB", 2}, {"RWF", 0}, {"SAR", 2},
    {"SBD", 2}, {"SCR", 2}, {"SDG", 2}, {"SEK", 2}, {"SGD", 2}, {"SHP", 2},
    {"SLE", 2}, {"SLL", 2}, {"SOS", 2}, {"SRD", 2}, {"SSP", 2}, {"STN", 2},
    {"SVC", 2}, {"SYP", 2}, {"SZL", 2}, {"THB", 2}, {"TJS", 2}, {"TMT", 2},
    {"TND", 3}, {"TOP", 2}, {"TRY", 2}, {"TTD", 2}, {"TWD", 2}, {"TZS", 2},
    {"UAH", 2}, {"UGX", 0}, {"USD", 2}, {"USN", 2}, {"UYI", 0}, {"UYU", 2},
    {"UZS", 2}, {"VED", 2}, {"VES", 2}, {"VND", 0}, {"VUV", 0}, {"WST", 2},
    {"XAF", 0}, {"XCD", 2}, {"XCG", 2}, {"XOF", 0}, {"XPF", 0}, {"YER", 2},
    {"ZAR", 2}, {"ZMW", 2}, {"ZWG", 2},
};

#define NCCY (sizeof(ccys) / sizeof(ccys[0]))

/* ISO totalDigits of ActiveCurrencyAndAmount / DecimalNumber. */
#define MAX_DIGITS 18
/* Leading zeros are not significant but still cost time: cap the text. */
#define MAX_TEXT 64

static int ccy_cmp(const void *k, const void *e)
{
    return strcmp(k, ((const struct ccy *)e)->code);
}

int fmt_ccy_exponent(const char *ccy)
{
    if (!ccy || strlen(ccy) != 3)
        return -1;
    const struct ccy *c = bsearch(ccy, ccys, NCCY, sizeof(ccys[0]), ccy_cmp);
    return c ? c->exp : -1;
}

int fmt_ccy_valid(const char *ccy)
{
    return fmt_ccy_exponent(ccy) >= 0;
}

/* Printable copy of untrusted input for an error message. */
static void show(char *dst, size_t dsz, const char *s, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len && n + 4 < dsz; i++) {
        unsigned char c = (unsigned char)s[i];
        dst[n++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
    }
    if (len > 0 && n + 4 >= dsz) {
        memcpy(dst + n, "...", 3);
        n += 3;
    }
    dst[n] = '\0';
}

/*
 * The common decimal scanner: an unsigned integer part, an optional '.'
 * and fraction.  Yields the value scaled to `scale` decimals; a non-zero
 * digit beyond `scale` is an error (never rounded).
 */
static int decimal_scan(const char *s, size_t len, int scale,
                        int allow_negative, const char *unit, int64_t *out,
                        struct h2h_err *err)
{
    char shown[48];
    show(shown, sizeof(shown), s ? s : "", s ? len : 0);
    if (!s || len == 0)
        return h2h_err_set(err, H2H_EINVALID, "amount is empty");
    if (len > MAX_TEXT)
        return h2h_err_set(err, H2H_ETOOBIG, "amount \"%s\" is too long",
                           shown);
    size_t i = 0;
    int neg = 0;
    if (s[0] == '-' || s[0] == '+') {
        if (s[0] == '+' || !allow_negative)
            return h2h_err_set(err, H2H_EINVALID,
                               "amount \"%s\" must not carry a sign", shown);
        neg = 1;
        i = 1;
    }
    uint64_t v = 0;
    int sig = 0; /* significant digits seen (leading zeros skipped) */
    int int_digits = 0;
    int frac_digits = 0;
    int dot = 0;
    int excess_nonzero = 0;
    for (; i < len; i++) {
        char c = s[i];
        if (c == '.') {
            if (dot)
                return h2h_err_set(err, H2H_EINVALID,
                                   "amount \"%s\" has two decimal points",
                                   shown);
            dot = 1;
            continue;
        }
        if (c < '0' || c > '9')
            return h2h_err_set(err, H2H_EINVALID,
                               "amount \"%s\" is not a plain decimal number "
                               "(only digits and one '.' are allowed)",
                               shown);
        int d = c - '0';
        if (dot) {
            frac_digits++;
            if (frac_digits > scale) {
                if (d != 0)
                    excess_nonzero = 1;
                continue;
            }
        } else {
            int_digits++;
        }
        if (sig > 0 || d != 0)
            sig++;
        if (sig > MAX_DIGITS)
            return h2h_err_set(err, H2H_ETOOBIG,
                               "amount \"%s\" has more than %d digits", shown,
                               MAX_DIGITS);
        v = v * 10 + (uint64_t)d;
    }
    if (int_digits == 0)
        return h2h_err_set(err, H2H_EINVALID,
                           "amount \"%s\" has no digits before the decimal "
                           "point",
                           shown);
    if (dot && frac_digits == 0)
        return h2h_err_set(err, H2H_EINVALID,
                           "amount \"%s\" has no digits after the decimal "
                           "point",
                           shown);
    if (excess_nonzero) {
        if (scale == 0)
            return h2h_err_set(err, H2H_EINVALID,
                               "amount \"%s\" has decimals but %s has none",
                               shown, unit);
        return h2h_err_set(err, H2H_EINVALID,
                           "amount \"%s\" has more than %d decimals, the "
                           "most %s allows",
                           shown, scale, unit);
    }
    /* Scale the fraction up to `scale` digits. sig <= 18 keeps v < 1e18;
     * the multiplications below may still overflow int64. */
    for (int k = frac_digits < scale ? frac_digits : scale; k < scale; k++) {
        if (v > (uint64_t)INT64_MAX / 10)
            return h2h_err_set(err, H2H_ETOOBIG, "amount \"%s\" is too large",
                               shown);
        v *= 10;
    }
    if (v > (uint64_t)INT64_MAX)
        return h2h_err_set(err, H2H_ETOOBIG, "amount \"%s\" is too large",
                           shown);
    *out = neg ? -(int64_t)v : (int64_t)v;
    return 0;
}

int fmt_amount_parse(const char *s, size_t len, const char *ccy,
                     int allow_negative, int64_t *minor, struct h2h_err *err)
{
    int e = fmt_ccy_exponent(ccy);
    if (e < 0)
        return h2h_err_set(err, H2H_EINVALID,
                           "\"%.8s\" is not a known ISO 4217 currency code",
                           ccy ? ccy : "");
    int64_t v;
    int rc = decimal_scan(s, len, e, allow_negative, ccy, &v, err);
    if (rc < 0)
        return rc;
    if (minor)
        *minor = v;
    return 0;
}

int fmt_milli_parse(const char *s, size_t len, int64_t *milli,
                    struct h2h_err *err)
{
    int64_t v;
    int rc = decimal_scan(s, len, 3, 0, "a control sum", &v, err);
    if (rc < 0)
        return rc;
    if (milli)
        *milli = v;
    return 0;
}

/* Write |v| with `exp` decimals using dec_sep; sign when negative. */
static int fixed_format(int64_t v, int exp, char dec_sep, char *buf,
                        size_t bufsz)
{
    char tmp[32];
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    int n = 0;
    /* Digits in reverse; at least exp+1 of them so "0.05" gets its zero. */
    do {
        tmp[n++] = (char)('0' + u % 10);
        u /= 10;
        if (n == exp)
            tmp[n++] = dec_sep;
    } while (u > 0 || n <= exp + (exp > 0));
    if (v < 0)
        tmp[n++] = '-';
    if (!buf || bufsz < (size_t)n + 1)
        return H2H_ETOOBIG;
    for (int k = 0; k < n; k++)
        buf[k] = tmp[n - 1 - k];
    buf[n] = '\0';
    return n;
}

int fmt_amount_format(int64_t minor, const char *ccy, char dec_sep, char *buf,
                      size_t bufsz)
{
    int e = fmt_ccy_exponent(ccy);
    if (e < 0)
        return H2H_EINVALID;
    return fixed_format(minor, e, dec_sep, buf, bufsz);
}

int fmt_milli_format(int64_t milli, char *buf, size_t bufsz)
{
    if (milli % 10 != 0)
        return fixed_format(milli, 3, '.', buf, bufsz);
    /* Drop the third decimal: exact because it is zero. */
    return fixed_format(milli / 10, 2, '.', buf, bufsz);
}

int64_t fmt_minor_to_milli(int64_t minor, const char *ccy)
{
    int e = fmt_ccy_exponent(ccy);
    /* An unknown or absent code is treated as 2 decimals, the common case;
     * the validator reports the unknown code on its own. */
    if (e < 0)
        e = 2;
    int64_t f = 1;
    for (int k = e; k < 3; k++)
        f *= 10;
    int64_t r;
    if (__builtin_mul_overflow(minor, f, &r))
        return minor < 0 ? INT64_MIN : INT64_MAX;
    return r;
}
