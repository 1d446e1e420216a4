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

  # ---- bill pool (票据池) family, optional: PROFILE.md "Bill pool and
  # supply-chain finance". A family is all of its functions or none, and
  # brings its value tables (at the end of this file). Differences from
  # cmb-style: operations carry their serial in the header's fSeqno (as
  # PAYENT does) and queries ask by QryfSeqno; the request fields lie flat
  # in eb/in; lists use PageNo / MoreFlag; amounts in fen, dates with
  # dashes, yes/no as 1/0, draft and voucher rows repeat as `rd`.
  #
  # Every draft operation, told apart by OprType (bill_ops). A field that
  # does not apply to the operation is sent as an empty element.
  bill_operation = {
    code = "BILLOPR";
    header = ( ( "eb/pub/fSeqno", "{serial}" ) );
    request = ( ( "OprType", "{bill_op}" ),
                ( "BillNo", "{draft_no}" ),         # 30 digits; empty: issue
                ( "SubBillBeg", "{sub_from}" ),     # sub-tickets; both empty:
                ( "SubBillEnd", "{sub_to}" ),       #   the whole piece
                ( "Amount", "{amount}" ),           # fen
                ( "AccNo", "{our_account}" ),
                ( "BillType", "{draft_kind}" ),     # issue only, and below
                ( "IssueDate", "{issue_date}" ),
                ( "DueDate", "{maturity_date}" ),
                ( "TransFlag", "{transferable}" ),
                ( "SplitFlag", "{divisible}" ),
                ( "AcptName", "{acceptor_name}" ),
                ( "AcptAccNo", "{acceptor_account}" ),
                ( "AcptBankNo", "{acceptor_bank}" ),  # 12-digit CNAPS code
                ( "PayeeName", "{payee_name}" ),
                ( "PayeeAccNo", "{payee_account}" ),
                ( "PayeeBankNo", "{payee_bank}" ),
                ( "CpName", "{cpty_name}" ),        # endorsee, bank, pledgee,
                ( "CpAccNo", "{cpty_account}" ),    #   party claimed from
                ( "CpBankNo", "{cpty_bank}" ),
                ( "Rate", "{rate}" ),               # discount, percent p.a.
                ( "OprDate", "{op_date}" ),         # discount date
                ( "PoolNo", "{pool_id}" ),          # pledge / release
                ( "NoticeNo", "{notice_id}" ),      # sign / refuse
                ( "OverdueFlag", "{overdue}" ),     # yes_no
                ( "Reason", "{reason}" ),
                ( "Summary", "{memo}" ) );
    # The outcome (request_results), the bank's business code and text
    # when rejected, and the pieces concerned after the operation.
    result = { serial      = "fSeqno";
               status      = "Result";
               reason_code = "iRetCode";
               reason      = "iRetMsg";
               bank_ref    = "OrderNo";
               items       = "rd";
               item = { draft_no         = "BillNo";
                        draft_kind       = "BillType";
                        amount           = "BillAmt";      # the piece
                        face_amount      = "FaceAmt";      # the draft
                        issue_date       = "IssueDate";
                        maturity_date    = "DueDate";
                        drawer_name      = "DrawerName";
                        drawer_account   = "DrawerAccNo";
                        drawer_bank      = "DrawerBankNo";
                        acceptor_name    = "AcptName";
                        acceptor_account = "AcptAccNo";
                        acceptor_bank    = "AcptBankNo";
                        payee_name       = "PayeeName";
                        payee_account    = "PayeeAccNo";
                        payee_bank       = "PayeeBankNo";
                        holder_name      = "HolderName";
                        holder_account   = "HolderAccNo";
                        holder_bank      = "HolderBankNo";
                        draft_status     = "BillStatus";
                        transferable     = "TransFlag";
                        divisible        = "SplitFlag";
                        sub_from         = "SubBillBeg";
                        sub_to           = "SubBillEnd"; }; };
  };

  # The current outcome of a bill operation, by its serial (pending until
  # the counterparty signs or refuses). A serial never seen: not_found.
  bill_query = {
    code = "QBILLOPR";
    request = ( ( "QryfSeqno", "{serial}" ) );
    result = { serial      = "QryfSeqno";
               status      = "Result";
               reason_code = "iRetCode";
               reason      = "iRetMsg";
               bank_ref    = "OrderNo";
               items       = "rd";
               item = { draft_no         = "BillNo";
                        draft_kind       = "BillType";
                        amount           = "BillAmt";      # the piece
                        face_amount      = "FaceAmt";      # the draft
                        issue_date       = "IssueDate";
                        maturity_date    = "DueDate";
                        drawer_name      = "DrawerName";
                        drawer_account   = "DrawerAccNo";
                        drawer_bank      = "DrawerBankNo";
                        acceptor_name    = "AcptName";
                        acceptor_account = "AcptAccNo";
                        acceptor_bank    = "AcptBankNo";
                        payee_name       = "PayeeName";
                        payee_account    = "PayeeAccNo";
                        payee_bank       = "PayeeBankNo";
                        holder_name      = "HolderName";
                        holder_account   = "HolderAccNo";
                        holder_bank      = "HolderBankNo";
                        draft_status     = "BillStatus";
                        transferable     = "TransFlag";
                        divisible        = "SplitFlag";
                        sub_from         = "SubBillBeg";
                        sub_to           = "SubBillEnd"; }; };
  };

  # Our drafts (held, pledged, in flight), filtered; each filter may be
  # empty (= any).
  bill_drafts = {
    code = "QBILLLST";
    request = ( ( "BillStatus", "{draft_status}" ),  # draft_status_map value
                ( "DueDateBeg", "{maturity_from}" ),
                ( "DueDateEnd", "{maturity_to}" ),
                ( "PageNo", "{page}" ) );
    result = { items = "rd";
               item = { draft_no         = "BillNo";
                        draft_kind       = "BillType";
                        amount           = "BillAmt";      # the piece
                        face_amount      = "FaceAmt";      # the draft
                        issue_date       = "IssueDate";
                        maturity_date    = "DueDate";
                        drawer_name      = "DrawerName";
                        drawer_account   = "DrawerAccNo";
                        drawer_bank      = "DrawerBankNo";
                        acceptor_name    = "AcptName";
                        acceptor_account = "AcptAccNo";
                        acceptor_bank    = "AcptBankNo";
                        payee_name       = "PayeeName";
                        payee_account    = "PayeeAccNo";
                        payee_bank       = "PayeeBankNo";
                        holder_name      = "HolderName";
                        holder_account   = "HolderAccNo";
                        holder_bank      = "HolderBankNo";
                        draft_status     = "BillStatus";
                        transferable     = "TransFlag";
                        divisible        = "SplitFlag";
                        sub_from         = "SubBillBeg";
                        sub_to           = "SubBillEnd"; };
               more = "MoreFlag"; };
  };

  # Drafts presented to us (to sign or refuse by NoticeNo), with the
  # draft as presented.
  bill_notices = {
    code = "QBILLNTC";
    request = ( ( "PageNo", "{page}" ) );
    result = { items = "rd";
               item = { notice_id        = "NoticeNo";
                        notice_kind      = "OprType";     # a bill_ops value
                        from_name        = "FromName";
                        from_account     = "FromAccNo";
                        from_bank        = "FromBankNo";
                        received_date    = "RecvDate";
                        claim_amount     = "ClaimAmt";    # recourse
                        reason           = "Reason";
                        draft_no         = "BillNo";
                        draft_kind       = "BillType";
                        amount           = "BillAmt";      # the piece
                        face_amount      = "FaceAmt";      # the draft
                        issue_date       = "IssueDate";
                        maturity_date    = "DueDate";
                        drawer_name      = "DrawerName";
                        drawer_account   = "DrawerAccNo";
                        drawer_bank      = "DrawerBankNo";
                        acceptor_name    = "AcptName";
                        acceptor_account = "AcptAccNo";
                        acceptor_bank    = "AcptBankNo";
                        payee_name       = "PayeeName";
                        payee_account    = "PayeeAccNo";
                        payee_bank       = "PayeeBankNo";
                        holder_name      = "HolderName";
                        holder_account   = "HolderAccNo";
                        holder_bank      = "HolderBankNo";
                        draft_status     = "BillStatus";
                        transferable     = "TransFlag";
                        divisible        = "SplitFlag";
                        sub_from         = "SubBillBeg";
                        sub_to           = "SubBillEnd"; };
               more = "MoreFlag"; };
  };

  # One draft's history, oldest first.
  bill_history = {
    code = "QBILLHIS";
    request = ( ( "BillNo", "{draft_no}" ) );
    result = { items = "rd";
               item = { event_date   = "EventDate";
                        event_op     = "OprType";        # a bill_ops value
                        event        = "EventType";      # registered ...
                        draft_status = "BillStatus";
                        sub_from     = "SubBillBeg";
                        sub_to       = "SubBillEnd";
                        amount       = "Amount";
                        from_name    = "FromName";
                        to_name      = "ToName"; }; };
  };

  # The pool's figures (no parameters; QryType is fixed).
  bill_pool = {
    code = "QBILLPOOL";
    request = ( ( "QryType", "0" ) );
    result = { pool_id         = "PoolNo";
               as_of           = "QryDate";
               pledged_count   = "PledgeNum";
               pledged_total   = "PledgeAmt";
               deposit         = "DepositAmt";
               quota_total     = "QuotaAmt";
               quota_used      = "UsedAmt";
               quota_available = "AvailAmt"; };
  };

  # ---- supply-chain finance family, optional (all six or none).
  #
  # A financing application with its invoices (one `rd` per invoice,
  # numbered by iSeqno; TotalNum / TotalAmt are checked against them).
  scf_financing = {
    code = "SCFAPPLY";
    header = ( ( "eb/pub/fSeqno", "{serial}" ) );
    request = ( ( "FinType", "{financing_kind}" ),
                ( "AccNo", "{our_account}" ),
                ( "ApplyAmt", "{amount}" ),
                ( "CurrType", "{currency_code}" ),
                ( "ValueDate", "{value_date}" ),    # may be empty
                ( "ProductCode", "{product}" ),
                ( "AgreementNo", "{agreement_ref}" ),
                ( "ContractNo", "{contract_ref}" ), # may be empty
                ( "TotalNum", "{count}" ),
                ( "TotalAmt", "{total}" ),
                ( "Summary", "{memo}" ) );
    items = "rd";
    item = ( ( "iSeqno", "{item_no}" ),
             ( "InvoiceNo", "{invoice_no}" ),
             ( "TaxCode", "{tax_code}" ),
             ( "InvoiceAmt", "{invoice_amount}" ),
             ( "InvIssueDate", "{invoice_issue_date}" ),
             ( "InvDueDate", "{invoice_due_date}" ),
             ( "BuyerName", "{buyer_name}" ),
             ( "SellerName", "{seller_name}" ),
             ( "SellerAccNo", "{seller_account}" ) );  # reverse factoring
    result = { serial      = "fSeqno";
               status      = "FinStatus";          # financing_status_map
               reason_code = "iRetCode";
               reason      = "iRetMsg";
               bank_ref    = "OrderNo"; };
  };

  # A financing's current status and terms, by its serial.
  scf_query = {
    code = "QSCFAPPLY";
    request = ( ( "QryfSeqno", "{serial}" ) );
    result = { serial           = "QryfSeqno";
               status           = "FinStatus";
               reason_code      = "iRetCode";
               reason           = "iRetMsg";
               bank_ref         = "OrderNo";
               approved_amount  = "ApproveAmt";
               rate             = "Rate";
               value_date       = "ValueDate";
               maturity_date    = "DueDate";
               interest         = "Interest";
               loan_ref         = "LoanNo";
               financed_amount  = "FinAmt";
               financed_date    = "FinDate";
               repaid_principal = "RepayPrin";
               repaid_interest  = "RepayInt";
               repaid_date      = "RepayDate";
               items            = "rd";             # one per invoice
               item = { invoice_no      = "InvoiceNo";
                        result          = "Result";  # request_results
                        financed_amount = "FinAmt";
                        reason          = "iRetMsg"; }; };
  };

  # Cancel a financing not yet disbursed; its own serial in fSeqno, the
  # financing's in OrigfSeqno.
  scf_cancel = {
    code = "SCFCANCEL";
    header = ( ( "eb/pub/fSeqno", "{serial}" ) );
    request = ( ( "OrigfSeqno", "{orig_serial}" ),
                ( "Reason", "{reason}" ) );
    result = { serial      = "fSeqno";
               status      = "Result";              # request_results
               reason_code = "iRetCode";
               reason      = "iRetMsg";
               bank_ref    = "OrderNo"; };
  };

  # Every credit-voucher (电子债权凭证) operation, told apart by OprType
  # (voucher_ops). Answers: the voucher, then a transfer's new child.
  voucher_operation = {
    code = "ECVOPR";
    header = ( ( "eb/pub/fSeqno", "{serial}" ) );
    request = ( ( "OprType", "{voucher_op}" ),
                ( "VoucherNo", "{voucher_id}" ),    # empty: issue
                ( "Amount", "{amount}" ),
                ( "AccNo", "{our_account}" ),
                ( "DueDate", "{maturity_date}" ),   # issue only
                ( "CpName", "{cpty_name}" ),        # the receiver
                ( "CpAccNo", "{cpty_account}" ),
                ( "CpBankNo", "{cpty_bank}" ),
                ( "Reason", "{reason}" ),
                ( "Summary", "{memo}" ) );
    result = { serial      = "fSeqno";
               status      = "Result";              # request_results
               reason_code = "iRetCode";
               reason      = "iRetMsg";
               bank_ref    = "OrderNo";
               items       = "rd";
               item = { voucher_id      = "VoucherNo";
                        root_id         = "RootNo";
                        parent_id       = "ParentNo";
                        level           = "Level";
                        issuer_name     = "IssuerName";
                        issuer_account  = "IssuerAccNo";
                        holder_name     = "HolderName";
                        holder_account  = "HolderAccNo";
                        holder_bank     = "HolderBankNo";
                        transferor_name = "TransferorName";
                        amount          = "VoucherAmt";
                        remaining       = "RemainAmt";
                        issue_date      = "IssueDate";
                        maturity_date   = "DueDate";
                        voucher_status  = "VoucherStatus";
                        financed_amount = "FinAmt";
                        loan_ref        = "LoanNo";
                        settled_date    = "SettleDate"; }; };
  };

  voucher_query = {
    code = "QECVOPR";
    request = ( ( "QryfSeqno", "{serial}" ) );
    result = { serial      = "QryfSeqno";
               status      = "Result";
               reason_code = "iRetCode";
               reason      = "iRetMsg";
               bank_ref    = "OrderNo";
               items       = "rd";
               item = { voucher_id      = "VoucherNo";
                        root_id         = "RootNo";
                        parent_id       = "ParentNo";
                        level           = "Level";
                        issuer_name     = "IssuerName";
                        issuer_account  = "IssuerAccNo";
                        holder_name     = "HolderName";
                        holder_account  = "HolderAccNo";
                        holder_bank     = "HolderBankNo";
                        transferor_name = "TransferorName";
                        amount          = "VoucherAmt";
                        remaining       = "RemainAmt";
                        issue_date      = "IssueDate";
                        maturity_date   = "DueDate";
                        voucher_status  = "VoucherStatus";
                        financed_amount = "FinAmt";
                        loan_ref        = "LoanNo";
                        settled_date    = "SettleDate"; }; };
  };

  # Vouchers held by us ("us") or issued by us and held by others
  # ("others").
  voucher_list = {
    code = "QECVLST";
    request = ( ( "HolderType", "{holder}" ),
                ( "PageNo", "{page}" ) );
    result = { items = "rd";
               item = { voucher_id      = "VoucherNo";
                        root_id         = "RootNo";
                        parent_id       = "ParentNo";
                        level           = "Level";
                        issuer_name     = "IssuerName";
                        issuer_account  = "IssuerAccNo";
                        holder_name     = "HolderName";
                        holder_account  = "HolderAccNo";
                        holder_bank     = "HolderBankNo";
                        transferor_name = "TransferorName";
                        amount          = "VoucherAmt";
                        remaining       = "RemainAmt";
                        issue_date      = "IssueDate";
                        maturity_date   = "DueDate";
                        voucher_status  = "VoucherStatus";
                        financed_amount = "FinAmt";
                        loan_ref        = "LoanNo";
                        settled_date    = "SettleDate"; };
               more = "MoreFlag"; };
  };
};

