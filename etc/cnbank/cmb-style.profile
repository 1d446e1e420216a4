# cmb-style.profile - a cnbank_xml bank profile modelled on China Merchants
# Bank's FBSDK front end (银企直连前置机): a CMBSDKPGK envelope with an INFO
# header, GBK, decimal yuan, XML posted over HTTPS, the request's CMS
# signature in an HTTP header, and lists continued with a token.
#
# A profile describes how ONE bank's front end speaks; which customer you are
# (login, accounts, keys, address) lives in the bank's `cnbank_xml` group in
# h2hd.conf. adapters/cnbank_xml/PROFILE.md is the reference for every
# setting; this file and icbc-style.profile are worked examples: to add a
# bank, copy the one that is closer and change what differs.
#
# Syntax: libconfig. `name = value;`, groups { }, lists ( ), strings "..."
# (adjacent strings are joined). Every setting below is required unless its
# comment says "optional". Unknown names are errors.
#
# Paths ("INFO/FUNNAM") are element names separated by "/", below the
# envelope root (header paths), below `envelope.body` (request paths) or
# below `envelope.response_body` (result paths); a last part "@name" is an
# attribute. Values are templates: literal text with {tokens} that h2hd
# fills in (PROFILE.md lists every token and its format). A template
# without a token is a fixed value that the bank expects literally.
#
# Function codes and element names follow public CMB samples where there
# are any (DCPAYMNT, GetPaymentInfo, AgentRequest, GetAgentDetail,
# GetTransInfo, GetAccInfo, YURREF, ...); the request id INFO/SEQNBR, the
# receipt functions DCRCDLST / DCRCDFIL, the continuation key CTNKEY and
# the return codes are this profile's own (the simulator's bank).

# Version of the profile format described in PROFILE.md (only 1 exists).
profile_version = 1;

# Optional: a short name for logs, and a free text.
name = "cmb-style";
description = "CMB FBSDK style: CMBSDKPGK/INFO, GBK, yuan, HTTPS, "
              "CMS signature in X-Sign, continuation token";

# Character set of requests and answers, named in the XML declaration
# (<?xml version="1.0" encoding="GBK"?>). GBK | GB18030 | GB2312 | UTF-8.
# A text that this charset cannot represent is refused before anything is
# sent, naming the field.
encoding = "GBK";

# How a request reaches the front end: "http" = HTTPS POST, the XML is the
# body (url in h2hd.conf); "tcp" = a plain socket on loopback, the XML
# preceded by a fixed-width decimal length (see icbc-style.profile).
framing = "http";

# framing "http" only: the Content-Type of requests (and of answers).
http = {
  content_type = "text/xml; charset=GBK";
};

# How amounts are written: "yuan" = decimal with exactly two decimals and a
# point ("1234.50"; never "1234.5", never a thousands separator); "fen" =
# an integer count of 1/100 yuan ("123450").
amount_unit = "yuan";

# How {date} {from} {to} and the dates in answers are written, and how
# {time} is written: strftime-style, only %Y %m %d %H %M %S %% and literal
# characters.
date_format = "%Y%m%d";
time_format = "%H%M%S";

# The bank's civil time (China Standard Time). {date} and {time} are the
# bank's clock, and so are booking dates: "today" is today in this offset.
utc_offset = "+08:00";

# ISO 4217 currency -> the bank's currency number, for {currency_code}
# and for reading currencies in answers. A currency not listed cannot be
# paid through this bank.
currency_codes = ( ( "CNY", "10" ),
                   ( "HKD", "21" ),
                   ( "USD", "32" ) );

# Field limits the bank enforces, in characters. h2hd refuses longer
# values before sending (the simulator refuses them too).
limits = {
  serial      = 30;    # {serial}, the customer reference (YURREF)
  name        = 60;    # {creditor_name} {debtor_name}
  remittance  = 60;    # {remittance}, the purpose (用途)
  bank_name   = 60;    # {creditor_bank}
  batch_items = 500;   # items in one payroll batch
};

# The envelope every request is wrapped in.
envelope = {
  # The root element.
  root = "CMBSDKPGK";

  # Header elements of every request: ( path, template ). Written first, in
  # this order. {function} (the function's code) must appear exactly once;
  # it is how the front end knows what is asked. {request_id} is a fresh
  # id per request which the bank echoes (response.echo).
  header = ( ( "INFO/FUNNAM", "{function}" ),
             ( "INFO/DATTYP", "2" ),              # 2 = XML
             ( "INFO/LGNNAM", "{login}" ),
             ( "INFO/SEQNBR", "{request_id}" ) );

  # Where a function's request elements go ("" = directly below the root),
  # and where the bank puts its result elements in answers.
  body = "";
  response_body = "";
};

