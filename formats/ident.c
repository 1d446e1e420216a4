/*
 * ident.c - IBAN, BIC, country, date, UUID and SEPA character checks; see
 * ident.h.
 *
 * Tables: IBAN lengths follow the SWIFT IBAN registry (release 2024);
 * countries are ISO 3166-1 alpha-2 plus XK (Kosovo), which banks, SWIFT
 * and the IBAN registry use although ISO has not assigned it.
 */
#include "ident.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Printable, shortened copy of untrusted input for a message. */
static const char *show(char *dst, size_t dsz, const char *s)
{
    size_t n = 0;
    if (!s)
        s = "";
    for (; *s && n + 4 < dsz; s++) {
        unsigned char c = (unsigned char)*s;
        dst[n++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
    }
    if (*s) {
        memcpy(dst + n, "...", 3);
        n += 3;
    }
    dst[n] = '\0';
    return dst;
}

/* IBANs in messages: country, check digits and the last four only, so
 * that no full account number reaches a log line (DESIGN.md). */
static const char *mask_iban(char *dst, size_t dsz, const char *s)
{
    char tmp[48];
    show(tmp, sizeof(tmp), s);
    size_t n = strlen(tmp);
    if (n <= 8)
        snprintf(dst, dsz, "%s", tmp);
    else
        snprintf(dst, dsz, "%.4s...%s", tmp, tmp + n - 4);
    return dst;
}

static int is_upper(char c)
{
    return c >= 'A' && c <= 'Z';
}
static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}
static int is_alnum_upper(char c)
{
    return is_upper(c) || is_digit(c);
}

/* ---- countries --------------------------------------------------------- */

static const char countries[] =
    "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ "
    "BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ "
    "CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ "
    "DE DJ DK DM DO DZ "
    "EC EE EG EH ER ES ET "
    "FI FJ FK FM FO FR "
    "GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY "
    "HK HM HN HR HT HU "
    "ID IE IL IM IN IO IQ IR IS IT "
    "JE JM JO JP "
    "KE KG KH KI KM KN KP KR KW KY KZ "
    "LA LB LC LI LK LR LS LT LU LV LY "
    "MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ "
    "NA NC NE NF NG NI NL NO NP NR NU NZ "
    "OM "
    "PA PE PF PG PH PK PL PM PN PR PS PT PW PY "
    "QA "
    "RE RO RS RU RW "
    "SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ "
    "TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ "
    "UA UG UM US UY UZ "
    "VA VC VE VG VI VN VU "
    "WF WS "
    "XK "
    "YE YT "
    "ZA ZM ZW ";

int fmt_country_valid(const char *cc)
{
    if (!cc || !is_upper(cc[0]) || !is_upper(cc[1]) || cc[2] != '\0')
        return 0;
    /* The table is a sequence of "XX " cells: a 3-step scan is exact. */
    for (const char *p = countries; *p; p += 3)
        if (p[0] == cc[0] && p[1] == cc[1])
            return 1;
    return 0;
}

/* ---- IBAN -------------------------------------------------------------- */

struct iban_len {
    char cc[3];
    unsigned char len;
};

