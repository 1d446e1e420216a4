/*
 * xmlsafe.c - hardened libxml2 xmlTextReader; see xmlsafe.h.
 *
 * Defence in depth, outermost first:
 *  1. an input filter between the file (or buffer) and libxml2 that sees
 *     every byte: it refuses "<!DOCTYPE" (so no DTD, no entity declaration
 *     ever reaches the parser: billion laughs and XXE die here), validates
 *     UTF-8 exactly, and refuses input whose bytes contradict its declared
 *     encoding;
 *  2. parser options: XML_PARSE_NONET, never NOENT, DTDLOAD or HUGE, so
 *     libxml2's own depth and size limits stay on;
 *  3. a process-wide external entity loader that refuses everything, so
 *     even a path that bypassed 1 and 2 opens nothing;
 *  4. per-node checks in fmt_xml_read: DOCTYPE and entity nodes, depth,
 *     size of each text node and attribute value.
 *
 * The filter works on ASCII-compatible encodings only (UTF-8, ISO-8859-x,
 * Windows-125x, GBK/GB18030, ...): in all of them '<', '!' and letters are
 * single bytes that cannot be the tail of a multi-byte character.
 * UTF-16/UCS-4/EBCDIC input is refused; ISO 20022 mandates UTF-8 anyway.
 * Known false positive: "<!DOCTYPE" inside a processing instruction.
 */
#include "xmlsafe.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libxml/parserInternals.h>

#define HEAD_MAX 1024

enum enc_kind { ENC_UTF8, ENC_LATIN, ENC_OTHER };

enum scan_state { SC_TEXT, SC_COMMENT, SC_CDATA, SC_PI, SC_STAG, SC_ETAG };

struct fmt_xml_in {
    int fd; /* -1 for memory input */
    const unsigned char *mem;
    size_t memlen, mempos;
    unsigned char head[HEAD_MAX];
    size_t headlen, headpos;
    uint64_t total; /* bytes handed to libxml2 */
    int eof;

    enum enc_kind enc;
    char declared[48]; /* declared encoding, "" when none */

    /* markup scanner */
    enum scan_state st;
    char pbuf[12]; /* "<!..." being matched */
    int plen;
    int run;            /* '-' or ']' run before a possible '>' */
    char quote;         /* open quote inside a start tag */
    unsigned char last; /* previous byte inside a tag */
    long line;          /* 1-based line of the scanner */
    long depth;         /* element depth as seen by the scanner */
    int opened, closed; /* root element opened / closed */

    /* UTF-8 validator */
    int need; /* continuation bytes still expected */
    uint32_t cp, min;

    unsigned char prev; /* previous byte, for the Latin check */

    int failed; /* filter refused the input */
    struct h2h_err err;

    /* first libxml2 error */
    int xml_code, xml_line, xml_seen;
    char xml_msg[512];
    char gen_msg[256]; /* libxml2 "generic" (unstructured) errors */
};

/* ---- process-wide set-up ---------------------------------------------- */

static xmlParserInputPtr deny_loader(const char *url, const char *id,
                                     xmlParserCtxtPtr ctxt)
{
    (void)id;
    (void)ctxt;
    (void)url;
    /* Nothing outside the input is ever opened: DTDs, external entities,
     * XInclude, schemas referenced by a document. */
    return NULL;
}

static pthread_once_t init_once = PTHREAD_ONCE_INIT;

static void init_cb(void)
{
    xmlInitParser();
    xmlSetExternalEntityLoader(deny_loader);
}

void fmt_xml_init(void)
{
    pthread_once(&init_once, init_cb);
}

/* ---- input filter ------------------------------------------------------ */

