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
#define FMT_XML_MAX_TEXT  (1u << 20)      /* one text node or attribute */
#define FMT_XML_MAX_INPUT (4ull << 30)    /* whole input, bytes */

void fmt_xml_init(void);

struct fmt_xml {
    xmlTextReaderPtr r;
    const char *name;         /* for messages */
    struct h2h_err err;       /* first fatal error (parse, security) */
    int failed;
};

/* Open src (path or buffer) for reading.  0 or negative with err filled. */
int fmt_xml_open(struct fmt_xml *x, const struct fmt_src *src,
                 struct h2h_err *err);
void fmt_xml_close(struct fmt_xml *x);

/* Like xmlTextReaderRead: 1 node read, 0 end, negative error (err filled:
 * not well-formed with line, DOCTYPE refused, too deep, text too big). */
int fmt_xml_read(struct fmt_xml *x, struct h2h_err *err);

/* Current node's line number. */
int fmt_xml_line(struct fmt_xml *x);

/* Text content of the current element (reads to its end tag); a new
 * string the caller frees, "" for an empty element; NULL on error. */
char *fmt_xml_text(struct fmt_xml *x, struct h2h_err *err);

/* Skip the current element and its subtree. */
int fmt_xml_skip(struct fmt_xml *x, struct h2h_err *err);

#endif