static const struct iban_len iban_lens[] = {
    {"AD", 24}, {"AE", 23}, {"AL", 28}, {"AT", 20}, {"AZ", 28}, {"BA", 20},
    {"BE", 16}, {"BG", 22}, {"BH", 22}, {"BI", 27}, {"BR", 29}, {"BY", 28},
    {"CH", 21}, {"CR", 22}, {"CY", 28}, {"CZ", 24}, {"DE", 22}, {"DJ", 27},
    {"DK", 18}, {"DO", 28}, {"EE", 20}, {"EG", 29}, {"ES", 24}, {"FI", 18},
    {"FK", 18}, {"FO", 18}, {"FR", 27}, {"GB", 22}, {"GE", 22}, {"GI", 23},
    {"GL", 18}, {"GR", 27}, {"GT", 28}, {"HN", 28}, {"HR", 21}, {"HU", 28},
    {"IE", 22}, {"IL", 23}, {"IQ", 23}, {"IS", 26}, {"IT", 27}, {"JO", 30},
    {"KW", 30}, {"KZ", 20}, {"LB", 28}, {"LC", 32}, {"LI", 21}, {"LT", 20},
    {"LU", 20}, {"LV", 21}, {"LY", 25}, {"MC", 27}, {"MD", 24}, {"ME", 22},
    {"MK", 19}, {"MN", 20}, {"MR", 27}, {"MT", 31}, {"MU", 30}, {"NI", 28},
    {"NL", 18}, {"NO", 15}, {"OM", 23}, {"PK", 24}, {"PL", 28}, {"PS", 29},
    {"PT", 25}, {"QA", 29}, {"RO", 24}, {"RS", 22}, {"RU", 33}, {"SA", 24},
    {"SC", 31}, {"SD", 18}, {"SE", 24}, {"SI", 19}, {"SK", 24}, {"SM", 27},
    {"SO", 23}, {"ST", 25}, {"SV", 28}, {"TL", 23}, {"TN", 24}, {"TR", 26},
    {"UA", 29}, {"VA", 22}, {"VG", 24}, {"XK", 20}, {"YE", 30},
};

static int iban_country_len(const char *cc)
{
    for (size_t i = 0; i < sizeof(iban_lens) / sizeof(iban_lens[0]); i++)
        if (iban_lens[i].cc[0] == cc[0] && iban_lens[i].cc[1] == cc[1])
            return iban_lens[i].len;
    return -1;
}

int fmt_iban_check(const char *iban, struct h2h_err *err)
{
    char sh[48];
    if (!iban || !*iban)
        return h2h_err_set(err, H2H_EINVALID, "IBAN is empty");
    size_t len = strlen(iban);
    if (len > 34)
        return h2h_err_set(err, H2H_EINVALID,
                           "IBAN %s is longer than 34 characters",
                           mask_iban(sh, sizeof(sh), iban));
    for (size_t i = 0; i < len; i++) {
        char c = iban[i];
        if (c == ' ')
            return h2h_err_set(err, H2H_EINVALID,
                               "IBAN %s contains spaces; write it without "
                               "spaces",
                               mask_iban(sh, sizeof(sh), iban));
        if (c >= 'a' && c <= 'z')
            return h2h_err_set(err, H2H_EINVALID,
                               "IBAN %s contains lower-case letters; write "
                               "it in capitals",
                               mask_iban(sh, sizeof(sh), iban));
        if (!is_alnum_upper(c))
            return h2h_err_set(err, H2H_EINVALID,
                               "IBAN %s contains a character that is not a "
                               "letter or digit",
                               mask_iban(sh, sizeof(sh), iban));
    }
    if (len < 5 || !is_upper(iban[0]) || !is_upper(iban[1]) ||
        !is_digit(iban[2]) || !is_digit(iban[3]))
        return h2h_err_set(err, H2H_EINVALID,
                           "IBAN %s must start with a country code and two "
                           "check digits",
                           mask_iban(sh, sizeof(sh), iban));
    int want = iban_country_len(iban);
    if (want < 0)
        return h2h_err_set(err, H2H_EINVALID,
                           "IBAN %s: country %.2s does not use IBANs",
                           mask_iban(sh, sizeof(sh), iban), iban);
    if ((size_t)want != len)
        return h2h_err_set(err, H2H_EINVALID,
                           "IBAN %s has %zu characters; IBANs of %.2s have "
                           "%d",
                           mask_iban(sh, sizeof(sh), iban), len, iban, want);
    /* ISO 7064 mod 97-10 over BBAN + country + check digits, letters as
     * 10..35; folded digit by digit so it fits any integer type. */
    unsigned rem = 0;
    for (size_t k = 0; k < len; k++) {
        char c = iban[(k + 4) % len];
        if (is_digit(c)) {
            rem = (rem * 10 + (unsigned)(c - '0')) % 97;
        } else {
            unsigned v = (unsigned)(c - 'A') + 10;
            rem = (rem * 100 + v) % 97;
        }
    }
    if (rem != 1)
        return h2h_err_set(err, H2H_EINVALID,
                           "IBAN %s has a wrong check digit (mistyped?)",
                           mask_iban(sh, sizeof(sh), iban));
    /* Check digits 00, 01 and 99 can never result from the algorithm. */
    if ((iban[2] == '0' && (iban[3] == '0' || iban[3] == '1')) ||
        (iban[2] == '9' && iban[3] == '9'))
        return h2h_err_set(err, H2H_EINVALID,
                           "IBAN %s has impossible check digits %.2s",
                           mask_iban(sh, sizeof(sh), iban), iban + 2);
    return 0;
}