static int in_fail(struct fmt_xml_in *in, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int in_fail(struct fmt_xml_in *in, int code, const char *fmt, ...)
{
    if (!in->failed) {
        va_list ap;
        va_start(ap, fmt);
        h2h_err_vset(&in->err, code, fmt, ap);
        va_end(ap);
        in->failed = 1;
    }
    return -1;
}

static const char *const pats[] = {"<!--", "<![CDATA[", "<!DOCTYPE"};

/*
 * One byte of the markup scanner: 0, or -1 when DOCTYPE was found.  Besides
 * the DOCTYPE refusal it follows comments, CDATA, PIs and tags just enough
 * to know the element depth, so that a file that stops early can be called
 * truncated (libxml2's streaming reader says "extra content" instead).
 */
static inline int scan_byte(struct fmt_xml_in *in, unsigned char c)
{
    switch (in->st) {
    case SC_COMMENT:
    case SC_CDATA:
    case SC_PI: {
        char mark = in->st == SC_COMMENT ? '-' : in->st == SC_CDATA ? ']' : '?';
        int need = in->st == SC_PI ? 1 : 2;
        if (c == '>' && in->run >= need)
            in->st = SC_TEXT;
        in->run = c == (unsigned char)mark ? in->run + 1 : 0;
        return 0;
    }
    case SC_STAG:
        if (in->quote) {
            if (c == (unsigned char)in->quote)
                in->quote = 0;
        } else if (c == '"' || c == '\'') {
            in->quote = (char)c;
        } else if (c == '>') {
            if (in->last == '/' && --in->depth == 0)
                in->closed = 1;
            in->st = SC_TEXT;
        }
        in->last = c;
        return 0;
    case SC_ETAG:
        if (c == '>')
            in->st = SC_TEXT;
        return 0;
    case SC_TEXT: break;
    }
    if (in->plen == 0) {
        if (c == '<')
            in->pbuf[in->plen++] = '<';
        return 0;
    }
    if (in->plen == 1 && c != '!') {
        in->plen = 0;
        in->run = 0;
        if (c == '?') {
            in->st = SC_PI;
        } else if (c == '/') {
            in->st = SC_ETAG;
            if (in->depth > 0 && --in->depth == 0)
                in->closed = 1;
        } else {
            in->st = SC_STAG;
            in->quote = 0;
            in->last = c;
            in->depth++;
            in->opened = 1;
        }
        return 0;
    }
    in->pbuf[in->plen++] = (char)c;
    int prefix = 0;
    for (size_t k = 0; k < sizeof(pats) / sizeof(pats[0]); k++) {
        size_t pl = strlen(pats[k]);
        if ((size_t)in->plen > pl ||
            memcmp(in->pbuf, pats[k], (size_t)in->plen) != 0)
            continue;
        if ((size_t)in->plen == pl) {
            in->plen = 0;
            in->run = 0;
            if (k == 0)
                in->st = SC_COMMENT;
            else if (k == 1)
                in->st = SC_CDATA;
            else
                return in_fail(in, H2H_ESECURITY,
                               "line %ld: DOCTYPE not allowed (document "
                               "type declarations and entities are refused)",
                               in->line);
            return 0;
        }
        prefix = 1;
    }
    if (!prefix) {
        /* "<!" followed by something else: not well-formed, libxml2 will
         * say so. */
        in->plen = 0;
        if (c == '<')
            in->pbuf[in->plen++] = '<';
    }
    return 0;
}

/* One byte of the strict UTF-8 validator: 0 or -1. */
static inline int utf8_byte(struct fmt_xml_in *in, unsigned char c)
{
    if (in->need == 0) {
        if (c < 0x80)
            return 0;
        if (c >= 0xC2 && c <= 0xDF) {
            in->need = 1;
            in->cp = c & 0x1F;
            in->min = 0x80;
        } else if (c >= 0xE0 && c <= 0xEF) {
            in->need = 2;
            in->cp = c & 0x0F;
            in->min = 0x800;
        } else if (c >= 0xF0 && c <= 0xF4) {
            in->need = 3;
            in->cp = c & 0x07;
            in->min = 0x10000;
        } else {
            goto bad;
        }
        return 0;
    }
    if ((c & 0xC0) != 0x80)
        goto bad;
    in->cp = (in->cp << 6) | (c & 0x3F);
    if (--in->need == 0 && (in->cp < in->min || in->cp > 0x10FFFF ||
                            (in->cp >= 0xD800 && in->cp <= 0xDFFF)))
        goto bad;
    return 0;
bad:
    return in_fail(in, H2H_ECHARSET,
                   "line %ld: input is not valid UTF-8 (byte 0x%02X at "
                   "offset %llu)%s",
                   in->line, c, (unsigned long long)in->total,
                   in->declared[0]
                       ? ""
                       : "; declare the real encoding in "
                         "the XML declaration or convert the file to UTF-8");
}

/* Latin-1 text never contains an accented capital directly followed by a
 * C1 control or a symbol: such a pair is UTF-8 mislabelled as Latin. */
static inline int latin_byte(struct fmt_xml_in *in, unsigned char c)
{
    unsigned char p = in->prev;
    in->prev = c;
    if (p >= 0xC2 && p <= 0xDF && c >= 0x80 && c <= 0xBF)
        return in_fail(in, H2H_ECHARSET,
                       "line %ld: the file declares encoding %s but its "
                       "content is UTF-8; fix the XML declaration",
                       in->line, in->declared);
    return 0;
}

/*
 * Length of the run of bytes from b that change nothing but the line
 * count: ASCII (so no UTF-8 sequence is open or starts, and the Latin
 * check cannot fire) that the markup scanner passes over, i.e. text up to
 * the next '<', or a tag up to its '>' or next quote (up to the closing
 * quote inside a quoted value).  Most of a document is such runs, and the
 * byte-at-a-time state machine below cost as much as libxml2's parsing of
 * the same bytes.  0 when the scanner is in the middle of something.
 */
static size_t plain_run(struct fmt_xml_in *in, const unsigned char *b, size_t n)
{
    if (in->need != 0 || in->plen != 0)
        return 0;
    size_t j = 0;
    long nl = 0;
    switch (in->st) {
    case SC_TEXT:
        for (; j < n && b[j] < 0x80 && b[j] != '<'; j++)
            nl += b[j] == '\n';
        break;
    case SC_STAG:
        if (in->quote) {
            for (; j < n && b[j] < 0x80 && b[j] != (unsigned char)in->quote;
                 j++)
                nl += b[j] == '\n';
        } else {
            for (; j < n && b[j] < 0x80 && b[j] != '>' && b[j] != '"' &&
                   b[j] != '\'';
                 j++)
                nl += b[j] == '\n';
        }
        if (j > 0)
            in->last = b[j - 1];
        break;
    case SC_ETAG:
        for (; j < n && b[j] < 0x80 && b[j] != '>'; j++)
            nl += b[j] == '\n';
        break;
    default: return 0; /* comments, CDATA, PIs: byte by byte */
    }
    if (j > 0) {
        in->line += nl;
        in->prev = b[j - 1];
        in->total += j;
    }
    return j;
}

static int filter(struct fmt_xml_in *in, const unsigned char *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        size_t k = plain_run(in, b + i, n - i);
        if (k > 0) {
            i += k;
            if (i >= n)
                break;
        }
        unsigned char c = b[i];
        if (c == '\n')
            in->line++;
        if (scan_byte(in, c) < 0)
            return -1;
        if (in->enc == ENC_UTF8) {
            if (utf8_byte(in, c) < 0)
                return -1;
        } else if (in->enc == ENC_LATIN) {
            if (latin_byte(in, c) < 0)
                return -1;
        }
        in->total++;
    }
    return 0;
}

