/*
 * recon_out.c - what the writers share (names, amounts, flags, markup
 * escaping) and writing outputs to files.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "amount.h"
#include "recon_int.h"

const char *recon_output_name(enum recon_output what)
{
    static const char *const names[RECON_OUT_COUNT] = {
        "matched.csv",    "unmatched_payments.csv", "unmatched_entries.csv",
        "mismatches.csv", "duplicates.csv",         "reversals.csv",
        "ambiguous.csv",  "open_receipts.csv",      "report.html",
        "result.xml",
    };
    return (unsigned)what < RECON_OUT_COUNT ? names[what] : "";
}

const char *rc_amt(const struct recon *r, int64_t minor, uint16_t ccy,
                   char *buf)
{
    if (fmt_amount_format(minor, rc_ccy(r, ccy), '.', buf, 40) < 0)
        snprintf(buf, 40, "%" PRId64, minor);
    return buf;
}

const char *rc_flags_str(unsigned flags, char *buf)
{
    static const struct {
        unsigned bit;
        const char *name;
    } f[] = {
        {RECON_F_SPLIT, "split"},
        {RECON_F_BATCH, "batch"},
        {RECON_F_AMOUNT_MISMATCH, "amount_mismatch"},
        {RECON_F_DATE_MISMATCH, "date_mismatch"},
        {RECON_F_REVERSED, "reversed"},
        {RECON_F_RETURNED, "returned"},
    };
    buf[0] = '\0';
    for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
        if (!(flags & f[i].bit))
            continue;
        if (buf[0])
            strcat(buf, " ");
        strcat(buf, f[i].name);
    }
    return buf;
}

void rc_xml_esc(FILE *f, const char *s)
{
    const char *run = s;
    for (; *s; s++) {
        const char *rep;
        switch (*s) {
        case '&': rep = "&amp;"; break;
        case '<': rep = "&lt;"; break;
        case '>': rep = "&gt;"; break;
        case '"': rep = "&quot;"; break;
        case '\'': rep = "&#39;"; break;
        /* kept in attribute values as characters, not normalised away */
        case '\n': rep = "&#10;"; break;
        case '\t': rep = "&#9;"; break;
        default: continue;
        }
        fwrite(run, 1, (size_t)(s - run), f);
        fputs(rep, f);
        run = s + 1;
    }
    fwrite(run, 1, (size_t)(s - run), f);
}

int recon_write_path(const struct recon *r, enum recon_output what,
                     const char *path, struct h2h_err *err)
{
    if ((unsigned)what >= RECON_OUT_COUNT)
        return h2h_err_set(err, H2H_EINVALID, "unknown output %d", what);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    if (fd < 0)
        return h2h_err_set(err, -errno, "%s: %s", path, strerror(errno));
    FILE *f = fdopen(fd, "w");
    if (!f) {
        int e = errno;
        close(fd);
        return h2h_err_set(err, -e, "%s: %s", path, strerror(e));
    }
    int rc;
    if (what == RECON_OUT_HTML)
        rc = recon_write_html(r, NULL, f, err);
    else if (what == RECON_OUT_XML)
        rc = recon_write_xml(r, f, err);
    else
        rc = recon_write_csv(r, what, f, err);
    if (rc < 0)
        h2h_err_prefix(err, "%s", path);
    else if (fsync(fileno(f)) < 0)
        rc = h2h_err_set(err, -errno, "%s: fsync: %s", path, strerror(errno));
    if (fclose(f) != 0 && rc == 0)
        rc = h2h_err_set(err, -errno, "%s: %s", path, strerror(errno));
    return rc;
}

int recon_write_dir(const struct recon *r, const char *dir, struct h2h_err *err)
{
    for (int k = 0; k < RECON_OUT_COUNT; k++) {
        char path[4096];
        int n = snprintf(path, sizeof(path), "%s/%s", dir,
                         recon_output_name((enum recon_output)k));
        if (n < 0 || (size_t)n >= sizeof(path))
            return h2h_err_set(err, H2H_ETOOBIG, "%s: path too long", dir);
        int rc = recon_write_path(r, (enum recon_output)k, path, err);
        if (rc < 0)
            return rc;
    }
    return 0;
}
