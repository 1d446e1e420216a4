/*
 * canon_common.h - the table-driven engine under h2hd's canonical XML
 * families that have a struct per document: bills (canon_bill.h,
 * urn:h2hd:bills:1) and supply-chain finance (canon_scf.h,
 * urn:h2hd:scf:1).  A family describes each model struct once as a
 * table (struct fmt_cc_struct: one row per element, in schema order); the
 * engine writes a struct as a complete document and reads one back into
 * the struct, so the writer, the reader and the family's XSD cannot drift
 * apart, and write -> read is lossless for every field a table lists.
 *
 * It also holds the building blocks every family shares, in the same shape
 * as canonical.xsd (urn:h2hd:canonical:1) gives them: postal address,
 * party, account, agent and reason tables (fmt_cc_postal, fmt_cc_party,
 * fmt_cc_account, fmt_cc_agent, fmt_cc_reason, FMT_CC_PARTY_FIELDS for a
 * party flattened into a larger element) and the date shape.
 * canon_read.c / canon_write.c predate this module and keep their own
 * (static) copies of the text escaping and amount rules.
 *
 * Element kinds and what "absent" means (an absent field is not written,
 * and a reader leaves it zero):
 *   TEXT   char *, NULL absent.  Optional shape (struct fmt_cc_shape): a
 *          writer refuses a value of the wrong shape, a reader reports it.
 *   INT    int64_t >= 1, 0 absent (sub-ticket numbers, ...).
 *   COUNT  int64_t >= 0, always written when its struct is.
 *   FLAG   int, written as "true" when non-zero, absent when 0.
 *   ENUM   an int-sized enum written by name (struct fmt_cc_enum), 0
 *          absent; "none" is never written nor read.
 *   AMT    struct fmt_amount: <X Ccy="CNY">10000.00</X> with exactly the
 *          currency's decimals; ccy "" and minor 0 absent; never negative,
 *          at most 18 digits; the code must be a known ISO 4217 code.
 *   PPM    int64_t millionths (1.35 % = 13500) written as a percentage
 *          with up to 4 decimals ("1.35"), above 0 and below 100; 0 absent.
 *   SUB    a nested struct in an element of its own; absent when none of
 *          its fields is present, or (FMT_CC_FLAGGED) when the int at off2
 *          is 0 - the reader sets that int when the element is there.
 *   LIST   an array at off (the model's T *) with its size_t count at
 *          off2, written as <name><item/>...</name>; absent when empty.
 *   LINES  char *[cap] at off (address lines): one element per non-NULL
 *          entry; a reader fills the first free entry.
 * Kinds for models whose enums, counts and rates have no zero "none"
 * (scf.h): absent there is -1, which the family's _init sets before a
 * read, and a writer refuses any other negative value:
 *   ENUM0  like ENUM, but its values are 0 .. count-1; -1 absent.
 *   RATE   int64_t in units of 1e-10 (scf.h's rates: 1 % is
 *          10000000000), written as the shortest exact decimal with at
 *          most 10 decimals ("3.45"); -1 absent.
 *   CCY    char[4], an ISO 4217 code from the currency table as an
 *          element of its own (<Ccy>CNY</Ccy>); "" absent.
 *   MINOR  int64_t minor units in the currency whose char[4] code is at
 *          off2 (the same struct: an AMT's ccy, a CCY), written like AMT;
 *          always written, or absent when 0 with FMT_CC_NONZERO.  A
 *          reader reports a Ccy that is not the one at off2 (amount.ccy).
 *   SRCLINE int, no element: the reader stores there the line of the
 *          struct's start tag; never written.
 * Flags for these: FMT_CC_MINUS1 (COUNT: -1 absent), FMT_CC_NONZERO
 * (MINOR: 0 absent), FMT_CC_INT32 (INT, COUNT: the value is an int),
 * FMT_CC_SIZE (COUNT: the value is a size_t).  FMT_CC_CHOICE makes a SUB
 * one branch of a choice: present when the int at off2 equals the row's
 * choice value, which the reader stores there; a second branch of the
 * same choice in one document is reported (<rule>.choice) and skipped.
 * A LIST row may name an init function for its items (e.g. the model's
 * _init setting the -1 markers); without one items start zeroed.
 * FMT_CC_REQ marks an element the schema requires: the writer refuses an
 * absent one (H2H_EINVALID), the reader reports it ("<rule>.missing").
 * Offsets of a SUB's fields are relative to base + off, so off 0 lets a
 * group of the outer struct's own fields appear as one element (a
 * sub-range, a filter).  A struct has at most 64 fields.
 *
 * Writer (fmt_cc_write): renders into memory first and copies to out only
 * when the whole document was rendered, so a failure leaves nothing
 * behind.  It refuses what XML 1.0 cannot carry (invalid UTF-8, control
 * characters other than tab, LF and CR, U+FFFE/U+FFFF) with H2H_ECHARSET,
 * and what the family's schema would refuse (a shape, an unknown enum
 * value, a negative or currency-less amount, a missing required element)
 * with H2H_EINVALID (H2H_ETOOBIG for an amount of more than 18 digits);
 * err names the element path.  H2H_EIO when out fails.
 *
 * Reader (fmt_cc_read): streaming through xmlsafe.h (no DTD, no network,
 * depth and size caps).  Fatal (negative, err filled, nothing more read):
 * input that is not well-formed or is refused for security, a root
 * element other than the one asked for or outside the family's namespace,
 * out of memory.  Anything else is a problem, reported with a line (of
 * the start tag concerned; for a missing element, of the element that
 * lacks it), element path (relative to the root, "Drfts/Drft[2]/Amt")
 * and a rule
 * "<family>.<what>" (what: unknown, namespace, text, repeated, missing,
 * value, enum, amount, amount.ccy, integer, boolean, rate, too_many,
 * choice) into
 * diag (may be NULL) and counted in struct fmt_cc_report; reading goes on
 * and keeps what it can.  Children may come in any order (the schema fixes
 * one; reading keeps working over an order slip in a hand-written file).
 *
 * Ownership: a reader fills *base, which must be zeroed on entry; strings
 * and arrays it allocates belong to base and are freed by the model's
 * _release function (also after a failure).  Arrays grow by doubling, so
 * they are freed with free() like any other.
 *
 * Threads: no globals beyond fmt_xml_init(); tables are read-only; any
 * thread, one reader or writer per call.
 */
