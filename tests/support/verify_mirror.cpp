// SPDX-License-Identifier: GPL-3.0-or-later
// Checks a synced Maildir against the Dovecot fixture's mailboxes and the state DB.
#include "support/verify_mirror.hpp"

#include "support/sync_cli.hpp"
#include "support/temp_dir.hpp"

#include <uidsync/state/db.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>

namespace uidsync::test {

namespace fs = std::filesystem;

namespace {

// Maildir flag letters D F R S of an IMAP flag list.
std::string letters_of_imap(const std::string& flags) {
  std::string out;
  for (const auto& [name, letter] : {std::pair{"\\Draft", 'D'}, std::pair{"\\Flagged", 'F'},
                                     std::pair{"\\Answered", 'R'}, std::pair{"\\Seen", 'S'}}) {
    std::istringstream in(flags);
    for (std::string word; in >> word;) {
      if (word == name) {
        out += letter;
      }
    }
  }
  return out;
}

// Maildir flag letters D F R S of a file name ("…:2,FS").
std::string letters_of_name(const std::string& name) {
  const auto info = name.find(":2,");
  std::string out;
  if (info == std::string::npos) {
    return out;
  }
  for (const char c : std::string("DFRS")) {
    if (name.find(c, info + 3) != std::string::npos) {
      out += c;
    }
  }
  return out;
}

std::string without_cr(std::string text) {
  std::erase(text, '\r');
  return text;
}

// The Message-ID of the header of `text`, or "" when there is none.
std::string message_id(const std::string& text) {
  const auto end = std::min(text.find("\n\n"), text.find("\r\n\r\n"));
  const std::string head = text.substr(0, end);
  std::istringstream in(head);
  for (std::string line; std::getline(in, line);) {
    if (line.size() > 11 && std::equal(line.begin(), line.begin() + 11, "message-id:",
                                       [](char a, char b) { return std::tolower(a) == b; })) {
      const auto open = line.find('<');
      const auto close = line.find('>', open);
      if (open != std::string::npos && close != std::string::npos) {
        return line.substr(open, close - open + 1);
      }
    }
  }
  return {};
}

struct LocalFile {
  std::string name; // "cur/…" or "new/…"
  std::string text;
};

} // namespace

std::string MirrorReport::text(std::size_t max_lines) const {
  std::string out = std::to_string(server_messages) + " server messages, " +
                    std::to_string(local_files) + " local files, " + std::to_string(db_rows) +
                    " DB rows, " + std::to_string(problems.size()) + " problems\n";
  for (std::size_t i = 0; i < problems.size() && i < max_lines; ++i) {
    out += "  " + problems[i] + "\n";
  }
  return out;
}

std::vector<ServerMessage> server_messages(Dovecot& dovecot, const std::string& folder) {
  // The pager format: "uid: N\nflags: …\ntext:\n<text>" records separated by "\f\n".
  const auto out = dovecot.doveadm(
      {"fetch", "-u", dovecot.user(), "uid flags text", "mailbox", folder, "all"});
  std::vector<ServerMessage> messages;
  std::size_t pos = 0;
  while (pos < out.size()) {
    auto end = out.find("\n\f\n", pos);
    const auto record = out.substr(pos, end == std::string::npos ? std::string::npos
                                                                 : end + 1 - pos);
    pos = end == std::string::npos ? out.size() : end + 3;
    const auto flags_at = record.find("\nflags:");
    const auto text_at = record.find("\ntext:\n");
    if (!record.starts_with("uid: ") || flags_at == std::string::npos ||
        text_at == std::string::npos) {
      throw std::runtime_error("unexpected doveadm fetch output for " + folder + ": " +
                               record.substr(0, 200));
    }
    ServerMessage m;
    m.uid = record.substr(5, flags_at - 5);
    m.flags = record.substr(flags_at + 7, text_at - flags_at - 7);
    m.flags.erase(0, m.flags.find_first_not_of(' '));
    m.text = record.substr(text_at + 7);
    messages.push_back(std::move(m));
  }
  return messages;
}

MirrorReport verify_mirror(Dovecot& dovecot, const std::vector<std::string>& folders,
                           const fs::path& root, const fs::path& db_path) {
  MirrorReport report;
  auto problem = [&](const std::string& folder, const std::string& what) {
    report.problems.push_back(folder + ": " + what);
  };
  auto db = state::Db::open(db_path);
  if (!db) {
    report.problems.push_back("cannot open the state DB " + db_path.string() + ": " +
                              db.error().what());
  }
  for (const auto& folder : folders) {
    std::vector<ServerMessage> server;
    try {
      server = server_messages(dovecot, folder);
    } catch (const std::exception& e) {
      problem(folder, e.what());
      continue;
    }
    report.server_messages += server.size();

    std::optional<state::FolderRow> row;
    std::vector<state::MessageRow> rows;
    if (db) {
      auto r = db->folder(folder);
      if (!r || !*r) {
        problem(folder, "no folder row in the state DB");
      } else {
        row = **r;
        auto m = db->messages(row->id);
        auto j = db->appends(row->id);
        if (m) {
          rows = *m;
        }
        if (j && !j->empty()) {
          problem(folder, std::to_string(j->size()) + " APPEND journal entries left");
        }
      }
    }
    const fs::path dir = root / (row ? fs::path(row->local_path) : fs::path(folder));

    // Local files by Message-ID.
    std::map<std::string, std::vector<LocalFile>> local;
    std::set<std::string> names;
    for (const char* sub : {"cur", "new"}) {
      if (!fs::is_directory(dir / sub)) {
        continue;
      }
      for (const auto& e : fs::directory_iterator(dir / sub)) {
        LocalFile f{std::string(sub) + "/" + e.path().filename().string(), read_file(e.path())};
        ++report.local_files;
        names.insert(f.name);
        const auto id = message_id(f.text);
        local[id.empty() ? "file " + f.name : id].push_back(std::move(f));
      }
    }

    std::map<std::string, std::string> uid_of; // Message-ID -> server UID
    for (const auto& m : server) {
      const auto id = message_id(m.text);
      uid_of[id] = m.uid;
      const auto it = local.find(id);
      if (it == local.end()) {
        problem(folder, "UID " + m.uid + " " + id + " missing locally");
        continue;
      }
      if (it->second.size() > 1) {
        problem(folder, "UID " + m.uid + " " + id + " present " +
                            std::to_string(it->second.size()) + " times");
      }
      const auto& f = it->second.front();
      const auto lf = without_cr(m.text);
      // Downloaded mail is what IMAP serves (CRLF); a file written locally with LF
      // line ends and uploaded keeps its bytes.
      if (f.text != crlf(lf) && f.text != lf) {
        problem(folder, "UID " + m.uid + " " + id + " differs in bytes: " + f.name);
      }
      if (letters_of_name(f.name) != letters_of_imap(m.flags)) {
        problem(folder, "UID " + m.uid + " " + id + " has flags \"" + letters_of_name(f.name) +
                            "\" locally, server has \"" + m.flags + "\": " + f.name);
      }
      local.erase(it);
    }
    for (const auto& [id, files] : local) {
      for (const auto& f : files) {
        problem(folder, "local file not on the server: " + f.name + " " + id);
      }
    }

    if (!row) {
      continue;
    }
    report.db_rows += rows.size();
    std::set<std::string> named;
    for (const auto& r : rows) {
      const std::string what = "DB row UID " + std::to_string(r.uid) + " (" + r.local_name + ")";
      if (r.state != state::MessageState::present) {
        problem(folder, what + " left in state " + std::to_string(static_cast<int>(r.state)));
        continue;
      }
      named.insert(r.local_name);
      if (names.count(r.local_name) == 0) {
        problem(folder, what + " has no file");
      }
      const auto uid = uid_of.find(r.message_id);
      if (uid == uid_of.end() || uid->second != std::to_string(r.uid)) {
        problem(folder, what + " " + r.message_id + " does not match the server's UID " +
                            (uid == uid_of.end() ? std::string("(none)") : uid->second));
      }
    }
    for (const auto& name : names) {
      if (named.count(name) == 0) {
        problem(folder, "file without a DB row: " + name);
      }
    }
  }
  return report;
}

void seed_folder(Dovecot& dovecot, const std::string& folder,
                 const std::vector<std::string>& messages, const std::string& flags) {
  static std::atomic<unsigned> counter{0};
  std::string on_disk = folder;
  std::replace(on_disk.begin(), on_disk.end(), '/', '.');
  const fs::path dir = folder == "INBOX" ? dovecot.mail_dir() : dovecot.mail_dir() / ("." + on_disk);
  if (!fs::is_directory(dir / "cur")) {
    dovecot.doveadm({"mailbox", "create", "-u", dovecot.user(), folder});
  }
  struct stat owner {};
  if (::stat(dovecot.mail_dir().c_str(), &owner) != 0) {
    throw std::runtime_error("cannot stat " + dovecot.mail_dir().string());
  }
  for (const auto& text : messages) {
    const std::string base = "1700000000.M" + std::to_string(counter++) + "P" +
                             std::to_string(::getpid()) + ".seed";
    const fs::path tmp = dir / "tmp" / base;
    {
      std::ofstream out(tmp, std::ios::binary);
      out << text;
      if (!out) {
        throw std::runtime_error("cannot write " + tmp.string());
      }
    }
    if (::chown(tmp.c_str(), owner.st_uid, owner.st_gid) != 0) {
      throw std::runtime_error("cannot chown " + tmp.string());
    }
    fs::rename(tmp, dir / "cur" / (base + ":2," + flags));
  }
}

} // namespace uidsync::test