int fmt_iban_normalize(const char *in, char *out, size_t outsz)
{
    size_t n = 0;
    if (!in || !out || outsz == 0)
        return H2H_EINVALID;
    for (; *in; in++) {
        char c = *in;
        if (c == ' ')
            continue;
        if (c >= 'a' && c <= 'z')
            c = (char)(c - 'a' + 'A');
        if (n + 1 >= outsz) {
            out[0] = '\0';
            return H2H_ETOOBIG;
        }
        out[n++] = c;
    }
    out[n] = '\0';
    return (int)n;
}

/* ---- BIC --------------------------------------------------------------- */

int fmt_bic_check(const char *bic, struct h2h_err *err)
{
    char sh[48];
    if (!bic || !*bic)
        return h2h_err_set(err, H2H_EINVALID, "BIC is empty");
    size_t len = strlen(bic);
    if (len != 8 && len != 11)
        return h2h_err_set(err, H2H_EINVALID,
                           "BIC %s has %zu characters; a BIC has 8 or 11",
                           show(sh, sizeof(sh), bic), len);
    for (size_t i = 0; i < len; i++)
        if (bic[i] >= 'a' && bic[i] <= 'z')
            return h2h_err_set(err, H2H_EINVALID,
                               "BIC %s contains lower-case letters; write it "
                               "in capitals",
                               show(sh, sizeof(sh), bic));
    for (int i = 0; i < 4; i++)
        if (!is_upper(bic[i]))
            return h2h_err_set(err, H2H_EINVALID,
                               "BIC %s: the first four characters (the bank "
                               "code) must be letters",
                               show(sh, sizeof(sh), bic));
    char cc[3] = {bic[4], bic[5], '\0'};
    if (!fmt_country_valid(cc))
        return h2h_err_set(err, H2H_EINVALID,
                           "BIC %s: characters 5-6 \"%s\" are not a country "
                           "code",
                           show(sh, sizeof(sh), bic), show(sh + 24, 8, cc));
    /* ISO 9362 location: first char never 0 or 1 (reserved), second
     * never 'O' (to avoid confusion with zero); the XSD pattern agrees. */
    char l1 = bic[6], l2 = bic[7];
    if (!(is_upper(l1) || (l1 >= '2' && l1 <= '9')) ||
        !((is_upper(l2) && l2 != 'O') || is_digit(l2)))
        return h2h_err_set(err, H2H_EINVALID,
                           "BIC %s: characters 7-8 are not a valid location "
                           "code",
                           show(sh, sizeof(sh), bic));
    for (size_t i = 8; i < len; i++)
        if (!is_alnum_upper(bic[i]))
            return h2h_err_set(err, H2H_EINVALID,
                               "BIC %s: the branch code (characters 9-11) "
                               "must be letters or digits",
                               show(sh, sizeof(sh), bic));
    return 0;
}

/* ---- dates ------------------------------------------------------------- */

static int digits(const char *s, int n, int *v)
{
    int x = 0;
    for (int i = 0; i < n; i++) {
        if (!is_digit(s[i]))
            return -1;
        x = x * 10 + (s[i] - '0');
    }
    *v = x;
    return 0;
}