# How to read an answer.
response = {
  # Return code and message (paths below the root).
  code    = "INFO/RETCOD";
  message = "INFO/ERRMSG";

  # Header paths whose request value the bank copies into its answer. An
  # answer whose echo differs from what was sent answers some other
  # request (stale, replayed, foreign): treat it as no answer at all.
  echo = ( "INFO/FUNNAM", "INFO/SEQNBR" );

  # Codes that mean "processed": the result elements are there (a payment
  # may still have been rejected: see its status).
  ok = ( "0" );

  # Codes that mean "busy, try later": nothing was done.
  busy = ( "-9" );

  # Codes that mean "no such serial / receipt" (inquiries only). After an
  # unanswered payment this proves it was never created: safe to resend.
  not_found = ( "-6" );

  # Every other code means the request was refused and nothing was done
  # (a payment with one of these was NOT created; its serial stays unused,
  # except `duplicate`, which means the serial belongs to another
  # payment). The ones this bank uses, for logs and for the simulator:
  errors = {
    format    = "-1";   # not decodable, not well-formed, wrong envelope,
                        # unknown function, an element missing or unexpected
    signature = "-2";   # request signature missing or wrong
    login     = "-3";   # unknown login
    invalid   = "-4";   # a field is invalid (account, amount, name, ...)
    duplicate = "-5";   # serial already used for a different instruction
    account   = "-7";   # not one of this customer's accounts
  };
};

# Signatures: CMS (PKCS#7) SignedData, DER, detached, SHA-256, made with
# the customer's signing key (sign_key in h2hd.conf); answers are signed
# with the bank's key (checked against bank_cert).
signature = {
  # Where the request's signature goes: "http-header" = standard base64 of
  # the CMS in this HTTP header, over the exact body bytes sent;
  # "element" = in an envelope element (see icbc-style.profile); "none".
  where  = "http-header";
  header = "X-Sign";

  # Where the bank's signature comes back, over the exact answer body.
  response        = "http-header";
  response_header = "X-Sign";
};

# Long lists (transactions, receipts) come in pages.
paging = {
  # "token": the first request sends {page} empty; each answer carries a
  # continuation token (the function's result.next), sent back as {page}
  # to get the next page; an empty or absent token = the last page.
  style = "token";
};