static int io_read(void *ctx, char *buf, int len)
{
    struct fmt_xml_in *in = ctx;
    if (in->failed)
        return -1;
    if (len <= 0 || in->eof)
        return 0;
    size_t got = 0;
    if (in->headpos < in->headlen) {
        got = in->headlen - in->headpos;
        if (got > (size_t)len)
            got = (size_t)len;
        memcpy(buf, in->head + in->headpos, got);
        in->headpos += got;
    } else if (in->fd >= 0) {
        ssize_t r;
        do {
            r = read(in->fd, buf, (size_t)len);
        } while (r < 0 && errno == EINTR);
        if (r < 0)
            return in_fail(in, H2H_EIO, "read error: %s", strerror(errno));
        got = (size_t)r;
    } else {
        got = in->memlen - in->mempos;
        if (got > (size_t)len)
            got = (size_t)len;
        memcpy(buf, in->mem + in->mempos, got);
        in->mempos += got;
    }
    if (got == 0) {
        in->eof = 1;
        if (in->enc == ENC_UTF8 && in->need > 0)
            return in_fail(in, H2H_ECHARSET,
                           "line %ld: input is not valid UTF-8 (file ends "
                           "inside a character)",
                           in->line);
        return 0;
    }
    if (in->total + got > FMT_XML_MAX_INPUT)
        return in_fail(in, H2H_ETOOBIG, "input larger than %llu bytes",
                       (unsigned long long)FMT_XML_MAX_INPUT);
    if (filter(in, (const unsigned char *)buf, got) < 0)
        return -1;
    return (int)got;
}