#ifndef FMT_CANON_COMMON_H
#define FMT_CANON_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "h2h_err.h"
#include "model.h"

/* ---- tables -------------------------------------------------------------- */

enum fmt_cc_kind {
    FMT_CC_TEXT,
    FMT_CC_INT,
    FMT_CC_COUNT,
    FMT_CC_FLAG,
    FMT_CC_ENUM,
    FMT_CC_AMT,
    FMT_CC_PPM,
    FMT_CC_SUB,
    FMT_CC_LIST,
    FMT_CC_LINES,
    FMT_CC_ENUM0,
    FMT_CC_RATE,
    FMT_CC_CCY,
    FMT_CC_MINOR,
    FMT_CC_SRCLINE,
};

#define FMT_CC_REQ 1u      /* the schema requires the element */
#define FMT_CC_FLAGGED 2u  /* SUB: presence is the int at off2 */
#define FMT_CC_CHOICE 4u   /* SUB: present when the int at off2 == choice */
#define FMT_CC_MINUS1 8u   /* COUNT: -1 is absent */
#define FMT_CC_NONZERO 16u /* MINOR: 0 is absent */
#define FMT_CC_INT32 32u   /* INT, COUNT: the value is an int */
#define FMT_CC_SIZE 64u    /* COUNT: the value is a size_t */

/* What a TEXT value must look like; ok returns 1 for a good value. */
struct fmt_cc_shape {
    const char *what; /* "a date (YYYY-MM-DD)", for messages */
    int (*ok)(const char *s);
};

/* An enum written by name: values 1 .. count-1 (ENUM0: 0 .. count-1)
 * whose bit is set in allowed (0: all of them); name(v) is the model's
 * static name. */
struct fmt_cc_enum {
    const char *what; /* "bill operation", for messages */
    const char *(*name)(int v);
    int count;
    uint64_t allowed;
};

struct fmt_cc_struct;

struct fmt_cc_field {
    const char *name; /* element name */
    enum fmt_cc_kind kind;
    unsigned flags; /* FMT_CC_REQ, FMT_CC_FLAGGED */
    size_t off;     /* the value, relative to the struct */
    size_t off2;    /* LIST: size_t count; FLAGGED SUB: int flag */
    const struct fmt_cc_shape *shape; /* TEXT, optional */
    const struct fmt_cc_enum *en;     /* ENUM */
    const struct fmt_cc_struct *sub;  /* SUB, LIST (the item) */
    const char *item;                 /* LIST: item element name */
    size_t cap; /* LIST: most items a reader keeps; LINES: array size */
    void (*init)(void *item); /* LIST: sets up a new item, NULL: zeroed */
    int choice;               /* CHOICE SUB: the value at off2 */
};

