# icbc-style.profile - a cnbank_xml bank profile modelled on ICBC's NC
# front end: a CMS/eb envelope with a `pub` header and an `in` body
# (answers in `out`), GB18030, amounts in fen, a plain TCP socket on
# loopback with a 6-digit length prefix, the request's CMS signature inside
# the envelope, and lists paged by page number with a "more" flag.
#
# Read cmb-style.profile first: it explains the common ideas (paths,
# templates, tokens, codes). This file comments what differs.
# adapters/cnbank_xml/PROFILE.md is the reference for every setting.
#
# Transaction codes and element names follow public ICBC samples (PAYENT,
# QPAYENT, QACCBAL, QHISD, QEBILL, DownEBill, fSeqno, OnlySequence,
# Drcrf, ...); PAYPER / QPAYPER, the page number, the signature element
# and the error codes are this profile's own (the simulator's bank).
# Dates are written with dashes here, unlike ICBC's yyyymmdd, so that the
# two shipped profiles exercise two date forms.

profile_version = 1;
name = "icbc-style";
description = "ICBC NC style: CMS/eb/pub + in/out, GB18030, fen, "
              "6-digit length-prefixed TCP, CMS signature in eb/pub/SignData, "
              "page number + more flag";

# GB18030 can represent every Unicode character, so nothing is refused for
# its charset here (names are still checked against limits).
encoding = "GB18030";

# A plain TCP socket (host/port in h2hd.conf; loopback only: the front end
# runs on the customer's own machine and holds the USB key). One request
# per connection: send the length and the XML, read the length and the
# answer; the front end then closes the connection.
framing = "tcp";

# framing "tcp" only: the length prefix, ASCII decimal, zero-padded to
# `digits` digits ("000321"), counting the bytes of the XML that follows
# (the only `counts` there is). Answers carry the same prefix.
length = {
  digits = 6;
  counts = "bytes";
};

# Integer fen: 1234.50 yuan is written "123450"; no point, no fraction.
amount_unit = "fen";

date_format = "%Y-%m-%d";
time_format = "%H:%M:%S";
utc_offset = "+08:00";

currency_codes = ( ( "CNY", "001" ),
                   ( "HKD", "013" ),
                   ( "USD", "014" ) );

limits = {
  serial      = 30;
  name        = 60;
  remittance  = 40;
  bank_name   = 60;
  batch_items = 200;
};

envelope = {
  root = "CMS";
  # TransCode carries the function code; CIS the customer number (login),
  # ID the user (certificate) id; fSeqno is a unique id per request
  # (payments and payroll override it with their serial, below).
  header = ( ( "eb/pub/TransCode", "{function}" ),
             ( "eb/pub/CIS", "{login}" ),
             ( "eb/pub/BankCode", "102" ),          # ICBC's bank code
             ( "eb/pub/ID", "{user}" ),
             ( "eb/pub/TranDate", "{date}" ),
             ( "eb/pub/TranTime", "{time}" ),
             ( "eb/pub/fSeqno", "{request_id}" ) );
  body = "eb/in";             # requests: <CMS><eb><pub/><in/></eb></CMS>
  response_body = "eb/out";   # answers:  <CMS><eb><pub/><out/></eb></CMS>
};

response = {
  code    = "eb/pub/RetCode";
  message = "eb/pub/RetMsg";
  echo    = ( "eb/pub/TransCode", "eb/pub/CIS", "eb/pub/fSeqno" );
  ok        = ( "0" );
  busy      = ( "9999" );
  not_found = ( "B0116" );
  errors = {
    format    = "B0001";
    signature = "B0002";
    login     = "B0003";
    invalid   = "B0004";
    duplicate = "B0005";
    account   = "B0007";
  };
};

signature = {
  # "element": the request carries standard base64 of the CMS as the text
  # of this element. The CMS is made over the exact request bytes (length
  # prefix not included) in which the element is present but empty,
  # written <SignData></SignData>; then the base64 is put between the two
  # tags and nothing else changes. The verifier cuts it out again.
  where   = "element";
  element = "eb/pub/SignData";

  # The bank signs its answers the same way, in this element.
  response         = "element";
  response_element = "eb/pub/SignData";
};

paging = {
  # "page": {page} is `first` on the first request, then first+1, ...;
  # each answer says in the function's result.more whether there are more
  # pages: `more_value` = yes, anything else (the bank writes
  # `last_value`) = this was the last page.
  style      = "page";
  first      = 1;
  more_value = "1";
  last_value = "0";
};

