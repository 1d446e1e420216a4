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

  # ---- bill pool (票据池) family: PROFILE.md "Bill pool and supply-chain
  # finance".  One code for every draft operation; BBOPRDFTX/OPRCOD says
  # which (bill_ops below).
  bill_operation = {
    code = "BBOPRDFT";
    request = ( ( "BBOPRDFTX/YURREF", "{serial}" ),
                ( "BBOPRDFTX/OPRCOD", "{bill_op}" ),
                ( "BBOPRDFTX/DRFNBR", "{draft_no}" ),
                ( "BBOPRDFTX/SUBBGN", "{sub_from}" ),
                ( "BBOPRDFTX/SUBEND", "{sub_to}" ),
                ( "BBOPRDFTX/TRSAMT", "{amount}" ),
                ( "BBOPRDFTX/ACCNBR", "{our_account}" ),
                ( "BBOPRDFTX/DRFTYP", "{draft_kind}" ),
                ( "BBOPRDFTX/ISSDAT", "{issue_date}" ),
                ( "BBOPRDFTX/DUEDAT", "{maturity_date}" ),
                ( "BBOPRDFTX/TRSFLG", "{transferable}" ),
                ( "BBOPRDFTX/SPLFLG", "{divisible}" ),
                ( "BBOPRDFTX/ACPNAM", "{acceptor_name}" ),
                ( "BBOPRDFTX/ACPACC", "{acceptor_account}" ),
                ( "BBOPRDFTX/ACPBNK", "{acceptor_bank}" ),
                ( "BBOPRDFTX/PYENAM", "{payee_name}" ),
                ( "BBOPRDFTX/PYEACC", "{payee_account}" ),
                ( "BBOPRDFTX/PYEBNK", "{payee_bank}" ),
                ( "BBOPRDFTX/CPTNAM", "{cpty_name}" ),
                ( "BBOPRDFTX/CPTACC", "{cpty_account}" ),
                ( "BBOPRDFTX/CPTBNK", "{cpty_bank}" ),
                ( "BBOPRDFTX/INTRAT", "{rate}" ),
                ( "BBOPRDFTX/OPRDAT", "{op_date}" ),
                ( "BBOPRDFTX/POLNBR", "{pool_id}" ),
                ( "BBOPRDFTX/NTCNBR", "{notice_id}" ),
                ( "BBOPRDFTX/OVDFLG", "{overdue}" ),
                ( "BBOPRDFTX/RSNTXT", "{reason}" ),
                ( "BBOPRDFTX/MEMO", "{memo}" ) );
    result = { serial      = "BBOPRDFTZ/YURREF";
               status      = "BBOPRDFTZ/REQSTS";
               reason_code = "BBOPRDFTZ/RTNCOD";      # optional
               reason      = "BBOPRDFTZ/ERRTXT";      # optional
               bank_ref    = "BBOPRDFTZ/REQNBR";      # optional
               items = "BBDRFINFZ";                   # piece, remainder
               item = {
               draft_no         = "DRFNBR";
               draft_kind       = "DRFTYP";
               amount           = "DRFAMT";      # the piece
               face_amount      = "FACAMT";      # optional: the draft
               issue_date       = "ISSDAT";
               maturity_date    = "DUEDAT";
               drawer_name      = "DRWNAM";
               drawer_account   = "DRWACC";      # optional
               drawer_bank      = "DRWBNK";
               acceptor_name    = "ACPNAM";
               acceptor_account = "ACPACC";      # optional
               acceptor_bank    = "ACPBNK";
               payee_name       = "PYENAM";
               payee_account    = "PYEACC";      # optional
               payee_bank       = "PYEBNK";
               holder_name      = "HLDNAM";      # optional
               holder_account   = "HLDACC";      # optional
               holder_bank      = "HLDBNK";      # optional
               draft_status     = "DRFSTS";
               transferable     = "TRSFLG";
               divisible        = "SPLFLG";
               sub_from         = "SUBBGN";
               sub_to           = "SUBEND"; }; };
  };
  bill_query = {
    code = "BBQRYDFT";
    request = ( ( "BBQRYDFTX/YURREF", "{serial}" ) );
    result = { serial      = "BBOPRDFTZ/YURREF";
               status      = "BBOPRDFTZ/REQSTS";
               reason_code = "BBOPRDFTZ/RTNCOD";
               reason      = "BBOPRDFTZ/ERRTXT";
               bank_ref    = "BBOPRDFTZ/REQNBR";
               items = "BBDRFINFZ";
               item = {
               draft_no         = "DRFNBR";
               draft_kind       = "DRFTYP";
               amount           = "DRFAMT";      # the piece
               face_amount      = "FACAMT";      # optional: the draft
               issue_date       = "ISSDAT";
               maturity_date    = "DUEDAT";
               drawer_name      = "DRWNAM";
               drawer_account   = "DRWACC";      # optional
               drawer_bank      = "DRWBNK";
               acceptor_name    = "ACPNAM";
               acceptor_account = "ACPACC";      # optional
               acceptor_bank    = "ACPBNK";
               payee_name       = "PYENAM";
               payee_account    = "PYEACC";      # optional
               payee_bank       = "PYEBNK";
               holder_name      = "HLDNAM";      # optional
               holder_account   = "HLDACC";      # optional
               holder_bank      = "HLDBNK";      # optional
               draft_status     = "DRFSTS";
               transferable     = "TRSFLG";
               divisible        = "SPLFLG";
               sub_from         = "SUBBGN";
               sub_to           = "SUBEND"; }; };
  };
  bill_drafts = {
    code = "BBDRFLST";
    request = ( ( "BBDRFLSTX/DRFSTS", "{draft_status}" ),
                ( "BBDRFLSTX/DUEBGN", "{maturity_from}" ),
                ( "BBDRFLSTX/DUEEND", "{maturity_to}" ),
                ( "BBDRFLSTX/CTNKEY", "{page}" ) );
    result = { items = "BBDRFINFZ";
               item = {
               draft_no         = "DRFNBR";
               draft_kind       = "DRFTYP";
               amount           = "DRFAMT";      # the piece
               face_amount      = "FACAMT";      # optional: the draft
               issue_date       = "ISSDAT";
               maturity_date    = "DUEDAT";
               drawer_name      = "DRWNAM";
               drawer_account   = "DRWACC";      # optional
               drawer_bank      = "DRWBNK";
               acceptor_name    = "ACPNAM";
               acceptor_account = "ACPACC";      # optional
               acceptor_bank    = "ACPBNK";
               payee_name       = "PYENAM";
               payee_account    = "PYEACC";      # optional
               payee_bank       = "PYEBNK";
               holder_name      = "HLDNAM";      # optional
               holder_account   = "HLDACC";      # optional
               holder_bank      = "HLDBNK";      # optional
               draft_status     = "DRFSTS";
               transferable     = "TRSFLG";
               divisible        = "SPLFLG";
               sub_from         = "SUBBGN";
               sub_to           = "SUBEND"; };
               next = "BBDRFCTNZ/CTNKEY"; };
  };
  bill_notices = {
    code = "BBNTCLST";
    request = ( ( "BBNTCLSTX/CTNKEY", "{page}" ) );
    result = { items = "BBNTCINFZ";
               item = {
               notice_id     = "NTCNBR";
               notice_kind   = "OPRCOD";
               from_name     = "FRMNAM";
               from_account  = "FRMACC";      # optional
               from_bank     = "FRMBNK";
               received_date = "RCVDAT";
               claim_amount  = "CLMAMT";      # optional: recourse
               reason        = "RSNTXT";      # optional
               draft_no         = "DRFNBR";
               draft_kind       = "DRFTYP";
               amount           = "DRFAMT";      # the piece
               face_amount      = "FACAMT";      # optional: the draft
               issue_date       = "ISSDAT";
               maturity_date    = "DUEDAT";
               drawer_name      = "DRWNAM";
               drawer_account   = "DRWACC";      # optional
               drawer_bank      = "DRWBNK";
               acceptor_name    = "ACPNAM";
               acceptor_account = "ACPACC";      # optional
               acceptor_bank    = "ACPBNK";
               payee_name       = "PYENAM";
               payee_account    = "PYEACC";      # optional
               payee_bank       = "PYEBNK";
               holder_name      = "HLDNAM";      # optional
               holder_account   = "HLDACC";      # optional
               holder_bank      = "HLDBNK";      # optional
               draft_status     = "DRFSTS";
               transferable     = "TRSFLG";
               divisible        = "SPLFLG";
               sub_from         = "SUBBGN";
               sub_to           = "SUBEND"; };
               next = "BBNTCCTNZ/CTNKEY"; };
  };
  bill_history = {
    code = "BBDRFHIS";
    request = ( ( "BBDRFHISX/DRFNBR", "{draft_no}" ) );
    result = { items = "BBHISINFZ";
               item = { event_date   = "EVTDAT";
                        event_op     = "OPRCOD";
                        event        = "EVTTYP";
                        draft_status = "DRFSTS";
                        sub_from     = "SUBBGN";
                        sub_to       = "SUBEND";
                        amount       = "DRFAMT";
                        from_name    = "FRMNAM";     # optional
                        to_name      = "TONAM"; }; };  # optional
  };
  bill_pool = {
    code = "BBPOLQRY";
    request = ( ( "BBPOLQRYX/QRYTYP", "1" ) );
    result = { pool_id         = "BBPOLINFZ/POLNBR";
               as_of           = "BBPOLINFZ/QRYDAT";
               pledged_count   = "BBPOLINFZ/PLDCNT";
               pledged_total   = "BBPOLINFZ/PLDAMT";
               deposit         = "BBPOLINFZ/DPSAMT";
               quota_total     = "BBPOLINFZ/QUOTOT";
               quota_used      = "BBPOLINFZ/QUOUSD";
               quota_available = "BBPOLINFZ/QUOAVL"; };
  };

  # ---- supply-chain finance family.
  scf_financing = {
    code = "SCFINAPY";
    request = ( ( "SCFINAPYX/YURREF", "{serial}" ),
                ( "SCFINAPYX/FINTYP", "{financing_kind}" ),
                ( "SCFINAPYX/ACCNBR", "{our_account}" ),
                ( "SCFINAPYX/APPAMT", "{amount}" ),
                ( "SCFINAPYX/CCYNBR", "{currency_code}" ),
                ( "SCFINAPYX/VALDAT", "{value_date}" ),
                ( "SCFINAPYX/PRDCOD", "{product}" ),
                ( "SCFINAPYX/AGRNBR", "{agreement_ref}" ),
                ( "SCFINAPYX/CTRNBR", "{contract_ref}" ),
                ( "SCFINAPYX/INVCNT", "{count}" ),
                ( "SCFINAPYX/INVTOT", "{total}" ),
                ( "SCFINAPYX/MEMO", "{memo}" ) );
    items = "SCINVRQX";
    item = ( ( "SEQNBR", "{item_no}" ),
             ( "INVNBR", "{invoice_no}" ),
             ( "TAXCOD", "{tax_code}" ),
             ( "INVAMT", "{invoice_amount}" ),
             ( "ISSDAT", "{invoice_issue_date}" ),
             ( "DUEDAT", "{invoice_due_date}" ),
             ( "BUYNAM", "{buyer_name}" ),
             ( "SELNAM", "{seller_name}" ),
             ( "SELACC", "{seller_account}" ) );
    result = { serial      = "SCFINAPYZ/YURREF";
               status      = "SCFINAPYZ/FINSTS";
               reason_code = "SCFINAPYZ/RTNCOD";      # optional
               reason      = "SCFINAPYZ/ERRTXT";      # optional
               bank_ref    = "SCFINAPYZ/REQNBR"; };   # optional
  };
  scf_query = {
    code = "SCFINQRY";
    request = ( ( "SCFINQRYX/YURREF", "{serial}" ) );
    result = { serial           = "SCFINQRYZ/YURREF";
               status           = "SCFINQRYZ/FINSTS";
               reason_code      = "SCFINQRYZ/RTNCOD";      # optional
               reason           = "SCFINQRYZ/ERRTXT";      # optional
               bank_ref         = "SCFINQRYZ/REQNBR";      # optional
               approved_amount  = "SCFINQRYZ/APVAMT";      # optional
               rate             = "SCFINQRYZ/INTRAT";      # optional
               value_date       = "SCFINQRYZ/VALDAT";      # optional
               maturity_date    = "SCFINQRYZ/DUEDAT";      # optional
               interest         = "SCFINQRYZ/INTAMT";      # optional
               loan_ref         = "SCFINQRYZ/LONNBR";      # optional
               financed_amount  = "SCFINQRYZ/FINAMT";      # optional
               financed_date    = "SCFINQRYZ/FINDAT";      # optional
               repaid_principal = "SCFINQRYZ/RPYPRN";      # optional
               repaid_interest  = "SCFINQRYZ/RPYINT";      # optional
               repaid_date      = "SCFINQRYZ/RPYDAT";      # optional
               items = "SCINVRSZ";                         # optional
               item = { invoice_no      = "INVNBR";
                        result          = "INVSTS";
                        financed_amount = "FINAMT";        # optional
                        reason          = "ERRTXT"; }; };  # optional
  };
  scf_cancel = {
    code = "SCFINCCL";
    request = ( ( "SCFINCCLX/YURREF", "{serial}" ),
                ( "SCFINCCLX/ORGREF", "{orig_serial}" ),
                ( "SCFINCCLX/RSNTXT", "{reason}" ) );
    result = { serial      = "SCFINCCLZ/YURREF";
               status      = "SCFINCCLZ/REQSTS";
               reason_code = "SCFINCCLZ/RTNCOD";      # optional
               reason      = "SCFINCCLZ/ERRTXT";      # optional
               bank_ref    = "SCFINCCLZ/REQNBR"; };   # optional
  };
  voucher_operation = {
    code = "SCVCHOPR";
    request = ( ( "SCVCHOPRX/YURREF", "{serial}" ),
                ( "SCVCHOPRX/OPRCOD", "{voucher_op}" ),
                ( "SCVCHOPRX/VCHNBR", "{voucher_id}" ),
                ( "SCVCHOPRX/TRSAMT", "{amount}" ),
                ( "SCVCHOPRX/ACCNBR", "{our_account}" ),
                ( "SCVCHOPRX/DUEDAT", "{maturity_date}" ),
                ( "SCVCHOPRX/CPTNAM", "{cpty_name}" ),
                ( "SCVCHOPRX/CPTACC", "{cpty_account}" ),
                ( "SCVCHOPRX/CPTBNK", "{cpty_bank}" ),
                ( "SCVCHOPRX/RSNTXT", "{reason}" ),
                ( "SCVCHOPRX/MEMO", "{memo}" ) );
    result = { serial      = "SCVCHOPRZ/YURREF";
               status      = "SCVCHOPRZ/REQSTS";
               reason_code = "SCVCHOPRZ/RTNCOD";      # optional
               reason      = "SCVCHOPRZ/ERRTXT";      # optional
               bank_ref    = "SCVCHOPRZ/REQNBR";      # optional
               items = "SCVCHINFZ";                   # voucher, child
               item = {
               voucher_id      = "VCHNBR";
               root_id         = "ROTNBR";
               parent_id       = "PRTNBR";      # optional
               level           = "VCHLVL";
               issuer_name     = "ISRNAM";
               issuer_account  = "ISRACC";      # optional
               holder_name     = "HLDNAM";
               holder_account  = "HLDACC";      # optional
               holder_bank     = "HLDBNK";      # optional
               transferor_name = "TRFNAM";      # optional
               amount          = "VCHAMT";
               remaining       = "RMNAMT";
               issue_date      = "ISSDAT";
               maturity_date   = "DUEDAT";
               voucher_status  = "VCHSTS";
               financed_amount = "FINAMT";      # optional
               loan_ref        = "LONNBR";      # optional
               settled_date    = "STLDAT"; }; };  # optional
  };
  voucher_query = {
    code = "SCVCHQRY";
    request = ( ( "SCVCHQRYX/YURREF", "{serial}" ) );
    result = { serial      = "SCVCHOPRZ/YURREF";
               status      = "SCVCHOPRZ/REQSTS";
               reason_code = "SCVCHOPRZ/RTNCOD";
               reason      = "SCVCHOPRZ/ERRTXT";
               bank_ref    = "SCVCHOPRZ/REQNBR";
               items = "SCVCHINFZ";
               item = {
               voucher_id      = "VCHNBR";
               root_id         = "ROTNBR";
               parent_id       = "PRTNBR";      # optional
               level           = "VCHLVL";
               issuer_name     = "ISRNAM";
               issuer_account  = "ISRACC";      # optional
               holder_name     = "HLDNAM";
               holder_account  = "HLDACC";      # optional
               holder_bank     = "HLDBNK";      # optional
               transferor_name = "TRFNAM";      # optional
               amount          = "VCHAMT";
               remaining       = "RMNAMT";
               issue_date      = "ISSDAT";
               maturity_date   = "DUEDAT";
               voucher_status  = "VCHSTS";
               financed_amount = "FINAMT";      # optional
               loan_ref        = "LONNBR";      # optional
               settled_date    = "STLDAT"; }; };  # optional
  };
  voucher_list = {
    code = "SCVCHLST";
    request = ( ( "SCVCHLSTX/HLDTYP", "{holder}" ),
                ( "SCVCHLSTX/CTNKEY", "{page}" ) );
    result = { items = "SCVCHINFZ";
               item = {
               voucher_id      = "VCHNBR";
               root_id         = "ROTNBR";
               parent_id       = "PRTNBR";      # optional
               level           = "VCHLVL";
               issuer_name     = "ISRNAM";
               issuer_account  = "ISRACC";      # optional
               holder_name     = "HLDNAM";
               holder_account  = "HLDACC";      # optional
               holder_bank     = "HLDBNK";      # optional
               transferor_name = "TRFNAM";      # optional
               amount          = "VCHAMT";
               remaining       = "RMNAMT";
               issue_date      = "ISSDAT";
               maturity_date   = "DUEDAT";
               voucher_status  = "VCHSTS";
               financed_amount = "FINAMT";      # optional
               loan_ref        = "LONNBR";      # optional
               settled_date    = "STLDAT"; };     # optional
               next = "SCVCHCTNZ/CTNKEY"; };
  };
};

