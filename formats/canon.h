/*
 * canon.h - h2hd's own XML form of the canonical model (namespace
 * urn:h2hd:canonical:1, schema formats/schemas/canonical.xsd): used in the
 * store and offered to treasury as an output format.
 *
 * Three roots, one per model family: PaymentBatch (a payment sink stream),
 * StatusReport (one struct fmt_status_report) and Statements (a statement
 * sink stream).  The form holds every model field, so write -> read gives
 * back the same model field by field ("lossless"), including the source
 * line numbers (SrcLine) and source_format of the file the data first came
 * from, so that problems found later still point into the treasury's file.
 * Two documented exceptions: a total whose "has" flag is off
 * (has_ctrl_sum, has_summary) carries no value, and source_format is
 * returned only when it is one of the names h2hd's readers produce (it is a
 * static string in the model); an unknown name is a problem in diag.
 *
 * Writer: struct fmt_canon_writer renders to a FILE * with fprintf as sink
 * events arrive (no DOM, memory flat).  One writer writes one document:
 * either use the payment sink or the statement sink, once.  Values that
 * change between begin() and end() (group_begin / group_end, stmt_begin /
 * stmt_end) are written again in full in an optional *End element, so
 * nothing needs to be known up front (totals are optional).  The writer
 * refuses what XML 1.0 cannot carry (invalid UTF-8, control characters
 * other than tab, line feed and carriage return) with H2H_ECHARSET, an
 * amount without a currency with H2H_EINVALID, and events out of order
 * with H2H_ESTATE.  A callback that fails returns the negative code and
 * keeps the first error; fmt_canon_writer_finish() returns it.
 *
 * Readers: streaming through xmlsafe.h (no DTD, no network, depth and size
 * caps); one transaction / entry at a time is in memory.  The return value
 * is fatal (negative, err filled) for input that is not well-formed, is
 * refused for security, has another root or namespace, or when the sink
 * aborts (its code is returned).  Anything else (an unknown element, an
 * amount with the wrong number of decimals, a bad count or boolean) goes
 * into diag with line and element path and reading goes on: 0 means the
 * document was read; the caller then looks at diag->n.  diag may be NULL.
 *
 * Ownership: the writer does not own out (the caller opens, flushes and
 * closes it); fmt_canon_writer_free() frees the writer (NULL is fine).
 * fmt_canon_read_status() fills *out, which the caller releases with
 * fmt_status_report_release() (also after a failure).
 *
 * Threads: no globals beyond fmt_xml_init(); one reader or writer per
 * thread at a time.
 */
#ifndef FMT_CANON_H
#define FMT_CANON_H

#include <stddef.h>
#include <stdio.h>

#include "h2h_err.h"
#include "model.h"

#define FMT_CANON_NS "urn:h2hd:canonical:1"

/* What fmt_canon_detect() recognises. */
enum fmt_canon_kind {
    FMT_CANON_PAYMENTS = 1,   /* <PaymentBatch> */
    FMT_CANON_STATUS = 2,     /* <StatusReport> */
    FMT_CANON_STATEMENTS = 3, /* <Statements> */
};

/* ---- writer ------------------------------------------------------------- */

struct fmt_canon_writer;

/* A writer rendering to out; NULL when out is NULL or out of memory. */
struct fmt_canon_writer *fmt_canon_writer_new(FILE *out);
/* The payment sink feeding w (ctx is w). */
struct fmt_pay_sink fmt_canon_pay_sink(struct fmt_canon_writer *w);
/* The statement sink feeding w (ctx is w). */
struct fmt_stmt_sink fmt_canon_stmt_sink(struct fmt_canon_writer *w);
/* Check that a whole document was written; 0, the first error a callback
 * met (err filled with its message), H2H_ESTATE when the document is not
 * complete, or H2H_EIO when out failed. */
int fmt_canon_writer_finish(struct fmt_canon_writer *w, struct h2h_err *err);
void fmt_canon_writer_free(struct fmt_canon_writer *w);

/* Write one status report as a complete <StatusReport> document. */
int fmt_canon_write_status(FILE *out, const struct fmt_status_report *r,
                           struct h2h_err *err);

/* ---- readers ------------------------------------------------------------ */

int fmt_canon_read_pay(const struct fmt_src *src,
                       const struct fmt_pay_sink *sink, struct fmt_diag *diag,
                       struct h2h_err *err);
int fmt_canon_read_stmt(const struct fmt_src *src,
                        const struct fmt_stmt_sink *sink, struct fmt_diag *diag,
                        struct h2h_err *err);
/* out is initialised here (fmt_status_report_init) before anything else. */
int fmt_canon_read_status(const struct fmt_src *src,
                          struct fmt_status_report *out, struct fmt_diag *diag,
                          struct h2h_err *err);

/* Which canonical root the first start tag of buf[0..len) is (enum
 * fmt_canon_kind), or -1 when it is not a canonical document.  A cheap
 * look at the prologue, not a validation: it needs the root start tag with
 * its namespace declaration within buf. */
int fmt_canon_detect(const char *buf, size_t len);

/* ---- internal: the field tables shared by canon_read.c and canon_write.c;
 * not part of the API. -------------------------------------------------- */
#ifdef FMT_CANON_INTERNAL

enum fmt_canon_fk {
    FK_STR,    /* char * */
    FK_COUNT,  /* int64_t, -1 absent */
    FK_I64,    /* int64_t, always written */
    FK_LINE,   /* int, 0 absent */
    FK_BOOL3,  /* int, -1 unset, 0, 1 */
    FK_BOOL,   /* int, written only when non-zero */
    FK_CDTDBT, /* int credit: CRDT / DBIT */
    FK_MILLI,  /* int64_t milli at off, int has at off2 */
    FK_AMT,    /* struct fmt_amount; aux 1 allows a sign */
    FK_CHARS,  /* char[aux] */
    FK_SRCFMT, /* const char * static name */
    FK_KIND,   /* enum fmt_stmt_kind */
    FK_LINES,  /* char *[aux] (postal address lines) */
    FK_SUB,    /* nested struct (sub) at off; aux 1: int flag at off2 */
    FK_ARR,    /* array of sub at off, size_t count at off2, aux = cap */
};

struct fmt_canon_sdesc;

struct fmt_canon_fdesc {
    const char *name;
    enum fmt_canon_fk kind;
    size_t off, off2;
    size_t aux;
    const struct fmt_canon_sdesc *sub;
};

struct fmt_canon_sdesc {
    const char *name; /* type name for messages */
    size_t size;      /* sizeof the struct (array elements) */
    const struct fmt_canon_fdesc *f;
    size_t n;
};

extern const struct fmt_canon_sdesc fmt_canon_d_pay_header;
extern const struct fmt_canon_sdesc fmt_canon_d_pay_group;
extern const struct fmt_canon_sdesc fmt_canon_d_pay_tx;
extern const struct fmt_canon_sdesc fmt_canon_d_status;
extern const struct fmt_canon_sdesc fmt_canon_d_stmt_doc;
extern const struct fmt_canon_sdesc fmt_canon_d_stmt;
extern const struct fmt_canon_sdesc fmt_canon_d_entry;

/* Static source format name equal to s, or NULL when unknown. */
const char *fmt_canon_srcfmt(const char *s);

#endif /* FMT_CANON_INTERNAL */

#endif
