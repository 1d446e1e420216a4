/*
 * render.c - see render.h.
 */
#include "render.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void render_in_opts_init(struct render_in_opts *o, const struct cfg_channel *c)
{
    memset(o, 0, sizeof(*o));
    snprintf(o->input_format, sizeof(o->input_format), "%s",
             c->input_format ? c->input_format : "passthrough");
    snprintf(o->profile, sizeof(o->profile), "%s",
             c->profile ? c->profile : "");
}

int render_validate_input(const struct render_in_opts *o, const char *path,
                          const char *name, char *business_id, size_t bidsz,
                          char **why)
{
    (void)path;
    (void)name;
    if (bidsz)
        business_id[0] = '\0';
    *why = NULL;
    if (strcmp(o->input_format, "passthrough") == 0)
        return 0;
    if (asprintf(why, "input format \"%s\" is not supported",
                 o->input_format) < 0)
        *why = NULL;
    return -1;
}

int render_needed(const struct cfg_bank *b)
{
    (void)b;
    return 0;
}

struct render_job {
    uv_work_t work;
    void *data;
    render_done_cb done;
    char msg[STORE_ID_MAX];
    char bank[64];
};

int render_start(uv_loop_t *loop, const struct cfg_bank *b,
                 const struct store_msg *m, const char *data_dir,
                 render_done_cb done, void *data)
{
    (void)loop;
    (void)b;
    (void)m;
    (void)data_dir;
    (void)done;
    (void)data;
    return H2H_EUNSUPPORTED;
}

void *render_job_data(struct render_job *rj)
{
    return rj->data;
}

const char *render_job_msg(struct render_job *rj)
{
    return rj->msg;
}

const char *render_job_bank(struct render_job *rj)
{
    return rj->bank;
}

void render_job_free(struct render_job *rj)
{
    free(rj);
}

const char *render_classify(const char *path)
{
    char buf[4097];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return "other";
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0)
        return "other";
    buf[n] = '\0';
    if (n >= 4 && memcmp(buf, "%PDF", 4) == 0)
        return "receipts";
    if (strstr(buf, "pain.002"))
        return "status";
    if (strstr(buf, "camt.052") || strstr(buf, "camt.053") ||
        strstr(buf, "camt.054") || (strstr(buf, ":20:") && strstr(buf, ":25:")))
        return "statements";
    return "other";
}
