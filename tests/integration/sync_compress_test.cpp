// SPDX-License-Identifier: GPL-3.0-or-later
// COMPRESS=DEFLATE (RFC 4978) against a real Dovecot with its imap_zlib plugin:
// `uidsync sync` compresses every connection by default and never with
// compress = false, the Maildir is byte for byte what the server holds either
// way, --json reports the bytes on the wire and the IMAP bytes they carried, and
// a corpus of text mail moves at least 2x fewer bytes compressed.
#include "support/dovecot.hpp"
#include "support/sync_cli.hpp"
#include "support/table.hpp"
#include "support/temp_dir.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <filesystem>
#include <iostream>
#include <map>
#include <random>
#include <string>
#include <vector>

namespace uidsync::test {
namespace {

namespace fs = std::filesystem;

// The unsigned number after "key": in the --json document (account-level keys
// only appear once per account; the tests sync one account).
std::uint64_t json_number(const std::string& json, const std::string& key) {
  const std::string needle = "\"" + key + "\": ";
  const auto at = json.find(needle);
  EXPECT_NE(at, std::string::npos) << key << " missing in " << json;
  if (at == std::string::npos) {
    return 0;
  }
  return std::stoull(json.substr(at + needle.size()));
}

// A message of plain English-like text: words drawn from a small vocabulary,
// so it compresses like real prose (not like a run of one letter).
std::string text_message(const std::string& id, std::size_t body_bytes, std::mt19937& gen) {
  static const std::array<const char*, 48> k_words{
      "the",     "meeting", "budget",  "report",  "quarter", "server", "please", "review",
      "attached", "thanks", "regards", "project", "deadline", "team",  "update", "customer",
      "invoice", "schedule", "change", "request", "monday",  "friday", "office", "release",
      "version", "tested",  "failed",  "passed",  "numbers", "growth", "sales",  "market",
      "we",      "will",    "should",  "could",   "about",   "with",   "from",   "into",
      "after",   "before",  "during",  "because", "however", "also",   "and",    "of"};
  std::uniform_int_distribution<std::size_t> pick(0, k_words.size() - 1);
  std::string body;
  std::size_t line = 0;
  while (body.size() < body_bytes) {
    const std::string w = k_words[pick(gen)];
    body += w;
    line += w.size() + 1;
    if (line > 70) {
      body += "\n";
      line = 0;
    } else {
      body += " ";
    }
  }
  return "From: alice@example.org\nTo: bob@example.org\nSubject: " + id +
         "\nMessage-ID: <" + id + "@example.org>\nContent-Type: text/plain; charset=utf-8\n\n" +
         body + "\n";
}

struct Corpus {
  std::map<std::string, std::string> messages; // id -> text
  std::uint64_t bytes = 0;                      // as served (CRLF)
};

Corpus fill_corpus(Dovecot& dovecot, const std::string& folder, int count, std::size_t body) {
  std::mt19937 gen(4978);
  Corpus c;
  std::vector<std::string> texts;
  for (int i = 0; i < count; ++i) {
    const std::string id = folder + "-" + std::to_string(i);
    c.messages[id] = text_message(id, body + static_cast<std::size_t>(i) * 97, gen);
    c.bytes += crlf(c.messages[id]).size();
    texts.push_back(c.messages[id]);
  }
  dovecot.fill(folder, texts);
  return c;
}

struct Run {
  std::string json;
  std::string trace;
  std::uint64_t bytes_in = 0;
  std::uint64_t bytes_out = 0;
  std::uint64_t imap_bytes_in = 0;
  std::uint64_t imap_bytes_out = 0;
  std::uint64_t compressed_connections = 0;
  std::uint64_t connections = 0;
};

// Syncs `folder` into a fresh `dir` with `extra` account lines; checks the
// Maildir against `corpus` byte for byte.
Run sync_into(const fs::path& dir, const Dovecot& dovecot, const std::string& extra,
              const std::string& folder, const Corpus& corpus) {
  write_sync_config(dir, dovecot, extra);
  const auto r = run_uidsync(dir, {"--json", "sync", "-j", "1", "-f", folder, "--trace",
                                   (dir / "trace").string()});
  EXPECT_EQ(r.exit_status, 0) << r.out << r.err;
  EXPECT_EQ(r.err, "");
  const auto files = local_files(dir / "Mail" / fs::path(folder));
  EXPECT_EQ(files.size(), corpus.messages.size());
  for (const auto& [id, text] : corpus.messages) {
    const auto name = file_with(files, id);
    EXPECT_FALSE(name.empty()) << id << " missing";
    if (!name.empty()) {
      EXPECT_EQ(files.at(name), crlf(text)) << name;
    }
  }
  Run run;
  run.json = r.out;
  run.trace = read_file(dir / "trace");
  run.bytes_in = json_number(r.out, "bytes_in");
  run.bytes_out = json_number(r.out, "bytes_out");
  run.imap_bytes_in = json_number(r.out, "imap_bytes_in");
  run.imap_bytes_out = json_number(r.out, "imap_bytes_out");
  run.compressed_connections = json_number(r.out, "compressed_connections");
  run.connections = json_number(r.out, "connections");
  return run;
}

class SyncCompressBase : public DovecotSuite {
protected:
  TempDir m_temp;
  fs::path m_dir = m_temp.path();
};

struct CompressRow {
  std::string name;
  std::string folder;
  std::string config; // extra account lines
  bool compressed;    // COMPRESS DEFLATE sent and accepted
};

void PrintTo(const CompressRow& row, std::ostream* os) {
  *os << row.name;
}

const std::vector<CompressRow> k_compress_rows{
    // The fixture listens on 127.0.0.1: loopback, where the default is off.
    {"off_by_default_on_loopback", "ZipDefault", "", false},
    {"on_when_asked", "ZipOn", "compress = true\n", true},
    {"off_in_config", "ZipOff", "compress = false\n", false},
};

class SyncCompress : public SyncCompressBase, public ::testing::WithParamInterface<CompressRow> {};

TEST_P(SyncCompress, TraceJsonAndMaildirAgree) {
  const auto& row = GetParam();
  const auto corpus = fill_corpus(*s_dovecot, row.folder, 12, 3000);
  const auto run = sync_into(m_dir, *s_dovecot, row.config, row.folder, corpus);

  EXPECT_EQ(run.trace.find("COMPRESS DEFLATE") != std::string::npos, row.compressed)
      << run.trace.substr(0, 2000);
  ASSERT_GE(run.connections, 1U) << run.json;
  EXPECT_EQ(run.compressed_connections, row.compressed ? run.connections : 0U) << run.json;
  // Sane figures: the bodies crossed the wire (even compressed, prose does not
  // shrink 10x), and the IMAP bytes hold at least the bodies.
  EXPECT_GT(run.bytes_in, corpus.bytes / 10) << run.json;
  EXPECT_GT(run.imap_bytes_in, corpus.bytes) << run.json;
  EXPECT_LT(run.imap_bytes_in, corpus.bytes * 2) << run.json;
  EXPECT_GT(run.bytes_out, 0U) << run.json;
  if (row.compressed) {
    // Commands are short and each write ends with a sync flush (4-6 bytes), so
    // only the server's side has to shrink.
    EXPECT_LT(run.bytes_in, run.imap_bytes_in) << run.json;
  } else {
    EXPECT_EQ(run.bytes_in, run.imap_bytes_in) << run.json;
    EXPECT_EQ(run.bytes_out, run.imap_bytes_out) << run.json;
  }
}

INSTANTIATE_TEST_SUITE_P(Rows, SyncCompress, ::testing::ValuesIn(k_compress_rows),
                         test::RowName{});

TEST_F(SyncCompressBase, TextCorpusMovesAtLeastTwiceFewerWireBytes) {
  const std::string folder = "ZipCorpus";
  const auto corpus = fill_corpus(*s_dovecot, folder, 60, 20000);
  TempDir other;
  const auto on = sync_into(m_dir, *s_dovecot, "compress = true\n", folder, corpus);
  const auto off = sync_into(other.path(), *s_dovecot, "compress = false\n", folder, corpus);
  ASSERT_GT(on.bytes_in, 0U);
  const double ratio = static_cast<double>(off.bytes_in) / static_cast<double>(on.bytes_in);
  std::cout << "[ figures  ] corpus " << corpus.messages.size() << " messages, " << corpus.bytes
            << " bytes; wire in: compressed " << on.bytes_in << ", plain " << off.bytes_in
            << " (ratio " << ratio << "); wire out: compressed " << on.bytes_out << ", plain "
            << off.bytes_out << "\n";
  EXPECT_GE(ratio, 2.0) << "compressed " << on.bytes_in << " vs plain " << off.bytes_in;
  // The same IMAP conversation either way, but for COMPRESS, its answer and the
  // timings in Dovecot's OK texts.
  EXPECT_LT(on.imap_bytes_in > off.imap_bytes_in ? on.imap_bytes_in - off.imap_bytes_in
                                                 : off.imap_bytes_in - on.imap_bytes_in,
            off.imap_bytes_in / 100);
}

} // namespace
} // namespace uidsync::test