struct fmt_cc_struct {
    const char *name; /* type name, for messages */
    size_t size;      /* sizeof the struct (LIST items) */
    const struct fmt_cc_field *f;
    size_t n;
};

/* Row builders for tables: T the C struct, m its member. */
#define FMT_CC_F(nm, k, fl, T, m)                                              \
    {                                                                          \
        .name = (nm), .kind = (k), .flags = (fl), .off = offsetof(T, m)        \
    }
#define FMT_CC_F_TEXT(nm, fl, T, m, shp)                                       \
    {                                                                          \
        .name = (nm), .kind = FMT_CC_TEXT, .flags = (fl),                      \
        .off = offsetof(T, m), .shape = (shp)                                  \
    }
#define FMT_CC_F_ENUM(nm, fl, T, m, e)                                         \
    {                                                                          \
        .name = (nm), .kind = FMT_CC_ENUM, .flags = (fl),                      \
        .off = offsetof(T, m), .en = &(e)                                      \
    }
#define FMT_CC_F_SUB(nm, fl, T, m, s)                                          \
    {                                                                          \
        .name = (nm), .kind = FMT_CC_SUB, .flags = (fl),                       \
        .off = offsetof(T, m), .sub = &(s)                                     \
    }
/* A SUB whose fields are the outer struct's own (offsets relative to T). */
#define FMT_CC_F_GROUP(nm, fl, s)                                              \
    {                                                                          \
        .name = (nm), .kind = FMT_CC_SUB, .flags = (fl), .off = 0, .sub = &(s) \
    }
#define FMT_CC_F_FLAGGED(nm, T, m, flag, s)                                    \
    {                                                                          \
        .name = (nm), .kind = FMT_CC_SUB, .flags = FMT_CC_FLAGGED,             \
        .off = offsetof(T, m), .off2 = offsetof(T, flag), .sub = &(s)          \
    }
#define FMT_CC_F_LIST(nm, T, m, count, it, s, max)                             \
    {                                                                          \
        .name = (nm), .kind = FMT_CC_LIST, .off = offsetof(T, m),              \
        .off2 = offsetof(T, count), .sub = &(s), .item = (it), .cap = (max)    \
    }
#define FMT_CC_F_ENUM0(nm, fl, T, m, e)                                        \
    {                                                                          \
        .name = (nm), .kind = FMT_CC_ENUM0, .flags = (fl),                     \
        .off = offsetof(T, m), .en = &(e)                                      \
    }
/* Minor units m of T in the currency whose code is the char[4] ccym. */
#define FMT_CC_F_MINOR(nm, fl, T, m, ccym)                                     \
    {                                                                          \
        .name = (nm), .kind = FMT_CC_MINOR, .flags = (fl),                     \
        .off = offsetof(T, m), .off2 = offsetof(T, ccym)                       \
    }
#define FMT_CC_F_SRCLINE(T, m)                                                 \
    {                                                                          \
        .name = "", .kind = FMT_CC_SRCLINE, .off = offsetof(T, m)              \
    }
/* A LIST whose new items are set up by fn (void fn(void *item)). */
#define FMT_CC_F_LIST_INIT(nm, T, m, count, it, s, max, fn)                    \
    {                                                                          \
        .name = (nm), .kind = FMT_CC_LIST, .off = offsetof(T, m),              \
        .off2 = offsetof(T, count), .sub = &(s), .item = (it), .cap = (max),   \
        .init = (fn)                                                           \
    }
/* Branch v of the choice kept in the int kindm of T: the struct member m
 * in element nm. */
#define FMT_CC_F_CHOICE(nm, T, m, kindm, v, s)                                 \
    {                                                                          \
        .name = (nm), .kind = FMT_CC_SUB, .flags = FMT_CC_CHOICE,              \
        .off = offsetof(T, m), .off2 = offsetof(T, kindm), .sub = &(s),        \
        .choice = (v)                                                          \
    }
/* The same, for a table whose offsets are relative to T itself. */
#define FMT_CC_F_CHOICE_GROUP(nm, T, kindm, v, s)                              \
    {                                                                          \
        .name = (nm), .kind = FMT_CC_SUB, .flags = FMT_CC_CHOICE, .off = 0,    \
        .off2 = offsetof(T, kindm), .sub = &(s), .choice = (v)                 \
    }
