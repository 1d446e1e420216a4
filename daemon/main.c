/*
 * main.c - h2hd: the host-to-host connectivity daemon.
 *
 *   h2hd -c FILE                  run in the foreground (systemd style)
 *   h2hd -c FILE -d               detach (classic daemon)
 *   h2hd -c FILE --check-config   validate, print "file:line: message" per
 *                                 problem, exit 1 when there is any
 *   h2hd --demo DIR               write the demo set-up into DIR and run it
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <uv.h>

#include "config.h"
#include "cert.h"
#include "formats_init.h"
#include "https.h"
#include "h2hd.h"
#include "log.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: h2hd -c FILE [-d] [--check-config]\n"
            "       h2hd --demo DIR\n"
            "  -c, --config FILE    configuration file\n"
            "  -d, --detach         run in the background\n"
            "      --check-config   validate the configuration and exit\n"
            "      --demo DIR       create a demo set-up in DIR and run it\n"
            "  -V, --version        print the version\n");
}

static int check_config(const char *path)
{
    struct cfg *c = NULL;
    struct cfg_problems probs = {0};
    int rc = cfg_load(path, &c, &probs);
    for (size_t i = 0; i < probs.n; i++)
        fprintf(stderr, "%s\n", probs.v[i]);
    if (rc == 0)
        printf("%s: configuration ok (%zu bank(s), %zu channel(s))\n", path,
               c->n_banks, c->n_channels);
    cfg_problems_release(&probs);
    cfg_free(c);
    return rc == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"detach", no_argument, NULL, 'd'},
        {"check-config", no_argument, NULL, 'k'},
        {"demo", required_argument, NULL, 'D'},
        {"version", no_argument, NULL, 'V'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *cfg_path = NULL, *demo = NULL;
    int detach = 0, check = 0, c;
    char demo_cfg[4096];

    while ((c = getopt_long(argc, argv, "c:dVh", opts, NULL)) != -1) {
        switch (c) {
        case 'c': cfg_path = optarg; break;
        case 'd': detach = 1; break;
        case 'k': check = 1; break;
        case 'D': demo = optarg; break;
        case 'V': printf("h2hd %s\n", H2H_VERSION); return 0;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (demo) {
        struct h2h_err err = {0};
        if (cfg_demo_write(demo, &err) != 0) {
            fprintf(stderr, "h2hd: %s\n", err.msg);
            return 1;
        }
        snprintf(demo_cfg, sizeof(demo_cfg), "%s/h2hd.conf", demo);
        cfg_path = demo_cfg;
    }
    if (!cfg_path) {
        usage(stderr);
        return 2;
    }
    formats_init();
    {
        /* before any thread exists: xmlsec1, OpenSSL and libcurl set-up */
        struct h2h_err err = {0};
        if (cert_init(&err) != 0 || https_global_init(&err) != 0) {
            fprintf(stderr, "h2hd: %s\n", err.msg);
            return 1;
        }
    }
    if (check)
        return check_config(cfg_path);
    if (detach && daemon(0, 0) < 0) {
        perror("h2hd: daemon");
        return 1;
    }

    uv_loop_t loop;
    uv_loop_init(&loop);
    struct h2hd d = {0};
    d.loop = &loop;
    struct h2h_err err = {0};
    if (h2hd_start(&d, cfg_path, &err) != 0) {
        h2h_log(H2H_LOG_ERROR, "daemon.start.failed", "error", err.msg, NULL);
        fprintf(stderr, "h2hd: %s\n", err.msg);
        return 1;
    }
    uv_run(&loop, UV_RUN_DEFAULT);
    h2hd_release(&d);
    h2h_log(H2H_LOG_INFO, "daemon.stopped", "reason", "signal", NULL);
    int rc = uv_loop_close(&loop);
    if (rc != 0)
        h2h_log(H2H_LOG_WARN, "daemon.loop.busy", "error", uv_strerror(rc),
                NULL);
    h2h_log_close();
    https_global_cleanup();
    cert_shutdown();
    return 0;
}