functions = {

  # A single payment (one debit, one credit). {serial} is the idempotency
  # key: the same serial again with the same content gets the original
  # result; with different content the `duplicate` error.
  payment = {
    code = "DCPAYMNT";
    request = ( ( "SDKPAYRQX/BUSCOD", "N02031" ),   # business: payment
                ( "SDKPAYRQX/BUSMOD", "00001" ),    # business mode
                ( "DCOPDPAYX/YURREF", "{serial}" ),
                ( "DCOPDPAYX/DBTACC", "{debtor_account}" ),
                ( "DCOPDPAYX/TRSAMT", "{amount}" ),
                ( "DCOPDPAYX/CCYNBR", "{currency_code}" ),
                ( "DCOPDPAYX/STLCHN", "N" ),        # normal (not urgent)
                ( "DCOPDPAYX/NUSAGE", "{remittance}" ),
                ( "DCOPDPAYX/CRTACC", "{creditor_account}" ),
                ( "DCOPDPAYX/CRTNAM", "{creditor_name}" ),
                ( "DCOPDPAYX/CRTBNK", "{creditor_bank}" ) );
    # Result elements, below envelope.response_body: the serial (must be
    # the one sent), the status (see status_map), a reason text for
    # rejections, the bank's own reference.
    result = { serial   = "NTQPAYRQZ/YURREF";
               status   = "NTQPAYRQZ/REQSTS";
               reason   = "NTQPAYRQZ/ERRTXT";
               bank_ref = "NTQPAYRQZ/REQNBR"; };
  };

  # Status of a payment, by its serial. A serial the bank never saw
  # answers a response.not_found code.
  payment_status = {
    code = "GetPaymentInfo";
    request = ( ( "SDKPAYQYX/BUSCOD", "N02031" ),
                ( "SDKPAYQYX/YURREF", "{serial}" ) );
    result = { serial   = "NTQPAYQYZ/YURREF";
               status   = "NTQPAYQYZ/REQSTS";
               reason   = "NTQPAYQYZ/ERRTXT";
               bank_ref = "NTQPAYQYZ/REQNBR";
               amount   = "NTQPAYQYZ/TRSAMT"; };    # optional
  };

  # Payroll (代发): one debit, many credits, one serial for the batch.
  # {count} is the number of items, {total} their sum.
  payroll = {
    code = "AgentRequest";
    request = ( ( "SDKATSRQX/BUSCOD", "N03020" ),   # business: payroll
                ( "SDKATSRQX/BUSMOD", "00001" ),
                ( "SDKATSRQX/TRSTYP", "BYSA" ),     # salary
                ( "SDKATSRQX/DBTACC", "{debtor_account}" ),
                ( "SDKATSRQX/CCYNBR", "{currency_code}" ),
                ( "SDKATSRQX/SUM", "{total}" ),
                ( "SDKATSRQX/TOTAL", "{count}" ),
                ( "SDKATSRQX/YURREF", "{serial}" ),
                ( "SDKATSRQX/MEMO", "代发工资" ) );
    # The repeated item element (below envelope.body), once per payee,
    # and its children ( path below the item, template ).
    items = "SDKATDRQX";
    item = ( ( "TRXSEQ", "{item_no}" ),
             ( "ACCNBR", "{creditor_account}" ),
             ( "CLTNAM", "{creditor_name}" ),
             ( "TRSAMT", "{amount}" ),
             ( "TRSDSP", "{remittance}" ) );
    result = { serial   = "NTAGTRSPZ/YURREF";
               status   = "NTAGTRSPZ/REQSTS";
               reason   = "NTAGTRSPZ/ERRTXT";
               bank_ref = "NTAGTRSPZ/REQNBR"; };
  };

  # Result of a payroll batch, per item. The batch status is final once
  # every item is; each item's own status says whether it was paid.
  payroll_result = {
    code = "GetAgentDetail";
    request = ( ( "SDKAGTQYX/BUSCOD", "N03020" ),
                ( "SDKAGTQYX/YURREF", "{serial}" ) );
    result = { serial   = "NTAGTINFZ/YURREF";
               status   = "NTAGTINFZ/REQSTS";
               bank_ref = "NTAGTINFZ/REQNBR";
               items    = "NTAGDINFZ";              # one per item
               item = { item_no          = "TRXSEQ";
                        creditor_account = "ACCNBR";
                        creditor_name    = "CLTNAM";
                        amount           = "TRSAMT";
                        status           = "STSCOD";
                        reason           = "ERRTXT"; }; };
  };

  # Balance of one account.
  balance = {
    code = "GetAccInfo";
    request = ( ( "SDKACINFX/ACCNBR", "{account}" ) );
    result = { account   = "NTQACINFZ/ACCNBR";
               name      = "NTQACINFZ/ACCNAM";      # optional
               currency  = "NTQACINFZ/CCYNBR";      # a currency_codes code
               balance   = "NTQACINFZ/ONLBLV";      # booked balance
               available = "NTQACINFZ/AVLBLV"; };   # optional
  };

  # Booked transactions of one account, booking dates {from}..{to}
  # inclusive, oldest first, in pages (see paging).
  transactions = {
    code = "GetTransInfo";
    request = ( ( "SDKTSINFX/ACCNBR", "{account}" ),
                ( "SDKTSINFX/BGNDAT", "{from}" ),
                ( "SDKTSINFX/ENDDAT", "{to}" ),
                ( "SDKTSINFX/CTNKEY", "{page}" ) );
    result = {
      items = "NTQTSINFZ";                          # one per entry
      item = { entry_id             = "REFNBR";     # unique per entry
               booking_date         = "ETYDAT";
               value_date           = "VLTDAT";     # optional
               amount               = "TRSAMT";     # unsigned
               currency             = "CCYNBR";     # optional
               credit_debit         = "TRSDIR";
               debit_value          = "D";          # value, not a path
               credit_value         = "C";          # value, not a path
               counterparty_name    = "RPYNAM";
               counterparty_account = "RPYACC";
               counterparty_bank    = "RPYBNK";     # optional
               remittance           = "NUSAGE";
               serial               = "YURREF";     # ours; empty if none
               bank_ref             = "REQNBR"; };  # optional
      next = "NTSTPINFZ/CTNKEY";                    # token style: next page
    };
  };

  # Electronic receipts (电子回单): one per booked entry, linked to it by
  # entry_id (and to our payment by serial).
  receipts = {
    code = "DCRCDLST";
    request = ( ( "SDKRCDLSX/ACCNBR", "{account}" ),
                ( "SDKRCDLSX/BGNDAT", "{from}" ),
                ( "SDKRCDLSX/ENDDAT", "{to}" ),
                ( "SDKRCDLSX/CTNKEY", "{page}" ) );
    result = {
      items = "NTRCDLSTZ";
      item = { receipt_id        = "RCDNBR";
               entry_id          = "REFNBR";
               serial            = "YURREF";
               booking_date      = "ETYDAT";
               amount            = "TRSAMT";
               credit_debit      = "TRSDIR";
               debit_value       = "D";
               credit_value      = "C";
               counterparty_name = "RPYNAM"; };
      next = "NTRCDCTNZ/CTNKEY";
    };
  };

  # One receipt as a PDF file. An unknown receipt id answers not_found.
  receipt_download = {
    code = "DCRCDFIL";
    request = ( ( "SDKRCDFLX/RCDNBR", "{receipt_id}" ) );
    result = { receipt_id = "NTRCDFILZ/RCDNBR";
               name       = "NTRCDFILZ/FILNAM";     # optional: file name
               content    = "NTRCDFILZ/FILDAT"; };
    content_encoding = "base64";                    # standard, padded
  };
};

# The bank's status values -> ISO 20022 status (PDNG pending; ACSC or ACCP
# accepted; RJCT rejected), for payments, payroll batches and items. A
# value not listed leaves the payment where it is and is logged.
status_map = ( ( "BNK", "PDNG" ),     # at the bank, being processed
               ( "AUT", "PDNG" ),     # waiting for approval
               ( "FIN", "ACSC" ),     # done, booked
               ( "REJ", "RJCT" ) );   # refused (reason in ERRTXT)