#define FMT_CC_STRUCT(var, nm, T, rows)                                        \
    const struct fmt_cc_struct var = {nm, sizeof(T), rows,                     \
                                      sizeof(rows) / sizeof((rows)[0])}

/* Shared building blocks, the shapes of canonical.xsd's PostalAddress
 * (Dept StrtNm BldgNb PstCd TwnNm CtrySubDvsn Ctry AdrLine{0,7}), Party
 * (Nm PstlAdr OrgBIC OrgId OrgIdSchme PrvtId CtryOfRes) and Account (IBAN
 * OthrId OthrSchme Ccy Nm Tp).  Their values are free text, as there. */
extern const struct fmt_cc_struct fmt_cc_postal;  /* struct fmt_postal */
extern const struct fmt_cc_struct fmt_cc_party;   /* struct fmt_party */
extern const struct fmt_cc_struct fmt_cc_account; /* struct fmt_account */
/* canonical.xsd's Agent (BIC ClrSysId ClrSysMmbId Nm PstlAdr OthrId) and
 * Reason (Cd Prtry AddtlInf), free text as there. */
extern const struct fmt_cc_struct fmt_cc_agent;  /* struct fmt_agent */
extern const struct fmt_cc_struct fmt_cc_reason; /* struct fmt_reason */

/* The rows of a struct fmt_party member m of T, flattened into T's
 * element (Party's elements followed by whatever T adds). */
#define FMT_CC_PARTY_FIELDS(T, m)                                              \
    FMT_CC_F_TEXT("Nm", 0, T, m.name, NULL),                                   \
        FMT_CC_F_SUB("PstlAdr", 0, T, m.addr, fmt_cc_postal),                  \
        FMT_CC_F_TEXT("OrgBIC", 0, T, m.org_bic, NULL),                        \
        FMT_CC_F_TEXT("OrgId", 0, T, m.org_id, NULL),                          \
        FMT_CC_F_TEXT("OrgIdSchme", 0, T, m.org_id_scheme, NULL),              \
        FMT_CC_F_TEXT("PrvtId", 0, T, m.prvt_id, NULL),                        \
        FMT_CC_F_TEXT("CtryOfRes", 0, T, m.ctry_of_res, NULL)

/* "YYYY-MM-DD", a real calendar date (xs:date without a zone). */
extern const struct fmt_cc_shape fmt_cc_date;

/* ---- writing ------------------------------------------------------------- */

/* Write base (described by d) as the complete document <root xmlns=ns>.
 * 0 or negative with err filled (see the top of this file). */
int fmt_cc_write(FILE *out, const char *ns, const char *root,
                 const struct fmt_cc_struct *d, const void *base,
                 struct h2h_err *err);

/* ---- reading ------------------------------------------------------------- */

/* What a read found besides fatal errors. */
struct fmt_cc_report {
    int root_line;        /* line of the root start tag */
    size_t n;             /* problems found, also when diag is NULL */
    struct h2h_err first; /* the first one: "line L: where: msg" */
};

/* Read src, whose root must be <root> in namespace ns, into base (zeroed
 * by the caller).  rule is the family's rule prefix ("bill").  rep (not
 * NULL) is reset first.  0 when the document was read (look at rep->n),
 * or a fatal negative code with err filled. */
int fmt_cc_read(const struct fmt_src *src, const char *ns, const char *root,
                const char *rule, const struct fmt_cc_struct *d, void *base,
                struct fmt_diag *diag, struct fmt_cc_report *rep,
                struct h2h_err *err);

/* Record one more problem (diag may be NULL): counts it in rep, keeps it
 * as rep->first when it is the first, adds it to diag. */
void fmt_cc_report_add(struct fmt_cc_report *rep, struct fmt_diag *diag,
                       int line, const char *where, const char *rule,
                       const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

/* 0 when rep holds no problem; else H2H_EINVALID with err "<name>: N
 * problem(s), the first: line L: where: msg". */
int fmt_cc_report_rc(const struct fmt_cc_report *rep, const char *name,
                     struct h2h_err *err);

/* Index in roots[0..n) of the root start tag of buf[0..len) when that
 * element is declared in namespace ns, else -1.  A cheap look at the
 * prologue (BOM, XML declaration, comments, PIs), not a validation: the
 * root start tag with its namespace declaration must lie within buf. */
int fmt_cc_detect(const char *buf, size_t len, const char *ns,
                  const char *const *roots, size_t n);

#endif