# ICBC's Result codes (subset).
status_map = ( ( "9", "PDNG" ),     # 银行正在处理 being processed
               ( "0", "PDNG" ),     # 提交成功 submitted
               ( "4", "PDNG" ),     # 等待银行答复 waiting for the bank
               ( "7", "ACSC" ),     # 处理成功 done
               ( "6", "RJCT" ),     # 被银行拒绝 refused by the bank
               ( "8", "RJCT" ) );   # 指令被拒绝授权 authorisation refused

# ---- value tables of the bill pool and SCF families (PROFILE.md): h2hd's
# name, the bank's value; every name listed, both sides unique. The codes
# are this profile's own (cmb-style uses others, so that the two shipped
# profiles exercise the translation).
bill_ops = ( ( "issue", "BL01" ),               # 出票登记
             ( "present_acceptance", "BL02" ),  # 提示承兑
             ( "present_receipt", "BL03" ),     # 提示收票
             ( "endorse", "BL10" ),             # 背书转让
             ( "discount", "BL11" ),            # 贴现
             ( "pledge", "BL17" ),              # 质押
             ( "release", "BL18" ),             # 解质押
             ( "present_payment", "BL20" ),     # 提示付款
             ( "recourse", "BL21" ),            # 追索
             ( "withdraw", "BL90" ),            # 撤回
             ( "sign", "BL98" ),                # 签收
             ( "refuse", "BL99" ) );            # 驳回
