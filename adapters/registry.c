/* registry.c - the compiled-in adapters, by name. */
#include <string.h>

#include "adapter.h"
#include "cnbank_xml.h"
#include "dirdrop.h"
#include "iso20022_sftp.h"
#include "openapi_json.h"

static const struct h2h_adapter_ops *const adapters[] = {
    &dirdrop_ops,
    &iso20022_sftp_ops,
    &openapi_json_ops,
    &cnbank_xml_ops,
};

const struct h2h_adapter_ops *h2h_adapter_find(const char *name)
{
    for (size_t i = 0; name && i < sizeof(adapters) / sizeof(adapters[0]); i++)
        if (strcmp(adapters[i]->name, name) == 0)
            return adapters[i];
    return NULL;
}

unsigned h2h_kind_bit(const char *kind)
{
    if (!kind || strcmp(kind, "payment") == 0)
        return H2H_KIND_PAYMENTS;
    if (strcmp(kind, "bill") == 0)
        return H2H_KIND_BILLS;
    if (strcmp(kind, "scf") == 0)
        return H2H_KIND_SCF;
    return 0;
}

int h2h_adapter_takes(const struct h2h_adapter_ops *ops,
                      struct h2h_adapter *a, const char *kind)
{
    unsigned have = 0;
    if (ops && a && ops->instance_kinds)
        have = ops->instance_kinds(a);
    else if (ops)
        have = ops->kinds ? ops->kinds : H2H_KIND_PAYMENTS;
    return (have & h2h_kind_bit(kind)) != 0;
}

const char *h2h_outcome_name(enum h2h_outcome o)
{
    switch (o) {
    case H2H_OUT_OK: return "ok";
    case H2H_OUT_TEMPFAIL: return "temporary_failure";
    case H2H_OUT_PERMFAIL: return "permanent_failure";
    case H2H_OUT_UNKNOWN: return "unknown";
    case H2H_OUT_NOT_SENT: return "not_sent";
    }
    return "?";
}

unsigned h2h_poll_kind(const char *name)
{
    static const struct {
        const char *name;
        unsigned bits;
    } kinds[] = {
        {"status", H2H_POLL_STATUS},     {"statements", H2H_POLL_STATEMENTS},
        {"intraday", H2H_POLL_INTRADAY}, {"balance", H2H_POLL_BALANCE},
        {"bills", H2H_POLL_BILLS},       {"all", H2H_POLL_ALL},
    };
    for (size_t i = 0; name && i < sizeof(kinds) / sizeof(kinds[0]); i++)
        if (strcmp(kinds[i].name, name) == 0)
            return kinds[i].bits;
    return 0;
}

void h2h_poll_delivered(struct h2h_adapter *a, struct h2h_poll_req *req,
                        const struct h2h_download *dl, int rc)
{
    a->ops->poll_delivered(a, req, dl, rc);
}