functions = {

  payment = {
    code = "PAYENT";
    # Header entries of this function that replace the envelope's (same
    # path): the package id fSeqno IS the payment's serial, the key that
    # QPAYENT asks by.
    header = ( ( "eb/pub/fSeqno", "{serial}" ) );
    request = ( ( "OnlBatF", "1" ),                 # online
                ( "SettleMode", "0" ),              # item by item
                ( "TotalNum", "1" ),
                ( "TotalAmt", "{amount}" ),         # = PayAmt
                ( "rd/iSeqno", "1" ),
                ( "rd/PayType", "1" ),              # 1 urgent, 2 normal
                ( "rd/PayAccNo", "{debtor_account}" ),
                ( "rd/PayAccNameCN", "{debtor_name}" ),
                ( "rd/RecAccNo", "{creditor_account}" ),
                ( "rd/RecAccNameCN", "{creditor_name}" ),
                ( "rd/RecBankName", "{creditor_bank}" ),
                ( "rd/CurrType", "{currency_code}" ),
                ( "rd/PayAmt", "{amount}" ),
                ( "rd/UseCN", "{remittance}" ) );
    result = { serial   = "fSeqno";
               status   = "rd/Result";
               reason   = "rd/iRetMsg";
               bank_ref = "rd/OrderNo"; };
  };

  payment_status = {
    code = "QPAYENT";
    request = ( ( "QryfSeqno", "{serial}" ),
                ( "QrySerialNo", "" ) );            # empty: whole package
    result = { serial   = "QryfSeqno";
               status   = "rd/Result";
               reason   = "rd/iRetMsg";
               bank_ref = "rd/OrderNo";
               amount   = "rd/PayAmt"; };
  };

  payroll = {
    code = "PAYPER";
    header = ( ( "eb/pub/fSeqno", "{serial}" ) );
    request = ( ( "PayAccNo", "{debtor_account}" ),
                ( "PayAccNameCN", "{debtor_name}" ),
                ( "CurrType", "{currency_code}" ),
                ( "TotalNum", "{count}" ),
                ( "TotalAmt", "{total}" ),
                ( "Summary", "代发工资" ) );
    items = "rd";
    item = ( ( "iSeqno", "{item_no}" ),
             ( "RecAccNo", "{creditor_account}" ),
             ( "RecAccNameCN", "{creditor_name}" ),
             ( "RecBankName", "{creditor_bank}" ),
             ( "PayAmt", "{amount}" ),
             ( "UseCN", "{remittance}" ) );
    result = { serial   = "fSeqno";
               status   = "Result";
               reason   = "RetMsg";
               bank_ref = "OrderNo"; };
  };

  payroll_result = {
    code = "QPAYPER";
    request = ( ( "QryfSeqno", "{serial}" ) );
    result = { serial   = "QryfSeqno";
               status   = "Result";
               bank_ref = "OrderNo";
               items    = "rd";
               item = { item_no          = "iSeqno";
                        creditor_account = "RecAccNo";
                        creditor_name    = "RecAccNameCN";
                        amount           = "PayAmt";
                        status           = "Result";
                        reason           = "iRetMsg"; }; };
  };

  balance = {
    code = "QACCBAL";
    request = ( ( "TotalNum", "1" ),
                ( "rd/AccNo", "{account}" ) );
    result = { account   = "rd/AccNo";
               name      = "rd/AccName";
               currency  = "rd/CurrType";
               balance   = "rd/AccBalance";
               available = "rd/UsableBalance"; };
  };

  transactions = {
    code = "QHISD";
    request = ( ( "AccNo", "{account}" ),
                ( "BeginDate", "{from}" ),
                ( "EndDate", "{to}" ),
                ( "PageNo", "{page}" ) );
    result = {
      items = "rd";
      item = { entry_id             = "OnlySequence";
               booking_date         = "Date";
               value_date           = "ValueDate";
               amount               = "Amount";
               currency             = "CurrType";
               credit_debit         = "Drcrf";
               debit_value          = "1";          # 借
               credit_value         = "2";          # 贷
               counterparty_name    = "RecipName";
               counterparty_account = "RecipAccNo";
               counterparty_bank    = "RecipBkName";
               remittance           = "UseCN";
               serial               = "Ref";
               bank_ref             = "VouhNo"; };
      more = "MoreFlag";                            # page style
    };
  };

  receipts = {
    code = "QEBILL";
    request = ( ( "AccNo", "{account}" ),
                ( "BeginDate", "{from}" ),
                ( "EndDate", "{to}" ),
                ( "PageNo", "{page}" ) );
    result = {
      items = "rd";
      item = { receipt_id        = "EBillNo";
               entry_id          = "OnlySequence";
               serial            = "Ref";
               booking_date      = "Date";
               amount            = "Amount";
               credit_debit      = "Drcrf";
               debit_value       = "1";
               credit_value      = "2";
               counterparty_name = "RecipName"; };
      more = "MoreFlag";
    };
  };

  receipt_download = {
    code = "DownEBill";
    request = ( ( "EBillNo", "{receipt_id}" ) );
    result = { receipt_id = "EBillNo";
               name       = "FileName";
               content    = "FileContent"; };
    content_encoding = "base64";
  };
};

# ICBC's Result codes (subset).
status_map = ( ( "9", "PDNG" ),     # 银行正在处理 being processed
               ( "0", "PDNG" ),     # 提交成功 submitted
               ( "4", "PDNG" ),     # 等待银行答复 waiting for the bank
               ( "7", "ACSC" ),     # 处理成功 done
               ( "6", "RJCT" ),     # 被银行拒绝 refused by the bank
               ( "8", "RJCT" ) );   # 指令被拒绝授权 authorisation refused