static int io_close(void *ctx)
{
    /* The fd belongs to fmt_xml_close: libxml2 calls this both on success
     * and on its own failure paths, so closing here would close twice. */
    (void)ctx;
    return 0;
}

static int ci_prefix(const char *s, const char *p)
{
    return strncasecmp(s, p, strlen(p)) == 0;
}

/* Fill the head buffer and decide how to treat the encoding. */
static int analyse_head(struct fmt_xml_in *in)
{
    while (in->headlen < HEAD_MAX) {
        size_t want = HEAD_MAX - in->headlen, got;
        if (in->fd >= 0) {
            ssize_t r = read(in->fd, in->head + in->headlen, want);
            if (r < 0 && errno == EINTR)
                continue;
            if (r < 0)
                return in_fail(in, H2H_EIO, "read error: %s", strerror(errno));
            got = (size_t)r;
        } else {
            got = in->memlen - in->mempos;
            if (got > want)
                got = want;
            memcpy(in->head + in->headlen, in->mem + in->mempos, got);
            in->mempos += got;
        }
        if (got == 0)
            break;
        in->headlen += got;
    }
    const unsigned char *h = in->head;
    size_t n = in->headlen;
    if (n >= 2 &&
        ((h[0] == 0xFE && h[1] == 0xFF) || (h[0] == 0xFF && h[1] == 0xFE)))
        return in_fail(in, H2H_EUNSUPPORTED,
                       "UTF-16 input is not supported; convert the file to "
                       "UTF-8");
    if (n >= 4 && (h[0] == 0 || h[1] == 0 || h[2] == 0 || h[3] == 0))
        return in_fail(in, H2H_EUNSUPPORTED,
                       "UTF-16 or UCS-4 input is not supported; convert "
                       "the file to UTF-8");
    if (n >= 4 && h[0] == 0x4C && h[1] == 0x6F && h[2] == 0xA7 && h[3] == 0x94)
        return in_fail(in, H2H_EUNSUPPORTED, "EBCDIC input is not supported");
    int bom = n >= 3 && h[0] == 0xEF && h[1] == 0xBB && h[2] == 0xBF;
    const char *p = (const char *)h + (bom ? 3 : 0);
    const char *end = (const char *)h + n;

    in->declared[0] = '\0';
    if (end - p >= 5 && !memcmp(p, "<?xml", 5)) {
        const char *q = p + 5;
        const char *close = NULL;
        for (const char *t = q; t + 1 < end; t++)
            if (t[0] == '?' && t[1] == '>') {
                close = t;
                break;
            }
        for (const char *t = q; close && t + 8 < close; t++) {
            if (memcmp(t, "encoding", 8) != 0)
                continue;
            t += 8;
            while (t < close &&
                   (*t == ' ' || *t == '\t' || *t == '\r' || *t == '\n'))
                t++;
            if (t >= close || *t != '=')
                break;
            t++;
            while (t < close &&
                   (*t == ' ' || *t == '\t' || *t == '\r' || *t == '\n'))
                t++;
            if (t >= close || (*t != '"' && *t != '\''))
                break;
            char quote = *t++;
            size_t k = 0;
            while (t < close && *t != quote && k + 1 < sizeof(in->declared))
                in->declared[k++] = *t++;
            in->declared[k] = '\0';
            break;
        }
    }
    const char *d = in->declared;
    if (!*d || !strcasecmp(d, "UTF-8") || !strcasecmp(d, "UTF8")) {
        in->enc = ENC_UTF8;
    } else if (ci_prefix(d, "UTF-16") || ci_prefix(d, "UTF16") ||
               ci_prefix(d, "UTF-32") || ci_prefix(d, "UTF32") ||
               ci_prefix(d, "UCS") || ci_prefix(d, "UNICODE")) {
        /* We could read the declaration byte by byte as ASCII, so the
         * file is in an 8-bit encoding whatever it says. */
        return in_fail(in, H2H_ECHARSET,
                       "the file declares encoding %s but is written in "
                       "an 8-bit encoding (not %s); fix the XML "
                       "declaration",
                       d, d);
    } else if (ci_prefix(d, "EBCDIC") || ci_prefix(d, "IBM0") ||
               ci_prefix(d, "IBM-0") || ci_prefix(d, "CP037") ||
               ci_prefix(d, "IBM037") || ci_prefix(d, "IBM1047")) {
        return in_fail(in, H2H_EUNSUPPORTED,
                       "the file declares encoding %s, which is not "
                       "supported",
                       d);
    } else {
        if (bom)
            return in_fail(in, H2H_ECHARSET,
                           "the file starts with a UTF-8 byte order mark "
                           "but declares encoding %s; fix the XML "
                           "declaration",
                           d);
        xmlCharEncodingHandlerPtr hd = xmlFindCharEncodingHandler(d);
        if (!hd)
            return in_fail(in, H2H_EUNSUPPORTED,
                           "the file declares encoding %s, which is not "
                           "supported",
                           d);
        xmlCharEncCloseFunc(hd);
        if (ci_prefix(d, "ISO-8859") || ci_prefix(d, "ISO8859") ||
            ci_prefix(d, "ISO_8859") || ci_prefix(d, "LATIN") ||
            ci_prefix(d, "WINDOWS-125") || ci_prefix(d, "CP125"))
            in->enc = ENC_LATIN;
        else
            in->enc = ENC_OTHER;
    }
    return 0;
}