static int leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int mdays(int y, int m)
{
    static const int d[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && leap(y) ? 29 : d[m - 1];
}

/* Parse the "YYYY-MM-DD" prefix of s; 0 or -1. */
static int ymd(const char *s, int *y, int *m, int *d)
{
    for (int i = 0; i < 10; i++)
        if (!s[i])
            return -1;
    if (digits(s, 4, y) || s[4] != '-' || digits(s + 5, 2, m) || s[7] != '-' ||
        digits(s + 8, 2, d))
        return -1;
    if (*y < 1 || *m < 1 || *m > 12 || *d < 1 || *d > mdays(*y, *m))
        return -1;
    return 0;
}

int fmt_date_check(const char *d, struct h2h_err *err)
{
    char sh[48];
    int y, m, dd;
    if (!d || ymd(d, &y, &m, &dd) < 0 || d[10] != '\0')
        return h2h_err_set(err, H2H_EINVALID,
                           "\"%s\" is not a valid date (YYYY-MM-DD)",
                           show(sh, sizeof(sh), d));
    return 0;
}

int fmt_datetime_check(const char *t, struct h2h_err *err)
{
    char sh[48];
    int y, mo, d, h, mi, s;
    const char *p = t;
    if (!t || ymd(t, &y, &mo, &d) < 0 || t[10] != 'T')
        goto bad;
    p = t + 11;
    for (int i = 0; i < 8; i++)
        if (!p[i])
            goto bad;
    if (digits(p, 2, &h) || p[2] != ':' || digits(p + 3, 2, &mi) ||
        p[5] != ':' || digits(p + 6, 2, &s) || h > 23 || mi > 59 || s > 59)
        goto bad;
    p += 8;
    if (*p == '.') {
        int n = 0;
        for (p++; is_digit(*p); p++)
            n++;
        if (n == 0 || n > 9)
            goto bad;
    }
    if (*p == 'Z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int oh, om;
        if (!p[1] || !p[2] || !p[3] || !p[4] || !p[5] ||
            digits(p + 1, 2, &oh) || p[3] != ':' || digits(p + 4, 2, &om) ||
            oh > 14 || om > 59)
            goto bad;
        p += 6;
    }
    if (*p != '\0')
        goto bad;
    return 0;
bad:
    return h2h_err_set(err, H2H_EINVALID,
                       "\"%s\" is not a valid date and time "
                       "(YYYY-MM-DDThh:mm:ss)",
                       show(sh, sizeof(sh), t));
}

long fmt_date_days(const char *d)
{
    int y, m, dd;
    if (!d || ymd(d, &y, &m, &dd) < 0 || d[10] != '\0')
        return INT32_MIN;
    /* H. Hinnant's days_from_civil: exact for the proleptic Gregorian
     * calendar without tables. */
    long yy = y - (m <= 2);
    long era = (yy >= 0 ? yy : yy - 399) / 400;
    long yoe = yy - era * 400;
    long doy = (153L * (m + (m > 2 ? -3 : 9)) + 2) / 5 + dd - 1;
    long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* ---- UUID -------------------------------------------------------------- */

int fmt_uuid_check(const char *u, struct h2h_err *err)
{
    char sh[48];
    /* The UETR form (SWIFT gpi, ISO UUIDv4Identifier): lower-case hex,
     * version 4, variant 10xx. */
    static const char shape[] = "xxxxxxxx-xxxx-4xxx-vxxx-xxxxxxxxxxxx";
    if (!u)
        goto bad;
    for (size_t i = 0; i < sizeof(shape) - 1; i++) {
        char c = u[i];
        int hex = is_digit(c) || (c >= 'a' && c <= 'f');
        switch (shape[i]) {
        case '-':
        case '4':
            if (c != shape[i])
                goto bad;
            break;
        case 'v':
            if (c != '8' && c != '9' && c != 'a' && c != 'b')
                goto bad;
            break;
        default:
            if (!hex)
                goto bad;
        }
    }
    if (u[sizeof(shape) - 1] != '\0')
        goto bad;
    return 0;
bad:
    return h2h_err_set(err, H2H_EINVALID,
                       "\"%s\" is not a lower-case version 4 UUID",
                       show(sh, sizeof(sh), u));
}

/* ---- UTF-8 and the SEPA character set ---------------------------------- */

/* Decode one strict UTF-8 sequence (no overlongs, no surrogates, at most
 * U+10FFFF).  Returns its length and sets *cp, or 0 when invalid. */
static size_t utf8_dec(const unsigned char *s, size_t len, uint32_t *cp)
{
    unsigned char c = s[0];
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    size_t n;
    uint32_t v, min;
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2;
        v = c & 0x1F;
        min = 0x80;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        v = c & 0x0F;
        min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        v = c & 0x07;
        min = 0x10000;
    } else {
        return 0;
    }
    if (len < n)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        v = (v << 6) | (s[i] & 0x3F);
    }
    if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
        return 0;
    *cp = v;
    return n;
}

