// SPDX-License-Identifier: GPL-3.0-or-later
// In-memory world and step-wise executor for planner tests.
#include "support/sync_world.hpp"

#include <algorithm>
#include <sstream>
#include <stdexcept>
#include <vector>

namespace uidsync::test {

namespace {

std::vector<std::string> words(const std::string& text) {
  std::istringstream in(text);
  std::vector<std::string> out;
  for (std::string w; in >> w;) {
    out.push_back(w);
  }
  return out;
}

std::pair<std::string, core::Flags> split_flags(const std::string& word) {
  const auto colon = word.find(':');
  if (colon == std::string::npos) {
    throw std::invalid_argument("missing ':' in '" + word + "'");
  }
  return {word.substr(0, colon), core::Flags::from_maildir(word.substr(colon + 1))};
}

std::string join_sorted(std::vector<std::string> items) {
  std::sort(items.begin(), items.end());
  std::string out;
  for (const auto& i : items) {
    out += (out.empty() ? "" : " ") + i;
  }
  return out;
}

} // namespace

SyncWorld SyncWorld::parse(const std::string& remote, const std::string& local,
                           const std::string& state) {
  SyncWorld w;
  for (const auto& word : words(remote)) {
    auto [uid, flags] = split_flags(word);
    const auto u = static_cast<core::Uid>(std::stoul(uid));
    w.remote[u] = {flags, "r" + uid};
    w.uidnext = std::max(w.uidnext, u + 1);
  }
  for (const auto& word : words(local)) {
    auto [lhs, flags] = split_flags(word);
    const auto eq = lhs.find('=');
    const std::string key = lhs.substr(0, eq);
    std::string uid = lhs.substr(eq + 1);
    Local l;
    l.flags = flags;
    if (uid == "-") {
      l.content = "l" + key;
    } else if (uid.front() == '~') {
      l.content = "r" + uid.substr(1);
    } else if (!uid.empty() && uid.back() == '!') {
      uid.pop_back();
      l.uid = static_cast<core::Uid>(std::stoul(uid));
      l.content = "x" + key + "-other";
    } else {
      l.uid = static_cast<core::Uid>(std::stoul(uid));
      l.content = "r" + uid;
    }
    w.local[key] = l;
  }
  for (const auto& word : words(state)) {
    auto [lhs, flags] = split_flags(word);
    const auto eq = lhs.find('=');
    const auto u = static_cast<core::Uid>(std::stoul(lhs.substr(0, eq)));
    const std::string key = lhs.substr(eq + 1);
    w.state[u] = {u, key, flags, ("r" + std::to_string(u)).size()};
    w.uidnext = std::max(w.uidnext, u + 1);
  }
  return w;
}

std::vector<sync::RemoteMsg> SyncWorld::remote_snapshot() const {
  std::vector<sync::RemoteMsg> out;
  for (const auto& [uid, r] : remote) {
    out.push_back({uid, r.flags, r.content.size()});
  }
  return out;
}

std::vector<sync::LocalMsg> SyncWorld::local_snapshot() const {
  std::vector<sync::LocalMsg> out;
  for (const auto& [key, l] : local) {
    out.push_back({key, l.uid, l.flags, l.content.size()});
  }
  return out;
}

std::vector<sync::StateRow> SyncWorld::state_rows() const {
  std::vector<sync::StateRow> out;
  for (const auto& [uid, s] : state) {
    out.push_back(s);
  }
  return out;
}

std::string SyncWorld::remote_text() const {
  std::vector<std::string> items;
  for (const auto& [uid, r] : remote) {
    items.push_back(r.content + ":" + r.flags.to_maildir());
  }
  return join_sorted(items);
}

std::string SyncWorld::local_text() const {
  std::vector<std::string> items;
  for (const auto& [key, l] : local) {
    items.push_back(l.content + ":" + l.flags.to_maildir());
  }
  return join_sorted(items);
}

void SyncWorld::recover() {
  for (const auto& [key, content] : pending_appends) {
    for (const auto& [uid, r] : remote) {
      if (r.content == content && state.count(uid) == 0) {
        state[uid] = {uid, key, r.flags, content.size()};
        break;
      }
    }
  }
  pending_appends.clear();
}

bool SyncWorld::execute(const sync::Plan& plan, int budget, int& steps) {
  steps = 0;
  auto step = [&]() {
    if (budget >= 0 && steps >= budget) {
      return false;
    }
    ++steps;
    return true;
  };
  auto erase_state_key = [this](const std::string& key) {
    for (auto it = state.begin(); it != state.end(); ++it) {
      if (it->second.key == key) {
        state.erase(it);
        return;
      }
    }
  };

  for (core::Uid uid : plan.fetch) {
    const auto& r = remote.at(uid);
    const std::string key = "f" + std::to_string(uid);
    if (!step()) { return false; }
    local[key] = {uid, r.flags, r.content};       // durable file with ,U=
    if (!step()) { return false; }
    state[uid] = {uid, key, r.flags, r.content.size()};
  }
  for (const auto& a : plan.adopt) {
    if (!step()) { return false; }
    state[a.uid] = {a.uid, a.key, a.flags, remote.at(a.uid).content.size()};
  }
  for (const auto& f : plan.remote_flags) {
    if (!step()) { return false; }
    auto& r = remote.at(f.uid);
    r.flags = core::Flags(static_cast<std::uint8_t>((r.flags.bits() | f.add.bits()) & ~f.remove.bits()));
  }
  for (const auto& f : plan.local_flags) {
    if (!step()) { return false; }
    auto& l = local.at(f.key);
    l.flags = f.flags;
    l.uid = f.uid;
  }
  for (const auto& s : plan.state_flags) {
    if (!step()) { return false; }
    state.at(s.uid).flags = s.flags;
  }
  for (const auto& key : plan.local_deletes) {
    if (!step()) { return false; }
    local.erase(key);
    if (!step()) { return false; }
    erase_state_key(key);
  }
  for (core::Uid uid : plan.remote_deletes) {
    if (!step()) { return false; }
    remote.erase(uid);
    if (!step()) { return false; }
    state.erase(uid);
  }
  for (const auto& a : plan.appends) {
    auto& l = local.at(a.key);
    if (!step()) { return false; }
    pending_appends[a.key] = l.content;           // journal the intent first
    if (!step()) { return false; }
    const core::Uid uid = uidnext++;
    remote[uid] = {a.flags, l.content};           // APPEND (APPENDUID gives uid)
    if (!step()) { return false; }
    l.uid = uid;                                  // rename to carry ,U=
    if (!step()) { return false; }
    state[uid] = {uid, a.key, a.flags, l.content.size()};
    pending_appends.erase(a.key);
  }
  for (core::Uid uid : plan.forget) {
    if (!step()) { return false; }
    state.erase(uid);
  }
  return true;
}

std::string plan_summary(const sync::Plan& plan) {
  std::string out;
  auto add = [&out](const char* what, std::size_t n) {
    if (n != 0) {
      out += (out.empty() ? "" : " ") + std::string(what) + "=" + std::to_string(n);
    }
  };
  add("fetch", plan.fetch.size());
  add("adopt", plan.adopt.size());
  add("rflags", plan.remote_flags.size());
  add("lflags", plan.local_flags.size());
  add("ldel", plan.local_deletes.size());
  add("rdel", plan.remote_deletes.size());
  add("append", plan.appends.size());
  add("sflags", plan.state_flags.size());
  add("forget", plan.forget.size());
  add("stray", plan.stray.size());
  add("held_rdel", plan.held_remote_deletes.size());
  add("held_ldel", plan.held_local_deletes.size());
  return out.empty() ? "-" : out;
}

} // namespace uidsync::test
