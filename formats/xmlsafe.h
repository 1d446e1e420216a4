/*
 * xmlsafe.h - the one place libxml2 parsers are created, hardened.
 *
 * Rules (DESIGN.md "Security"): no network (XML_PARSE_NONET), no external
 * entities, no DTD loading, no entity substitution (never XML_PARSE_NOENT,
 * never XML_PARSE_HUGE), a DOCTYPE in the input is refused, element depth
 * and input size are bounded.  Every reader in formats/ gets its
 * xmlTextReader from here and calls fmt_xml_read() instead of
 * xmlTextReaderRead() so the checks apply on every node.
 *
 * fmt_xml_init() must be called once per process before use (idempotent;
 * installs a no-op external entity loader so that nothing outside the input
 * is ever opened).
 */
#ifndef FMT_XMLSAFE_H
#define FMT_XMLSAFE_H

#include <libxml/xmlreader.h>

#include "h2h_err.h"
#include "model.h"

#define FMT_XML_MAX_DEPTH 256
#define FMT_XML_MAX_TEXT (1u << 20)    /* one text node or attribute */
#define FMT_XML_MAX_INPUT (4ull << 30) /* whole input, bytes */

void fmt_xml_init(void);

struct fmt_xml_in; /* private: input filter state */

struct fmt_xml {
    xmlTextReaderPtr r;
    const char *name;   /* for messages */
    struct h2h_err err; /* first fatal error (parse, security) */
    int failed;
    struct fmt_xml_in *in; /* private to xmlsafe.c */
};

/* Open src (path or buffer) for reading.  0 or negative with err filled;
 * on failure nothing is left to close (fmt_xml_close is still harmless).
 * Before libxml2 sees a byte, an input filter refuses: UTF-16/UCS-4/EBCDIC
 * input (H2H_EUNSUPPORTED), a declared encoding the bytes contradict or
 * invalid UTF-8 (H2H_ECHARSET, with line), and "<!DOCTYPE" outside
 * comments and CDATA (H2H_ESECURITY).  CDATA sections are delivered as
 * text nodes (XML_PARSE_NOCDATA). */
int fmt_xml_open(struct fmt_xml *x, const struct fmt_src *src,
                 struct h2h_err *err);
void fmt_xml_close(struct fmt_xml *x);

/* Like xmlTextReaderRead: 1 node read, 0 end, negative error (err filled:
 * not well-formed with line, DOCTYPE refused, too deep, text too big). */
int fmt_xml_read(struct fmt_xml *x, struct h2h_err *err);

/* Current node's line number. */
int fmt_xml_line(struct fmt_xml *x);

/* Text content of the current element (reads to its end tag); a new
 * string the caller frees, "" for an empty element; NULL on error.
 * Afterwards the reader is on the element's END_ELEMENT node (or still on
 * the element itself when it was empty, <a/>), so the next fmt_xml_read
 * moves past it.  Text of child elements is concatenated. */
char *fmt_xml_text(struct fmt_xml *x, struct h2h_err *err);

/* Skip the current element and its subtree (0 or negative); the reader is
 * left as after fmt_xml_text.  The checks of fmt_xml_read apply. */
int fmt_xml_skip(struct fmt_xml *x, struct h2h_err *err);

#endif