draft_kinds = ( ( "AC01", "YC" ),               # 银承
                ( "AC02", "SC" ) );             # 商承
draft_status_map = ( ( "registered", "01" ),
                     ( "pending_acceptance", "02" ),
                     ( "accepted", "03" ),
                     ( "pending_receipt", "04" ),
                     ( "delivered", "05" ),
                     ( "held", "06" ),
                     ( "pending_endorsement", "10" ),
                     ( "endorsed", "11" ),
                     ( "pending_discount", "12" ),
                     ( "discounted", "13" ),
                     ( "pending_pledge", "14" ),
                     ( "pledged", "15" ),
                     ( "pending_release", "16" ),
                     ( "pending_payment", "20" ),
                     ( "paid", "21" ),
                     ( "dishonoured", "22" ),
                     ( "pending_recourse", "23" ),
                     ( "recourse_settled", "24" ),
                     ( "withdrawn", "30" ),
                     ( "refused", "31" ),
                     ( "liable", "32" ) );
# Like the payment Result codes above: 7 done, 9 in process, 6 refused.
request_results = ( ( "accepted", "7" ),
                    ( "pending", "9" ),
                    ( "rejected", "6" ) );
yes_no = ( "1", "0" );
financing_kinds = ( ( "receivable", "YSZK" ),          # 应收账款融资
                    ( "reverse_factoring", "FXBL" ) ); # 反向保理
financing_status_map = ( ( "submitted", "0" ),
                         ( "under_review", "1" ),
                         ( "approved", "2" ),
                         ( "rejected", "6" ),
                         ( "financed", "7" ),
                         ( "repaid", "8" ),
                         ( "cancelled", "9" ) );
voucher_ops = ( ( "issue", "01" ),      # 开立
                ( "sign", "02" ),       # 签收
                ( "refuse", "03" ),     # 拒签
                ( "withdraw", "04" ),   # 撤销
                ( "transfer", "05" ),   # 拆分转让
                ( "finance", "06" ),    # 融资
                ( "settle", "07" ) );   # 兑付
voucher_status_map = ( ( "pending", "00" ),
                       ( "held", "01" ),
                       ( "financed", "02" ),
                       ( "settled", "03" ),
                       ( "refused", "06" ),
                       ( "withdrawn", "09" ) );