int fmt_utf8_valid(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    uint32_t cp;
    if (!s)
        return len == 0;
    while (i < len) {
        size_t n = utf8_dec(p + i, len - i, &cp);
        if (n == 0)
            return 0;
        i += n;
    }
    return 1;
}

static int sepa_ascii(unsigned c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
        (c >= '0' && c <= '9'))
        return 1;
    return c != 0 && strchr("/-?:().,'+ ", (int)c) != NULL;
}

int fmt_sepa_charset_ok(const char *s)
{
    if (!s)
        return 1;
    for (; *s; s++)
        if (!sepa_ascii((unsigned char)*s))
            return 0;
    return 1;
}

/* U+00C0..U+017F to SEPA letters; '.' for the symbols × and ÷, '*' for
 * the few that need two letters (handled in translit_cp). */
static const char latin_map[] =
    /* C0 */ "AAAAAA*CEEEEIIII"
             "DNOOOOO.OUUUUY**"
             /* E0 */ "aaaaaa*ceeeeiiii"
             "dnooooo.ouuuuy*y"
             /* 100 */ "AaAaAaCcCcCcCcDd"
             "DdEeEeEeEeEeGgGg"
             /* 120 */ "GgGgHhHhIiIiIiIi"
             "Ii**JjKkkLlLlLlL"
             /* 140 */ "lLlNnNnNnnNnOoOo"
             "Oo**RrRrRrSsSsSs"
             /* 160 */ "SsTtTtTtUuUuUuUu"
             "UuUuWwYyYZzZzZzs";

static const char *translit_cp(uint32_t cp, char one[2])
{
    switch (cp) {
    case 0xC6: return "AE";
    case 0xE6: return "ae";
    case 0xDE: return "TH";
    case 0xFE: return "th";
    case 0xDF: return "ss";
    case 0x132: return "IJ";
    case 0x133: return "ij";
    case 0x152: return "OE";
    case 0x153: return "oe";
    case 0x218: return "S"; /* Romanian comma-below letters */
    case 0x219: return "s";
    case 0x21A: return "T";
    case 0x21B: return "t";
    case 0x2018:
    case 0x2019: return "'"; /* typographic quotes */
    case 0x2013:
    case 0x2014: return "-"; /* en and em dash */
    case 0xA0: return " ";   /* no-break space */
    case '&': return "+";    /* EPC convention */
    }
    if (cp < 0x80 && sepa_ascii(cp)) {
        one[0] = (char)cp;
        one[1] = '\0';
        return one;
    }
    if (cp >= 0xC0 && cp <= 0x17F) {
        one[0] = latin_map[cp - 0xC0];
        one[1] = '\0';
        return one;
    }
    return ".";
}

char *fmt_sepa_transliterate(const char *s)
{
    if (!s)
        s = "";
    size_t len = strlen(s);
    /* Worst case: every byte expands to two letters. */
    char *out = malloc(len * 2 + 1);
    if (!out)
        return NULL;
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0, o = 0;
    while (i < len) {
        uint32_t cp;
        size_t n = utf8_dec(p + i, len - i, &cp);
        if (n == 0) {
            out[o++] = '.';
            i++;
            continue;
        }
        i += n;
        if (cp == '\n') {
            /* The model joins remittance lines with '\n'; the writer
             * splits them again, so the separator survives. */
            out[o++] = '\n';
            continue;
        }
        char one[2];
        const char *t = translit_cp(cp, one);
        size_t tl = strlen(t);
        memcpy(out + o, t, tl);
        o += tl;
    }
    out[o] = '\0';
    return out;
}