# The bank's status values -> ISO 20022 status (PDNG pending; ACSC or ACCP
# accepted; RJCT rejected), for payments, payroll batches and items. A
# value not listed leaves the payment where it is and is logged.
status_map = ( ( "BNK", "PDNG" ),     # at the bank, being processed
               ( "AUT", "PDNG" ),     # waiting for approval
               ( "FIN", "ACSC" ),     # done, booked
               ( "REJ", "RJCT" ) );   # refused (reason in ERRTXT)

# ---- value tables of the bill pool and SCF families (PROFILE.md) --------
bill_ops = ( ( "issue", "01" ),               # 出票登记
             ( "present_acceptance", "02" ),  # 提示承兑
             ( "present_receipt", "03" ),     # 提示收票
             ( "endorse", "10" ),             # 背书转让
             ( "discount", "20" ),            # 贴现
             ( "pledge", "30" ),              # 质押入池
             ( "release", "31" ),             # 出池 / 解质押
             ( "present_payment", "40" ),     # 提示付款
             ( "recourse", "50" ),            # 追索
             ( "withdraw", "60" ),            # 撤回 / 撤票
             ( "sign", "70" ),                # 签收
             ( "refuse", "71" ) );            # 驳回 / 拒付
draft_kinds = ( ( "AC01", "1" ),              # 银行承兑汇票
                ( "AC02", "2" ) );            # 商业承兑汇票