/* ---- libxml2 errors ---------------------------------------------------- */

static void on_xml_error(void *arg, xmlErrorPtr e)
{
    struct fmt_xml_in *in = arg;
    if (!e || e->level < XML_ERR_ERROR || in->xml_seen)
        return;
    in->xml_seen = 1;
    in->xml_code = e->code;
    in->xml_line = e->line;
    snprintf(in->xml_msg, sizeof(in->xml_msg), "%s",
             e->message ? e->message : "not well-formed");
    size_t l = strlen(in->xml_msg);
    while (l > 0 && (in->xml_msg[l - 1] == '\n' || in->xml_msg[l - 1] == ' '))
        in->xml_msg[--l] = '\0';
}

/* libxml2 reports encoding-conversion failures through the thread's
 * generic error function, not the reader's structured handler.  Around
 * each call into the reader we swap in this collector so that nothing is
 * printed to stderr and the words end up in our error. */
static void on_generic_error(void *ctx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void on_generic_error(void *ctx, const char *fmt, ...)
{
    struct fmt_xml_in *in = ctx;
    size_t l = strlen(in->gen_msg);
    if (l + 1 >= sizeof(in->gen_msg))
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(in->gen_msg + l, sizeof(in->gen_msg) - l, fmt, ap);
    va_end(ap);
    for (char *p = in->gen_msg; *p; p++)
        if (*p == '\n')
            *p = ' ';
}

struct gen_save {
    xmlGenericErrorFunc fn;
    void *ctx;
};

/* The calling thread's generic-error slots.  libxml2 keeps them per thread
 * and finds them through xmlIsMainThread / pthread_once / TLS on every
 * access (xmlSetGenericErrorFunc does two): done six times per node, that
 * was a tenth of a large conversion.  A thread's slots never move, so each
 * thread looks their addresses up once and then swaps with plain stores,
 * exactly what xmlSetGenericErrorFunc stores. */
static _Thread_local xmlGenericErrorFunc *gen_fn_slot;
static _Thread_local void **gen_ctx_slot;

static void gen_swap(struct gen_save *sv, struct fmt_xml_in *in)
{
    if (!gen_fn_slot) {
        gen_fn_slot = &xmlGenericError;
        gen_ctx_slot = &xmlGenericErrorContext;
    }
    sv->fn = *gen_fn_slot;
    sv->ctx = *gen_ctx_slot;
    *gen_ctx_slot = in;
    *gen_fn_slot = on_generic_error;
}

static void gen_restore(const struct gen_save *sv)
{
    if (!sv->fn) { /* never seen; libxml2's own default then */
        xmlSetGenericErrorFunc(sv->ctx, NULL);
        return;
    }
    *gen_ctx_slot = sv->ctx;
    *gen_fn_slot = sv->fn;
}

static int x_fail(struct fmt_xml *x, struct h2h_err *err, int code,
                  const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int x_fail(struct fmt_xml *x, struct h2h_err *err, int code,
                  const char *fmt, ...)
{
    if (!x->failed) {
        va_list ap;
        va_start(ap, fmt);
        h2h_err_vset(&x->err, code, fmt, ap);
        va_end(ap);
        x->failed = 1;
    }
    if (err && err != &x->err) {
        err->code = x->err.code;
        memcpy(err->msg, x->err.msg, sizeof(err->msg));
    }
    return x->err.code;
}

/* Turn whatever made xmlTextReaderRead fail into one of our codes. */
static int read_failed(struct fmt_xml *x, struct h2h_err *err)
{
    struct fmt_xml_in *in = x->in;
    if (x->failed)
        return x_fail(x, err, x->err.code, "%s", x->err.msg);
    if (in && in->failed)
        return x_fail(x, err, in->err.code, "%s", in->err.msg);
    if (in && strstr(in->gen_msg, "conversion failed"))
        return x_fail(x, err, H2H_ECHARSET,
                      "line %d: text cannot be decoded in the declared "
                      "encoding %s (%s)",
                      fmt_xml_line(x), in->declared, in->gen_msg);
    if (!in || !in->xml_seen)
        return x_fail(x, err, H2H_EPARSE, "line %d: not well-formed XML%s%s",
                      fmt_xml_line(x), in && in->gen_msg[0] ? ": " : "",
                      in ? in->gen_msg : "");
    int line = in->xml_line;
    const char *m = in->xml_msg;
    /* The streaming reader says "Extra content at the end" for input that
     * simply stops; say what happened instead. */
    if (in->xml_code == XML_ERR_DOCUMENT_END && !in->closed)
        return x_fail(x, err, H2H_EPARSE,
                      in->opened
                          ? "line %d: document ends before the root element is "
                            "closed (truncated file?)"
                          : "line %d: document is empty (no root element)",
                      line);
    switch (in->xml_code) {
    case XML_ERR_INVALID_CHAR:
    case XML_ERR_INVALID_ENCODING:
    case XML_ERR_UNKNOWN_ENCODING:
    case XML_ERR_UNSUPPORTED_ENCODING:
    case XML_I18N_CONV_FAILED:
        if (strstr(m, "PCDATA") || strstr(m, "Char 0x"))
            break; /* a forbidden control character, not an encoding */
        return x_fail(x, err, H2H_ECHARSET,
                      "line %d: text cannot be decoded in the declared "
                      "encoding%s%s: %s",
                      line, in->declared[0] ? " " : "", in->declared, m);
    case XML_ERR_ENTITY_LOOP:
    case XML_ERR_EXT_ENTITY_STANDALONE:
    case XML_ERR_ENTITY_PE_INTERNAL:
        return x_fail(x, err, H2H_ESECURITY, "line %d: %s", line, m);
    default: break;
    }
    if (strstr(m, "Excessive depth"))
        return x_fail(x, err, H2H_ETOOBIG,
                      "line %d: elements nested deeper than %d levels", line,
                      FMT_XML_MAX_DEPTH);
    if (strstr(m, "too long") || strstr(m, "too large") ||
        strstr(m, "Huge input") || strstr(m, "huge"))
        return x_fail(x, err, H2H_ETOOBIG,
                      "line %d: text or attribute larger than the limit "
                      "(%s)",
                      line, m);
    return x_fail(x, err, H2H_EPARSE, "line %d: %s", line, m);
}

/* ---- public ------------------------------------------------------------ */

int fmt_xml_open(struct fmt_xml *x, const struct fmt_src *src,
                 struct h2h_err *err)
{
    int rc;
    memset(x, 0, sizeof(*x));
    fmt_xml_init();
    if (!src || (!src->path && !src->buf && src->len))
        return h2h_err_set(err, H2H_EINVALID, "no input given");
    x->name = src->name ? src->name : src->path ? src->path : "<memory>";
    struct fmt_xml_in *in = calloc(1, sizeof(*in));
    if (!in)
        return h2h_err_set(err, H2H_ENOMEM, "out of memory");
    in->fd = -1;
    in->line = 1;
    if (src->path) {
        in->fd = open(src->path, O_RDONLY | O_CLOEXEC);
        if (in->fd < 0) {
            rc = -errno;
            h2h_err_set(err, rc, "cannot open %s: %s", src->path,
                        strerror(errno));
            goto fail;
        }
    } else {
        in->mem = (const unsigned char *)src->buf;
        in->memlen = src->buf ? src->len : 0;
    }
    if (analyse_head(in) < 0) {
        rc = h2h_err_set(err, in->err.code, "%s", in->err.msg);
        goto fail;
    }
    x->in = in;
    /* NOCDATA: CDATA arrives as text, so readers handle one node type.
     * BIG_LINES: exact line numbers past 65535 in large batches. */
    int opts = XML_PARSE_NONET | XML_PARSE_NOCDATA | XML_PARSE_BIG_LINES;
    struct gen_save sv;
    gen_swap(&sv, in);
    x->r = xmlReaderForIO(io_read, io_close, in, NULL, NULL, opts);
    gen_restore(&sv);
    if (!x->r) {
        x->in = NULL;
        rc = in->failed
                 ? h2h_err_set(err, in->err.code, "%s", in->err.msg)
                 : h2h_err_set(err, H2H_ENOMEM, "cannot create XML reader");
        goto fail;
    }
    xmlTextReaderSetStructuredErrorHandler(x->r, on_xml_error, in);
    if (in->failed) {
        rc = h2h_err_set(err, in->err.code, "%s", in->err.msg);
        xmlFreeTextReader(x->r);
        x->r = NULL;
        x->in = NULL;
        goto fail;
    }
    return 0;
fail:
    if (in->fd >= 0)
        close(in->fd);
    free(in);
    return rc;
}

void fmt_xml_close(struct fmt_xml *x)
{
    if (!x)
        return;
    if (x->r) {
        struct gen_save sv = {0};
        if (x->in)
            gen_swap(&sv, x->in);
        xmlFreeTextReader(x->r);
        if (x->in)
            gen_restore(&sv);
    }
    x->r = NULL;
    if (x->in) {
        if (x->in->fd >= 0)
            close(x->in->fd);
        free(x->in);
        x->in = NULL;
    }
}

int fmt_xml_line(struct fmt_xml *x)
{
    if (!x || !x->r)
        return 0;
    xmlNodePtr n = xmlTextReaderCurrentNode(x->r);
    long l = n ? xmlGetLineNo(n) : -1;
    if (l <= 0)
        l = xmlTextReaderGetParserLineNumber(x->r);
    return l > 0 && l < INT32_MAX ? (int)l : 0;
}

static int check_node(struct fmt_xml *x, struct h2h_err *err)
{
    xmlTextReaderPtr r = x->r;
    int type = xmlTextReaderNodeType(r);
    switch (type) {
    case XML_READER_TYPE_DOCUMENT_TYPE:
        return x_fail(x, err, H2H_ESECURITY, "line %d: DOCTYPE not allowed",
                      fmt_xml_line(x));
    case XML_READER_TYPE_ENTITY_REFERENCE:
    case XML_READER_TYPE_ENTITY:
    case XML_READER_TYPE_NOTATION:
        return x_fail(x, err, H2H_ESECURITY,
                      "line %d: entities are not allowed", fmt_xml_line(x));
    default: break;
    }
    if (xmlTextReaderDepth(r) >= FMT_XML_MAX_DEPTH)
        return x_fail(x, err, H2H_ETOOBIG,
                      "line %d: elements nested deeper than %d levels",
                      fmt_xml_line(x), FMT_XML_MAX_DEPTH);
    if (type == XML_READER_TYPE_TEXT || type == XML_READER_TYPE_CDATA ||
        type == XML_READER_TYPE_SIGNIFICANT_WHITESPACE ||
        type == XML_READER_TYPE_WHITESPACE || type == XML_READER_TYPE_COMMENT) {
        const xmlChar *v = xmlTextReaderConstValue(r);
        if (v && strlen((const char *)v) > FMT_XML_MAX_TEXT)
            return x_fail(x, err, H2H_ETOOBIG,
                          "line %d: text longer than %u bytes", fmt_xml_line(x),
                          FMT_XML_MAX_TEXT);
    } else if (type == XML_READER_TYPE_ELEMENT) {
        xmlNodePtr n = xmlTextReaderCurrentNode(r);
        for (xmlAttrPtr a = n ? n->properties : NULL; a; a = a->next) {
            size_t len = 0;
            for (xmlNodePtr t = a->children; t; t = t->next)
                if (t->content)
                    len += strlen((const char *)t->content);
            if (len > FMT_XML_MAX_TEXT)
                return x_fail(x, err, H2H_ETOOBIG,
                              "line %d: attribute %s longer than %u bytes",
                              fmt_xml_line(x), (const char *)a->name,
                              FMT_XML_MAX_TEXT);
        }
    }
    return 0;
}

int fmt_xml_read(struct fmt_xml *x, struct h2h_err *err)
{
    if (!x || !x->r)
        return h2h_err_set(err, H2H_ESTATE, "XML reader not open");
    if (x->failed)
        return x_fail(x, err, x->err.code, "%s", x->err.msg);
    struct gen_save sv;
    gen_swap(&sv, x->in);
    int rc = xmlTextReaderRead(x->r);
    gen_restore(&sv);
    if (rc < 0 || (x->in && x->in->failed))
        return read_failed(x, err);
    if (rc == 0) {
        /* libxml2 may report a fatal error at the very end (unclosed root)
         * and still return 0 from the last read. */
        if (x->in && x->in->xml_seen)
            return read_failed(x, err);
        return 0;
    }
    int c = check_node(x, err);
    return c < 0 ? c : 1;
}

int fmt_xml_skip(struct fmt_xml *x, struct h2h_err *err)
{
    if (!x || !x->r)
        return h2h_err_set(err, H2H_ESTATE, "XML reader not open");
    if (xmlTextReaderNodeType(x->r) != XML_READER_TYPE_ELEMENT ||
        xmlTextReaderIsEmptyElement(x->r))
        return 0;
    int depth = xmlTextReaderDepth(x->r);
    for (;;) {
        int rc = fmt_xml_read(x, err);
        if (rc < 0)
            return rc;
        if (rc == 0)
            return x_fail(x, err, H2H_EPARSE,
                          "line %d: document ends inside an element",
                          fmt_xml_line(x));
        if (xmlTextReaderNodeType(x->r) == XML_READER_TYPE_END_ELEMENT &&
            xmlTextReaderDepth(x->r) == depth)
            return 0;
    }
}

char *fmt_xml_text(struct fmt_xml *x, struct h2h_err *err)
{
    if (!x || !x->r) {
        h2h_err_set(err, H2H_ESTATE, "XML reader not open");
        return NULL;
    }
    if (x->failed) {
        x_fail(x, err, x->err.code, "%s", x->err.msg);
        return NULL;
    }
    int type = xmlTextReaderNodeType(x->r);
    if (type != XML_READER_TYPE_ELEMENT) {
        const xmlChar *v = xmlTextReaderConstValue(x->r);
        char *s = strdup(v ? (const char *)v : "");
        if (!s)
            h2h_err_set(err, H2H_ENOMEM, "out of memory");
        return s;
    }
    if (xmlTextReaderIsEmptyElement(x->r)) {
        char *s = strdup("");
        if (!s)
            h2h_err_set(err, H2H_ENOMEM, "out of memory");
        return s;
    }
    int depth = xmlTextReaderDepth(x->r);
    char *buf = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        int rc = fmt_xml_read(x, err);
        if (rc < 0)
            goto fail;
        if (rc == 0) {
            x_fail(x, err, H2H_EPARSE,
                   "line %d: document ends inside an element", fmt_xml_line(x));
            goto fail;
        }
        int t = xmlTextReaderNodeType(x->r);
        if (t == XML_READER_TYPE_END_ELEMENT &&
            xmlTextReaderDepth(x->r) == depth)
            break;
        if (t != XML_READER_TYPE_TEXT && t != XML_READER_TYPE_CDATA &&
            t != XML_READER_TYPE_SIGNIFICANT_WHITESPACE &&
            t != XML_READER_TYPE_WHITESPACE)
            continue;
        const char *v = (const char *)xmlTextReaderConstValue(x->r);
        size_t vl = v ? strlen(v) : 0;
        if (len + vl > FMT_XML_MAX_TEXT) {
            x_fail(x, err, H2H_ETOOBIG, "line %d: text longer than %u bytes",
                   fmt_xml_line(x), FMT_XML_MAX_TEXT);
            goto fail;
        }
        if (len + vl + 1 > cap) {
            size_t nc = cap ? cap * 2 : 64;
            while (nc < len + vl + 1)
                nc *= 2;
            char *nb = realloc(buf, nc);
            if (!nb) {
                h2h_err_set(err, H2H_ENOMEM, "out of memory");
                goto fail;
            }
            buf = nb;
            cap = nc;
        }
        if (vl)
            memcpy(buf + len, v, vl);
        len += vl;
        buf[len] = '\0';
    }
    if (!buf) {
        buf = strdup("");
        if (!buf)
            h2h_err_set(err, H2H_ENOMEM, "out of memory");
    }
    return buf;
fail:
    free(buf);
    return NULL;
}
