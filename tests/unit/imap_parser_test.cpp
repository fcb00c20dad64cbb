// SPDX-License-Identifier: GPL-3.0-or-later
// Parser tables: every row is fed whole and one byte at a time, and both must give
// the expected responses and errors.
#include "imap_parser_rows.hpp"

#include <uidsync/imap/parser.hpp>

#include "support/table.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace uidsync::imap {
namespace {

using namespace rows;
using S = Status;
using namespace std::string_literals;

Fetch fetch_of(std::uint32_t seq) {
  Fetch f;
  f.seq = seq;
  return f;
}

Response with_uid_flags(std::uint32_t seq, core::Uid uid, std::vector<std::string> flags) {
  auto f = fetch_of(seq);
  f.uid = uid;
  f.flags = std::move(flags);
  return Response{f};
}

// Rows grouped by response kind. Quirk rows name the server and the rule it breaks.
std::vector<ParserRow> tagged_rows() {
  return {
      {"tagged_ok", "a1 OK done\r\n", {tagged("a1", S::ok, "done")}},
      {"tagged_no", "a2 NO no such folder\r\n", {tagged("a2", S::no, "no such folder")}},
      {"tagged_bad", "a3 BAD syntax\r\n", {tagged("a3", S::bad, "syntax")}},
      {"tagged_lowercase_status", "a4 ok fine\r\n", {tagged("a4", S::ok, "fine")}},
      // RFC 3501 §7.1 requires SP text; a bare "a5 OK\r\n" is accepted.
      {"tagged_without_text", "a5 OK\r\n", {tagged("a5", S::ok, "")}},
      {"tagged_bare_lf", "a6 OK done\n", {tagged("a6", S::ok, "done")}},
      {"tagged_curly_text_is_not_a_literal", "a7 OK see {5}\r\n", {tagged("a7", S::ok, "see {5}")}},
      {"tagged_alert", "a8 NO [ALERT] mailbox full\r\n",
       {tagged("a8", S::no, "mailbox full", code(Kind::alert, "ALERT"))}},
      {"tagged_parse", "a9 NO [PARSE] bad header\r\n",
       {tagged("a9", S::no, "bad header", code(Kind::parse, "PARSE"))}},
      {"tagged_read_only", "b1 OK [READ-ONLY] EXAMINE done\r\n",
       {tagged("b1", S::ok, "EXAMINE done", code(Kind::read_only, "READ-ONLY"))}},
      {"tagged_read_write", "b2 OK [READ-WRITE] SELECT done\r\n",
       {tagged("b2", S::ok, "SELECT done", code(Kind::read_write, "READ-WRITE"))}},
      {"tagged_trycreate", "b3 NO [TRYCREATE] no folder\r\n",
       {tagged("b3", S::no, "no folder", code(Kind::trycreate, "TRYCREATE"))}},
      {"tagged_lowercase_code", "b4 OK [read-write] ok\r\n",
       {tagged("b4", S::ok, "ok", code(Kind::read_write, "READ-WRITE"))}},
      {"tagged_code_without_text", "b5 OK [READ-ONLY]\r\n",
       {tagged("b5", S::ok, "", code(Kind::read_only, "READ-ONLY"))}},
      {"tagged_appenduid", "b6 OK [APPENDUID 38505 3955] APPEND completed\r\n",
       {tagged("b6", S::ok, "APPEND completed",
               [] {
                 auto c = code_number(Kind::appenduid, "APPENDUID", 38505);
                 c.uids = uids("3955");
                 return c;
               }())}},
      {"tagged_appenduid_set", "b7 OK [APPENDUID 1 10:12] done\r\n",
       {tagged("b7", S::ok, "done",
               [] {
                 auto c = code_number(Kind::appenduid, "APPENDUID", 1);
                 c.uids = uids("10:12");
                 return c;
               }())}},
      {"tagged_copyuid", "b8 OK [COPYUID 38505 304,319:320 3956:3958] Done\r\n",
       {tagged("b8", S::ok, "Done",
               [] {
                 auto c = code_number(Kind::copyuid, "COPYUID", 38505);
                 c.source_uids = uids("304,319:320");
                 c.uids = uids("3956:3958");
                 return c;
               }())}},
      {"tagged_closed", "b9 OK [CLOSED] previous closed\r\n",
       {tagged("b9", S::ok, "previous closed", code(Kind::closed, "CLOSED"))}},
      {"tagged_nomodseq", "c1 OK [NOMODSEQ] no CONDSTORE here\r\n",
       {tagged("c1", S::ok, "no CONDSTORE here", code(Kind::nomodseq, "NOMODSEQ"))}},
      {"tagged_highestmodseq", "c2 OK [HIGHESTMODSEQ 715194045007] ok\r\n",
       {tagged("c2", S::ok, "ok", code_number(Kind::highestmodseq, "HIGHESTMODSEQ", 715194045007))}},
      {"tagged_other_code_with_list", "c3 NO [BADCHARSET (UTF-8 US-ASCII)] charset\r\n",
       {tagged("c3", S::no, "charset", code_other("BADCHARSET", "(UTF-8 US-ASCII)"))}},
      {"tagged_other_code_bare", "c4 NO [INUSE] busy\r\n",
       {tagged("c4", S::no, "busy", code_other("INUSE", ""))}},
      {"tagged_capability_code", "c5 OK [CAPABILITY IMAP4rev1 IDLE] Logged in\r\n",
       {tagged("c5", S::ok, "Logged in",
               code_flags(Kind::capability, "CAPABILITY", {"IMAP4REV1", "IDLE"}))}},
      {"tagged_permanentflags", "c6 OK [PERMANENTFLAGS (\\Seen \\Deleted \\*)] ok\r\n",
       {tagged("c6", S::ok, "ok",
               code_flags(Kind::permanentflags, "PERMANENTFLAGS", {"\\Seen", "\\Deleted", "\\*"}))}},
      // Quirk rows (server non-compliance seen in the wild).
      // Exchange answers an over-long UID set with BAD (nextcloud/mail#6038).
      {"quirk_exchange_command_error_10", "c7 BAD Command Error. 10\r\n",
       {tagged("c7", S::bad, "Command Error. 10")}},
      // Office 365 answers a valid FETCH with BAD (imapsync#239).
      {"quirk_o365_command_argument_error_11", "c8 BAD Command Argument Error. 11\r\n",
       {tagged("c8", S::bad, "Command Argument Error. 11")}},
      // Office 365 throttling is a BAD with a back-off hint in free text (imapsync FAQ).
      {"quirk_o365_throttled",
       "c9 BAD Request is throttled. Suggested Backoff Time: 299961 milliseconds\r\n",
       {tagged("c9", S::bad, "Request is throttled. Suggested Backoff Time: 299961 milliseconds")}},
      // Gmail bandwidth limit (ljmerza/ha-email-sensor#16).
      {"quirk_gmail_overquota",
       "d1 NO [OVERQUOTA] Account exceeded command or bandwidth limits\r\n",
       {tagged("d1", S::no, "Account exceeded command or bandwidth limits",
               code(Kind::overquota, "OVERQUOTA"))}},
      {"tagged_extra_spaces", "d2 OK  [ALERT]  hi\r\n",
       {tagged("d2", S::ok, "hi", code(Kind::alert, "ALERT"))}},
      {"tagged_tag_with_dots", "uidsync.17 OK x\r\n", {tagged("uidsync.17", S::ok, "x")}},
  };
}

std::vector<ParserRow> condition_rows() {
  return {
      {"greeting_ok", "* OK Dovecot ready.\r\n", {condition(S::ok, "Dovecot ready.")}},
      {"greeting_capability",
       "* OK [CAPABILITY IMAP4rev1 LITERAL+ AUTH=PLAIN] ready\r\n",
       {condition(S::ok, "ready",
                  code_flags(Kind::capability, "CAPABILITY",
                             {"IMAP4REV1", "LITERAL+", "AUTH=PLAIN"}))}},
      {"preauth", "* PREAUTH welcome\r\n", {condition(S::preauth, "welcome")}},
      {"bye", "* BYE Logging out\r\n", {condition(S::bye, "Logging out")}},
      {"bye_without_text", "* BYE\r\n", {condition(S::bye, "")}},
      {"untagged_no_alert", "* NO [ALERT] disk low\r\n",
       {condition(S::no, "disk low", code(Kind::alert, "ALERT"))}},
      {"untagged_bad", "* BAD internal\r\n", {condition(S::bad, "internal")}},
      {"untagged_uidvalidity", "* OK [UIDVALIDITY 3857529045] UIDs valid\r\n",
       {condition(S::ok, "UIDs valid", code_number(Kind::uidvalidity, "UIDVALIDITY", 3857529045))}},
      {"untagged_uidnext", "* OK [UIDNEXT 4392] Predicted next UID\r\n",
       {condition(S::ok, "Predicted next UID", code_number(Kind::uidnext, "UIDNEXT", 4392))}},
      {"untagged_unseen", "* OK [UNSEEN 12] first unseen\r\n",
       {condition(S::ok, "first unseen", code_number(Kind::unseen, "UNSEEN", 12))}},
      {"untagged_highestmodseq", "* OK [HIGHESTMODSEQ 90060115205545359] Highest\r\n",
       {condition(S::ok, "Highest",
                  code_number(Kind::highestmodseq, "HIGHESTMODSEQ", 90060115205545359ull))}},
      {"untagged_closed", "* OK [CLOSED]\r\n", {condition(S::ok, "", code(Kind::closed, "CLOSED"))}},
      {"untagged_permanentflags_empty", "* OK [PERMANENTFLAGS ()] No permanent flags\r\n",
       {condition(S::ok, "No permanent flags",
                  code_flags(Kind::permanentflags, "PERMANENTFLAGS", {}))}},
      {"untagged_ok_curly_text_is_not_a_literal", "* OK got {12}\r\n",
       {condition(S::ok, "got {12}")}},
      // UIDVALIDITY 0 breaks RFC 3501 §2.3.1.1 (nz-number); SmarterMail 14.4 sends it
      // (modern-email/defects#52). Parsed as is; the sync layer reports it.
      {"quirk_smartermail_uidvalidity_zero", "* OK [UIDVALIDITY 0] UIDs valid\r\n",
       {condition(S::ok, "UIDs valid", code_number(Kind::uidvalidity, "UIDVALIDITY", 0))}},
      // UIDVALIDITY above 32 bits breaks RFC 3501 (nz-number is 32-bit) (neomutt#3830).
      {"quirk_uidvalidity_above_32_bits", "* OK [UIDVALIDITY 6442450944] UIDs valid\r\n",
       {condition(S::ok, "UIDs valid", code_number(Kind::uidvalidity, "UIDVALIDITY", 6442450944))}},
      {"untagged_overquota", "* NO [OVERQUOTA] Soft quota\r\n",
       {condition(S::no, "Soft quota", code(Kind::overquota, "OVERQUOTA"))}},
  };
}

std::vector<ParserRow> simple_rows() {
  return {
      {"continuation_text", "+ Ready for literal data\r\n",
       {Response{Continuation{"Ready for literal data"}}}},
      {"continuation_bare", "+\r\n", {Response{Continuation{""}}}},
      {"continuation_idling", "+ idling\r\n", {Response{Continuation{"idling"}}}},
      {"continuation_base64", "+ dXNlcg==\r\n", {Response{Continuation{"dXNlcg=="}}}},
      {"continuation_curly_is_not_a_literal", "+ {3}\r\n", {Response{Continuation{"{3}"}}}},
      {"capability", "* CAPABILITY IMAP4rev1 IDLE UIDPLUS\r\n",
       {Response{Capability{{"IMAP4REV1", "IDLE", "UIDPLUS"}}}}},
      {"capability_lowercase_upcased", "* capability imap4rev1 auth=plain\r\n",
       {Response{Capability{{"IMAP4REV1", "AUTH=PLAIN"}}}}},
      {"capability_trailing_space", "* CAPABILITY IMAP4rev1 \r\n",
       {Response{Capability{{"IMAP4REV1"}}}}},
      {"capability_extensions", "* CAPABILITY CONDSTORE QRESYNC ESEARCH LITERAL- MOVE\r\n",
       {Response{Capability{{"CONDSTORE", "QRESYNC", "ESEARCH", "LITERAL-", "MOVE"}}}}},
      {"enabled", "* ENABLED CONDSTORE QRESYNC\r\n",
       {Response{Enabled{{"CONDSTORE", "QRESYNC"}}}}},
      {"enabled_empty", "* ENABLED\r\n", {Response{Enabled{}}}},
      {"flags", "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Forwarded)\r\n",
       {Response{FlagList{{"\\Answered", "\\Flagged", "\\Deleted", "\\Seen", "\\Draft",
                           "$Forwarded"}}}}},
      {"flags_empty", "* FLAGS ()\r\n", {Response{FlagList{}}}},
      {"exists", "* 172 EXISTS\r\n", {Response{Exists{172}}}},
      {"exists_zero", "* 0 EXISTS\r\n", {Response{Exists{0}}}},
      {"recent", "* 1 RECENT\r\n", {Response{Recent{1}}}},
      {"expunge", "* 44 EXPUNGE\r\n", {Response{Expunge{44}}}},
      {"exists_lowercase", "* 3 exists\r\n", {Response{Exists{3}}}},
      // Zimbra sends EXISTS in steps (OfflineIMAP source comment): 500, 1000, 1500, 1623.
      {"quirk_zimbra_multiple_exists",
       "* 500 EXISTS\r\n* 1000 EXISTS\r\n* 1500 EXISTS\r\n* 1623 EXISTS\r\n",
       {Response{Exists{500}}, Response{Exists{1000}}, Response{Exists{1500}},
        Response{Exists{1623}}}},
      {"vanished", "* VANISHED 405,407,410:425\r\n",
       {Response{Vanished{false, uids("405,407,410:425")}}}},
      {"vanished_earlier", "* VANISHED (EARLIER) 300:310,405,411\r\n",
       {Response{Vanished{true, uids("300:310,405,411")}}}},
      {"vanished_single", "* VANISHED 7\r\n", {Response{Vanished{false, uids("7")}}}},
      {"vanished_earlier_lowercase", "* vanished (earlier) 1:2\r\n",
       {Response{Vanished{true, uids("1:2")}}}},
      {"search_empty", "* SEARCH\r\n", {Response{Search{}}}},
      {"search_numbers", "* SEARCH 2 84 882\r\n", {Response{Search{{2, 84, 882}, {}}}}},
      {"search_trailing_space", "* SEARCH 5 \r\n", {Response{Search{{5}, {}}}}},
      {"search_modseq", "* SEARCH 2 5 6 (MODSEQ 917162500)\r\n",
       {Response{Search{{2, 5, 6}, 917162500}}}},
      {"esearch_full", "* ESEARCH (TAG \"A282\") MIN 2 COUNT 3\r\n",
       {Response{ESearch{"A282", false, 2, {}, 3, {}, {}}}}},
      {"esearch_uid_all", "* ESEARCH (TAG \"A283\") UID ALL 43:45,47\r\n",
       {Response{ESearch{"A283", true, {}, {}, {}, uids("43:45,47"), {}}}}},
      {"esearch_empty", "* ESEARCH (TAG \"A284\")\r\n", {Response{ESearch{"A284", false, {}, {}, {}, {}, {}}}}},
      {"esearch_max_modseq", "* ESEARCH (TAG \"t\") UID MAX 9 MODSEQ 77\r\n",
       {Response{ESearch{"t", true, {}, 9, {}, {}, 77}}}},
      {"esearch_untagged", "* ESEARCH UID COUNT 0\r\n",
       {Response{ESearch{"", true, {}, {}, 0, {}, {}}}}},
      {"status", "* STATUS blurdybloop (MESSAGES 231 UIDNEXT 44292)\r\n",
       {Response{MailboxStatus{"blurdybloop", {{"MESSAGES", 231}, {"UIDNEXT", 44292}}}}}},
      {"status_quoted_mutf7", "* STATUS \"Entw&APw-rfe\" (UIDVALIDITY 7 HIGHESTMODSEQ 99)\r\n",
       {Response{MailboxStatus{"Entwürfe", {{"UIDVALIDITY", 7}, {"HIGHESTMODSEQ", 99}}}}}},
      {"status_empty_items", "* STATUS INBOX ()\r\n", {Response{MailboxStatus{"INBOX", {}}}}},
      {"status_literal_name", "* STATUS {4}\r\nA(b) (MESSAGES 1)\r\n",
       {Response{MailboxStatus{"A(b)", {{"MESSAGES", 1}}}}}},
      {"unknown_namespace", "* NAMESPACE ((\"\" \"/\")) NIL NIL\r\n",
       {Response{Unknown{"NAMESPACE", "((\"\" \"/\")) NIL NIL"}}}},
      {"unknown_id", "* ID (\"name\" \"Dovecot\")\r\n",
       {Response{Unknown{"ID", "(\"name\" \"Dovecot\")"}}}},
  };
}

std::vector<ParserRow> list_rows() {
  return {
      {"list_basic", "* LIST (\\HasNoChildren) \"/\" INBOX\r\n",
       {list({"\\HasNoChildren"}, '/', "INBOX", "INBOX")}},
      {"list_nil_delimiter", "* LIST (\\Noselect) NIL \"\"\r\n",
       {list({"\\Noselect"}, std::nullopt, "", "")}},
      {"list_dot_delimiter", "* LIST () \".\" INBOX.Sent\r\n",
       {list({}, '.', "INBOX.Sent", "INBOX.Sent")}},
      {"list_quoted_backslash_delimiter", "* LIST () \"\\\\\" \"a\\\\b\"\r\n",
       {list({}, '\\', "a\\b", "a\\b")}},
      {"list_quoted_with_spaces", "* LIST (\\HasChildren) \"/\" \"My Folder\"\r\n",
       {list({"\\HasChildren"}, '/', "My Folder", "My Folder")}},
      {"list_mutf7_umlaut", "* LIST () \"/\" \"Entw&APw-rfe\"\r\n",
       {list({}, '/', "Entwürfe", "Entw&APw-rfe")}},
      {"list_mutf7_cjk", "* LIST () \"/\" &ZeVnLIqe-\r\n",
       {list({}, '/', "日本語", "&ZeVnLIqe-")}},
      {"list_mutf7_ampersand", "* LIST () \"/\" \"Tom &- Jerry\"\r\n",
       {list({}, '/', "Tom & Jerry", "Tom &- Jerry")}},
      {"list_literal_name", "* LIST () \"/\" {7}\r\nA\"b\\c/d\r\n",
       {list({}, '/', "A\"b\\c/d", "A\"b\\c/d")}},
      {"list_special_use", "* LIST (\\HasNoChildren \\Sent) \"/\" Sent\r\n",
       {list({"\\HasNoChildren", "\\Sent"}, '/', "Sent", "Sent")}},
      {"list_extended_childinfo",
       "* LIST (\\Subscribed) \"/\" Foo (\"CHILDINFO\" (\"SUBSCRIBED\"))\r\n",
       {list({"\\Subscribed"}, '/', "Foo", "Foo")}},
      {"lsub", "* LSUB () \".\" #news.comp.mail.misc\r\n",
       {list({}, '.', "#news.comp.mail.misc", "#news.comp.mail.misc", true)}},
      {"list_name_with_bracket", "* LIST () \"/\" a]b\r\n", {list({}, '/', "a]b", "a]b")}},
      {"list_invalid_mutf7_is_an_error", "* LIST () \"/\" \"bad&Jjo\"\r\n",
       {Expect{Err{"not valid modified UTF-7"}}}},
      {"list_raw_utf8_is_an_error", "* LIST () \"/\" \"Entw\xc3\xbcrfe\"\r\n",
       {Expect{Err{"outside printable US-ASCII"}}}},
      {"list_mutf7_hidden_ascii_is_an_error", "* LIST () \"/\" \"&AGE-\"\r\n",
       {Expect{Err{"printable US-ASCII hidden"}}}},
      {"list_two_char_delimiter_is_an_error", "* LIST () \"//\" a\r\n",
       {Expect{Err{"delimiter"}}}},
  };
}

std::vector<ParserRow> fetch_rows() {
  Fetch size_date = fetch_of(12);
  size_date.uid = 400;
  size_date.rfc822_size = 44827;
  size_date.internal_date = "17-Jul-1996 02:44:25 -0700";
  Fetch modseq = fetch_of(3);
  modseq.uid = 9;
  modseq.modseq = 624140003;
  Fetch envelope = fetch_of(1);
  envelope.uid = 3;
  envelope.other_items = {"ENVELOPE"};
  Fetch structure = fetch_of(2);
  structure.other_items = {"BODYSTRUCTURE"};
  structure.uid = 8;
  Fetch two = fetch_of(5);
  two.uid = 55;
  two.bodies = {BodySection{"BODY[HEADER]", "H: v\r\n\r\n", false, 8},
                BodySection{"BODY[TEXT]", "body", false, 4}};
  Fetch all = fetch_of(7);
  all.uid = 70;
  all.flags = std::vector<std::string>{"\\Seen"};
  all.rfc822_size = 3;
  all.modseq = 5;
  all.bodies = {BodySection{"BODY[]", "abc", false, 3}};
  Fetch no_body = fetch_of(4);
  no_body.uid = 44;
  no_body.rfc822_size = 120;
  Fetch binary_size = fetch_of(1);
  binary_size.uid = 1;
  binary_size.other_items = {"BINARY.SIZE[1]"};
  return {
      {"fetch_uid", "* 1 FETCH (UID 4827313)\r\n",
       {[] {
         auto f = fetch_of(1);
         f.uid = 4827313;
         return Response{f};
       }()}},
      {"fetch_uid_flags", "* 2 FETCH (UID 7 FLAGS (\\Seen \\Answered))\r\n",
       {with_uid_flags(2, 7, {"\\Seen", "\\Answered"})}},
      {"fetch_flags_empty", "* 3 FETCH (FLAGS () UID 8)\r\n", {with_uid_flags(3, 8, {})}},
      {"fetch_flags_keywords_recent", "* 4 FETCH (UID 9 FLAGS (\\Recent $Junk NonJunk))\r\n",
       {with_uid_flags(4, 9, {"\\Recent", "$Junk", "NonJunk"})}},
      {"fetch_lowercase_items", "* 2 fetch (uid 7 flags (\\Seen))\r\n",
       {with_uid_flags(2, 7, {"\\Seen"})}},
      {"fetch_size_and_date",
       "* 12 FETCH (UID 400 RFC822.SIZE 44827 INTERNALDATE \"17-Jul-1996 02:44:25 -0700\")\r\n",
       {Response{size_date}}},
      {"fetch_modseq", "* 3 FETCH (UID 9 MODSEQ (624140003))\r\n", {Response{modseq}}},
      {"fetch_body_literal", "* 1 FETCH (UID 5 BODY[] {5}\r\nHello)\r\n",
       {body_fetch(1, 5, "BODY[]", "Hello")}},
      {"fetch_body_literal_crlf_and_paren_inside",
       "* 1 FETCH (BODY[] {7}\r\na\r\n\r\nb) UID 5)\r\n",
       {body_fetch(1, 5, "BODY[]", "a\r\n\r\nb)")}},
      {"fetch_literal_swallowing_the_space_is_an_error",
       "* 1 FETCH (BODY[] {8}\r\na\r\n\r\nb) UID 5)\r\n", {Expect{Err{"expected ' '"}}}},
      {"fetch_uid_after_literal", "* 9 FETCH (BODY[] {3}\r\nabc UID 90)\r\n",
       {body_fetch(9, 90, "BODY[]", "abc")}},
      {"fetch_body_quoted", "* 1 FETCH (UID 5 BODY[] \"Hi\")\r\n", {body_fetch(1, 5, "BODY[]", "Hi")}},
      {"fetch_body_nil", "* 1 FETCH (UID 5 BODY[] NIL)\r\n",
       {body_fetch(1, 5, "BODY[]", std::nullopt)}},
      {"fetch_body_empty_literal", "* 1 FETCH (UID 5 BODY[] {0}\r\n)\r\n",
       {body_fetch(1, 5, "BODY[]", "")}},
      {"fetch_body_header", "* 1 FETCH (UID 5 BODY[HEADER] {4}\r\nA: b)\r\n",
       {body_fetch(1, 5, "BODY[HEADER]", "A: b")}},
      {"fetch_header_fields", "* 1 FETCH (UID 5 BODY[HEADER.FIELDS (FROM TO)] {3}\r\nx\r\n)\r\n",
       {body_fetch(1, 5, "BODY[HEADER.FIELDS (FROM TO)]", "x\r\n")}},
      {"fetch_partial_origin", "* 1 FETCH (UID 5 BODY[]<0> {2}\r\nab)\r\n",
       {body_fetch(1, 5, "BODY[]<0>", "ab")}},
      {"fetch_binary_literal8", "* 1 FETCH (UID 5 BINARY[] ~{3}\r\na\0b)\r\n"s,
       {body_fetch(1, 5, "BINARY[]", "a\0b"s)}},
      {"fetch_binary_part", "* 1 FETCH (UID 5 BINARY[1] {2}\r\nok)\r\n",
       {body_fetch(1, 5, "BINARY[1]", "ok")}},
      {"fetch_literal_plus_form", "* 1 FETCH (UID 5 BODY[] {2+}\r\nok)\r\n",
       {body_fetch(1, 5, "BODY[]", "ok")}},
      {"fetch_rfc822", "* 1 FETCH (UID 5 RFC822 {2}\r\nok)\r\n", {body_fetch(1, 5, "RFC822", "ok")}},
      {"fetch_two_bodies", "* 5 FETCH (UID 55 BODY[HEADER] {8}\r\nH: v\r\n\r\n BODY[TEXT] {4}\r\nbody)\r\n",
       {Response{two}}},
      {"fetch_everything",
       "* 7 FETCH (UID 70 FLAGS (\\Seen) RFC822.SIZE 3 MODSEQ (5) BODY[] {3}\r\nabc)\r\n",
       {Response{all}}},
      {"fetch_envelope_skipped",
       "* 1 FETCH (UID 3 ENVELOPE (\"date\" \"subj\" ((NIL NIL \"a\" \"b.c\")) NIL NIL NIL NIL NIL "
       "NIL \"<id>\"))\r\n",
       {Response{envelope}}},
      {"fetch_bodystructure_skipped",
       "* 2 FETCH (BODYSTRUCTURE ((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 3 "
       "1) \"mixed\") UID 8)\r\n",
       {Response{structure}}},
      {"fetch_binary_size_skipped", "* 1 FETCH (UID 1 BINARY.SIZE[1] 42)\r\n",
       {Response{binary_size}}},
      {"fetch_extra_spaces", "* 2 FETCH ( UID 7  FLAGS (\\Seen) )\r\n",
       {with_uid_flags(2, 7, {"\\Seen"})}},
      // UID 0 breaks RFC 3501 §2.3.1.1 (offlineimap#336). Parsed; the sync layer flags it.
      {"quirk_uid_zero", "* 1 FETCH (UID 0)\r\n",
       {[] {
         auto f = fetch_of(1);
         f.uid = 0;
         return Response{f};
       }()}},
      // iCloud answers FETCH (RFC822) without the RFC822 item (modern-email/defects#36):
      // the response parses, with no body, and the caller sees the body missing.
      {"quirk_icloud_omits_rfc822", "* 4 FETCH (UID 44 RFC822.SIZE 120)\r\n", {Response{no_body}}},
      // hydroxide#292: "UIDs" that are sequence numbers; each FETCH is still well formed.
      {"quirk_uids_like_sequence_numbers", "* 1 FETCH (UID 1)\r\n* 2 FETCH (UID 2)\r\n",
       {[] {
          auto f = fetch_of(1);
          f.uid = 1;
          return Response{f};
        }(),
        [] {
          auto f = fetch_of(2);
          f.uid = 2;
          return Response{f};
        }()}},
      {"fetch_uid_over_32_bits_is_an_error", "* 1 FETCH (UID 4294967296)\r\n",
       {Expect{Err{"does not fit in 32 bits"}}}},
      {"fetch_missing_paren_is_an_error", "* 1 FETCH UID 5\r\n", {Expect{Err{"expected '('"}}}},
      {"fetch_unclosed_is_an_error", "* 1 FETCH (UID 5\r\n", {Expect{Err{"expected"}}}},
      {"fetch_modseq_without_parens_is_an_error", "* 1 FETCH (MODSEQ 5)\r\n",
       {Expect{Err{"expected '('"}}}},
  };
}

std::vector<ParserRow> error_rows() {
  Limits small_line;
  small_line.max_line_length = 20;
  Limits small_literal;
  small_literal.max_literal_size = 10;
  Limits shallow;
  shallow.max_list_depth = 3;
  Limits small_response;
  small_response.max_response_size = 40;
  return {
      {"error_tagged_bye", "a1 BYE no\r\n", {Expect{Err{"must be OK, NO or BAD"}}}},
      {"error_tagged_garbage", "a1 HELLO\r\n", {Expect{Err{"must be OK, NO or BAD"}}}},
      {"error_unknown_numeric", "* 3 FOO\r\n", {Expect{Err{"unknown numeric response FOO"}}}},
      {"error_unterminated_quote", "* LIST () \"/ INBOX\r\n", {Expect{Err{"quoted string"}}}},
      {"error_empty_line", "\r\n", {Expect{Err{"expected an atom"}}}},
      {"error_star_only", "*\r\n", {Expect{Err{"expected ' '"}}}},
      {"error_bad_vanished", "* VANISHED x\r\n", {Expect{Err{"UID set"}}}},
      {"error_bad_appenduid", "a1 OK [APPENDUID 1 x] y\r\n", {Expect{Err{"UID set"}}}},
      {"error_unterminated_code", "a1 OK [FOO bar\r\n", {Expect{Err{"unterminated response code"}}}},
      {"error_exists_too_large", "* 99999999999 EXISTS\r\n", {Expect{Err{"32 bits"}}}},
      {"error_number_too_large", "* OK [HIGHESTMODSEQ 99999999999999999999999] x\r\n",
       {Expect{Err{"64 bits"}}}},
      {"error_then_recovery", "* 3 FOO\r\na1 OK done\r\n",
       {Expect{Err{"FOO"}}, tagged("a1", S::ok, "done")}},
      {"error_recovery_after_bad_fetch", "* 1 FETCH (UID x)\r\n* 2 EXISTS\r\n",
       {Expect{Err{"expected a number"}}, Response{Exists{2}}}},
      {"error_esearch_bad_all", "* ESEARCH ALL x\r\n", {Expect{Err{"sequence set"}}}},
      {"error_search_garbage", "* SEARCH 1 a\r\n", {Expect{Err{"expected a number"}}}},
      {"error_status_without_list", "* STATUS INBOX MESSAGES 1\r\n", {Expect{Err{"expected '('"}}}},
      // Limits: the error names the limit, and nothing is allocated for the size.
      {"limit_huge_literal", "* 1 FETCH (BODY[] {99999999999}\r\n",
       {Expect{Err{"max_literal_size", true}}}},
      {"limit_literal_size_overflows_64_bits", "* 1 FETCH (BODY[] {999999999999999999999999}\r\n",
       {Expect{Err{"max_literal_size", true}}}},
      {"limit_literal_over_configured", "* 1 FETCH (BODY[] {11}\r\n",
       {Expect{Err{"exceeds max_literal_size (10 bytes)", true}}}, small_literal},
      {"limit_literal_at_configured", "* 1 FETCH (BODY[] {10}\r\n0123456789)\r\n",
       {body_fetch(1, std::nullopt, "BODY[]", "0123456789")}, small_literal},
      {"limit_line_too_long", "* OK 0123456789012345678901234\r\n",
       {Expect{Err{"max_line_length (20 bytes)", true}}}, small_line},
      {"limit_line_at_limit", "* OK 012345678901234\r\n",
       {condition(S::ok, "012345678901234")}, small_line},
      {"limit_line_without_end", "* OK 0123456789012345678901234567890",
       {Expect{Err{"max_line_length", true}}}, small_line},
      {"limit_list_depth", "* 1 FETCH (BODYSTRUCTURE ((((x)))))\r\n",
       {Expect{Err{"max_list_depth (3)"}}}, shallow},
      {"limit_list_depth_within", "* 1 FETCH (BODYSTRUCTURE ((x)))\r\n",
       {[] {
         auto f = fetch_of(1);
         f.other_items = {"BODYSTRUCTURE"};
         return Response{f};
       }()},
       shallow},
      {"limit_response_size", "* 1 FETCH (BODY[] {30}\r\n012345678901234567890123456789)\r\n",
       {Expect{Err{"max_response_size (40 bytes)", true}}}, small_response},
      {"limit_fatal_error_is_sticky", "* 1 FETCH (BODY[] {11}\r\n* 2 EXISTS\r\n",
       {Expect{Err{"max_literal_size", true}}}, small_literal},
  };
}

std::vector<ParserRow> pipeline_rows() {
  return {
      {"pipeline_select",
       "* 172 EXISTS\r\n* 1 RECENT\r\n* OK [UIDVALIDITY 3857529045] UIDs valid\r\n"
       "* FLAGS (\\Seen)\r\na2 OK [READ-WRITE] SELECT completed\r\n",
       {Response{Exists{172}}, Response{Recent{1}},
        condition(S::ok, "UIDs valid", code_number(Kind::uidvalidity, "UIDVALIDITY", 3857529045)),
        Response{FlagList{{"\\Seen"}}},
        tagged("a2", S::ok, "SELECT completed", code(Kind::read_write, "READ-WRITE"))}},
      {"pipeline_two_fetches_and_tags",
       "* 1 FETCH (UID 1 BODY[] {1}\r\nx)\r\n* 2 FETCH (UID 2 BODY[] {1}\r\ny)\r\n"
       "t1 OK a\r\nt2 OK b\r\n",
       {body_fetch(1, 1, "BODY[]", "x"), body_fetch(2, 2, "BODY[]", "y"), tagged("t1", S::ok, "a"),
        tagged("t2", S::ok, "b")}},
      {"pipeline_bye_mid_command", "* 1 FETCH (UID 1)\r\n* BYE server shutting down\r\n",
       {[] {
          auto f = fetch_of(1);
          f.uid = 1;
          return Response{f};
        }(),
        condition(S::bye, "server shutting down")}},
      {"pipeline_idle", "+ idling\r\n* 4 EXISTS\r\n* 2 EXPUNGE\r\nt9 OK Idle done\r\n",
       {Response{Continuation{"idling"}}, Response{Exists{4}}, Response{Expunge{2}},
        tagged("t9", S::ok, "Idle done")}},
      {"pipeline_qresync_select",
       "* OK [CLOSED]\r\n* VANISHED (EARLIER) 41,43:116\r\n"
       "* 49 FETCH (UID 117 FLAGS (\\Seen) MODSEQ (90060115205545359))\r\n"
       "s1 OK [READ-WRITE] done\r\n",
       {condition(S::ok, "", code(Kind::closed, "CLOSED")),
        Response{Vanished{true, uids("41,43:116")}},
        [] {
          auto f = fetch_of(49);
          f.uid = 117;
          f.flags = std::vector<std::string>{"\\Seen"};
          f.modseq = 90060115205545359ull;
          return Response{f};
        }(),
        tagged("s1", S::ok, "done", code(Kind::read_write, "READ-WRITE"))}},
  };
}

using Events = std::vector<ParseResult>;

// Feeds `input` in pieces of `step` bytes (0: all at once) and collects every event
// up to the point where the parser needs more or fails for good.
Events run(const ParserRow& row, std::size_t step) {
  Parser parser(row.limits);
  Events events;
  auto drain = [&] {
    while (true) {
      auto r = parser.next();
      if (std::holds_alternative<NeedMore>(r)) {
        return true;
      }
      events.push_back(r);
      if (auto* e = std::get_if<ParseError>(&r); e && e->fatal) {
        return false;
      }
    }
  };
  if (step == 0) {
    parser.feed(row.input);
    drain();
    return events;
  }
  for (std::size_t i = 0; i < row.input.size(); i += step) {
    parser.feed(std::string_view(row.input).substr(i, step));
    if (!drain()) {
      break;
    }
  }
  return events;
}

void expect_events(const ParserRow& row, const Events& events) {
  ASSERT_EQ(events.size(), row.expected.size());
  for (std::size_t i = 0; i < events.size(); ++i) {
    SCOPED_TRACE("event " + std::to_string(i));
    if (const auto* want = std::get_if<Response>(&row.expected[i])) {
      ASSERT_TRUE(std::holds_alternative<Response>(events[i]))
          << std::get<ParseError>(events[i]).message;
      EXPECT_EQ(std::get<Response>(events[i]), *want);
    } else {
      const auto& err = std::get<Err>(row.expected[i]);
      ASSERT_TRUE(std::holds_alternative<ParseError>(events[i]))
          << describe(std::get<Response>(events[i]));
      const auto& got = std::get<ParseError>(events[i]);
      EXPECT_NE(got.message.find(err.contains), std::string::npos) << got.message;
      EXPECT_EQ(got.fatal, err.fatal) << got.message;
    }
  }
}

std::vector<ParserRow> all_rows() {
  std::vector<ParserRow> out;
  for (auto group : {tagged_rows(), condition_rows(), simple_rows(), list_rows(), fetch_rows(),
                     error_rows(), pipeline_rows()}) {
    out.insert(out.end(), group.begin(), group.end());
  }
  return out;
}

class ImapParser : public ::testing::TestWithParam<ParserRow> {};

TEST_P(ImapParser, Whole) { expect_events(GetParam(), run(GetParam(), 0)); }

TEST_P(ImapParser, ByteByByte) { expect_events(GetParam(), run(GetParam(), 1)); }

TEST_P(ImapParser, ByteByByteEqualsWholeIncludingErrorPositions) {
  auto whole = run(GetParam(), 0);
  auto bytewise = run(GetParam(), 1);
  auto three = run(GetParam(), 3);
  ASSERT_EQ(whole.size(), bytewise.size());
  for (std::size_t i = 0; i < whole.size(); ++i) {
    EXPECT_EQ(whole[i], bytewise[i]);
    EXPECT_EQ(whole[i], three[i]);
  }
}

INSTANTIATE_TEST_SUITE_P(Rows, ImapParser, ::testing::ValuesIn(all_rows()), test::RowName{});

TEST(ImapParserRows, AtLeastOneHundredFiftyRows) { EXPECT_GE(all_rows().size(), 150u); }

TEST(ImapParserOffsets, ErrorOffsetIsTheStartOfTheBadResponse) {
  Parser parser;
  parser.feed("* 2 EXISTS\r\n* 3 FOO\r\n");
  EXPECT_EQ(std::get<Response>(parser.next()), Response{Exists{2}});
  auto e = std::get<ParseError>(parser.next());
  EXPECT_EQ(e.offset, 12u);
  EXPECT_EQ(e.column, 7u); // just after "FOO"
}

TEST(ImapParserNeedMore, LiteralAsksForItsRemainingBytes) {
  Parser parser;
  parser.feed("* 1 FETCH (BODY[] {10}\r\nabc");
  EXPECT_EQ(std::get<NeedMore>(parser.next()).at_least, 7u);
}

TEST(ImapParserParseResponse, RejectsTrailingData) {
  EXPECT_TRUE(std::holds_alternative<ParseError>(parse_response("a1 OK x\r\nb")));
  EXPECT_TRUE(std::holds_alternative<Response>(parse_response("a1 OK x\r\n")));
}

} // namespace
} // namespace uidsync::imap