draft_status_map = ( ( "registered", "000001" ),
                     ( "pending_acceptance", "010004" ),
                     ( "accepted", "020001" ),
                     ( "pending_receipt", "020006" ),
                     ( "delivered", "030001" ),
                     ( "held", "030004" ),
                     ( "pending_endorsement", "100001" ),
                     ( "endorsed", "100006" ),
                     ( "pending_discount", "110101" ),
                     ( "discounted", "110106" ),
                     ( "pending_pledge", "170001" ),
                     ( "pledged", "170006" ),
                     ( "pending_release", "180001" ),
                     ( "pending_payment", "200001" ),
                     ( "paid", "200006" ),
                     ( "dishonoured", "200009" ),
                     ( "pending_recourse", "210001" ),
                     ( "recourse_settled", "210006" ),
                     ( "withdrawn", "900001" ),
                     ( "refused", "900006" ),
                     ( "liable", "900009" ) );
request_results = ( ( "accepted", "S" ),      # took effect
                    ( "pending", "P" ),       # awaits the counterparty
                    ( "rejected", "F" ) );    # refused (RTNCOD, ERRTXT)
yes_no = ( "Y", "N" );
financing_kinds = ( ( "receivable", "01" ),          # 应收账款融资
                    ( "reverse_factoring", "02" ) ); # 反向保理
financing_status_map = ( ( "submitted", "10" ),
                         ( "under_review", "20" ),
                         ( "approved", "30" ),
                         ( "rejected", "40" ),
                         ( "financed", "50" ),
                         ( "repaid", "60" ),
                         ( "cancelled", "90" ) );
voucher_ops = ( ( "issue", "K" ),      # 开立
                ( "sign", "Q" ),       # 签收
                ( "refuse", "J" ),     # 拒签
                ( "withdraw", "C" ),   # 撤销
                ( "transfer", "Z" ),   # 拆分转让
                ( "finance", "R" ),    # 融资
                ( "settle", "D" ) );   # 兑付
voucher_status_map = ( ( "pending", "0" ),
                       ( "held", "1" ),
                       ( "financed", "2" ),
                       ( "settled", "3" ),
                       ( "refused", "8" ),
                       ( "withdrawn", "9" ) );
