// SPDX-License-Identifier: GPL-3.0-or-later
// The pure planner: see include/uidsync/sync/planner.hpp for the rules.
#include <uidsync/sync/planner.hpp>

#include <algorithm>
#include <map>
#include <set>

namespace uidsync::sync {

namespace {

using core::Flags;
using core::Uid;

Flags operator&(Flags a, Flags b) {
  return Flags(static_cast<std::uint8_t>(a.bits() & b.bits()));
}
Flags operator|(Flags a, Flags b) {
  return Flags(static_cast<std::uint8_t>(a.bits() | b.bits()));
}
Flags operator~(Flags a) {
  return Flags(static_cast<std::uint8_t>(~a.bits() & 0x3f));
}

// Three-way flag merge against the last agreed `base`. A flag added on either side
// is kept, even if the other side removed it (losing a \Flagged is worse than
// keeping one).
Flags merge_flags(Flags base, Flags remote, Flags local) {
  const Flags added = (remote & ~base) | (local & ~base);
  const Flags removed = (base & ~remote) | (base & ~local);
  return (base | added) & ~(removed & ~added);
}

bool exceeds_guard(std::size_t deletions, std::size_t folder_size, const PlanOptions& o) {
  return deletions > o.guard_count && deletions * 100 > std::size_t{o.guard_percent} * folder_size;
}

} // namespace

bool Plan::empty() const {
  return fetch.empty() && adopt.empty() && remote_flags.empty() && local_flags.empty() &&
         local_deletes.empty() && remote_deletes.empty() && appends.empty() &&
         state_flags.empty() && forget.empty();
}

Plan plan_folder(const std::vector<RemoteMsg>& remote, const std::vector<LocalMsg>& local,
                 const std::vector<StateRow>& state, const PlanOptions& options) {
  const bool two_way = options.direction == Direction::two_way;
  std::map<Uid, const RemoteMsg*> remote_by_uid;
  for (const auto& r : remote) {
    remote_by_uid.emplace(r.uid, &r);
  }
  std::map<std::string, const LocalMsg*> local_by_key;
  for (const auto& l : local) {
    local_by_key.emplace(l.key, &l);
  }
  std::map<Uid, const StateRow*> state_by_uid;
  for (const auto& s : state) {
    state_by_uid.emplace(s.uid, &s);
  }

  Plan plan;
  std::set<std::string> used_keys;
  std::set<std::string> state_keys;
  for (const auto& s : state) {
    state_keys.insert(s.key);
  }
  std::set<Uid> paired_uids;

  // Decides the flags of a pair and records what each side and the state need.
  auto sync_pair = [&](Uid uid, const LocalMsg& l, Flags base, Flags remote_flags) {
    const Flags agreed = two_way ? merge_flags(base, remote_flags, l.flags) : remote_flags;
    if (two_way && agreed != remote_flags) {
      plan.remote_flags.push_back({uid, agreed & ~remote_flags, remote_flags & ~agreed});
    }
    if (agreed != l.flags || l.uid != uid) {
      plan.local_flags.push_back({l.key, uid, agreed});
    }
    return agreed;
  };

  // A local file that carries `uid`, has `size` and is not claimed yet.
  auto find_renamed = [&](Uid uid, std::uint64_t size) -> const LocalMsg* {
    for (const auto& l : local) {
      if (l.uid == uid && l.size == size && used_keys.count(l.key) == 0 &&
          state_keys.count(l.key) == 0) {
        return &l;
      }
    }
    return nullptr;
  };

  // 1. Pairs the last sync recorded.
  for (const auto& [uid, s] : state_by_uid) {
    paired_uids.insert(uid);
    const auto r = remote_by_uid.find(uid);
    const auto l = local_by_key.find(s->key);
    const bool on_remote = r != remote_by_uid.end();
    const bool on_local = l != local_by_key.end();
    if (on_local) {
      used_keys.insert(s->key);
    }
    if (on_remote && on_local) {
      const Flags agreed = sync_pair(uid, *l->second, s->flags, r->second->flags);
      if (agreed != s->flags) {
        plan.state_flags.push_back({uid, agreed});
      }
    } else if (const LocalMsg* renamed = find_renamed(uid, s->size);
               on_remote && renamed != nullptr) {
      // The file's unique part changed (some mail readers rename on move): the
      // same UID and size in another name is the same message, not a deletion.
      used_keys.insert(renamed->key);
      const Flags agreed = sync_pair(uid, *renamed, s->flags, r->second->flags);
      plan.adopt.push_back({uid, renamed->key, s->flags});
      if (agreed != s->flags) {
        plan.state_flags.push_back({uid, agreed});
      }
    } else if (on_remote) {
      if (two_way) {
        plan.remote_deletes.push_back(uid);
      }
    } else if (on_local) {
      plan.local_deletes.push_back(s->key);
    } else {
      plan.forget.push_back(uid);
    }
  }

  // 2. Server messages the state does not know: adopt a matching local file, or fetch.
  std::map<Uid, std::vector<const LocalMsg*>> local_by_uid;
  for (const auto& [key, l] : local_by_key) {
    if (l->uid != 0 && used_keys.count(key) == 0) {
      local_by_uid[l->uid].push_back(l);
    }
  }
  for (const auto& [uid, r] : remote_by_uid) {
    if (paired_uids.count(uid) != 0) {
      continue;
    }
    paired_uids.insert(uid);
    const LocalMsg* match = nullptr;
    if (auto it = local_by_uid.find(uid); it != local_by_uid.end()) {
      for (const LocalMsg* candidate : it->second) {
        if (match == nullptr && candidate->size == r->size) {
          match = candidate;
        }
      }
    }
    if (match == nullptr) {
      plan.fetch.push_back(uid);
      continue;
    }
    used_keys.insert(match->key);
    // The pair is recorded with the flags both sides have now, before either is
    // changed: a crash between the record and the flag updates then still sees
    // each side's extra flags as additions to merge.
    const Flags common = r->flags & match->flags;
    const Flags agreed = sync_pair(uid, *match, common, r->flags);
    plan.adopt.push_back({uid, match->key, common});
    if (agreed != common) {
      plan.state_flags.push_back({uid, agreed});
    }
  }

  // 3. Local files nobody claimed: new local mail, or strays.
  for (const auto& [key, l] : local_by_key) {
    if (used_keys.count(key) != 0) {
      continue;
    }
    if (l->uid == 0) {
      if (two_way) {
        plan.appends.push_back({key, l->flags});
      }
    } else if (paired_uids.count(l->uid) != 0) {
      // The UID belongs to another file (a copy, or a size mismatch): never push
      // or delete it on that evidence.
      plan.stray.push_back(key);
    } else {
      // A ",U=" of this UIDVALIDITY that the server no longer lists and the state
      // does not know (the state was lost): the server expunged it.
      plan.local_deletes.push_back(key);
    }
  }

  // 4. The mass-deletion guard.
  const std::size_t folder_size = std::max(remote.size(), state.size());
  if (!plan.remote_deletes.empty()) {
    HoldReason reason = HoldReason::none;
    if (!options.local_folder_exists) {
      reason = HoldReason::local_folder_missing;
    } else if (local.empty()) {
      reason = HoldReason::local_folder_empty;
    } else if (!options.allow_mass_delete &&
               exceeds_guard(plan.remote_deletes.size(), folder_size, options)) {
      reason = HoldReason::too_many;
    }
    if (reason != HoldReason::none) {
      plan.held_remote_deletes = std::move(plan.remote_deletes);
      plan.remote_deletes.clear();
      plan.held_reason = reason;
    }
  }
  if (!plan.local_deletes.empty() && !options.allow_mass_delete &&
      exceeds_guard(plan.local_deletes.size(), folder_size, options)) {
    plan.held_local_deletes = std::move(plan.local_deletes);
    plan.local_deletes.clear();
    if (plan.held_reason == HoldReason::none) {
      plan.held_reason = HoldReason::too_many;
    }
  }
  return plan;
}

void PrintTo(const Plan& plan, std::ostream* os) {
  auto uids = [os](const char* what, const std::vector<Uid>& v) {
    if (!v.empty()) {
      *os << ' ' << what << '=';
      for (Uid u : v) {
        *os << u << ',';
      }
    }
  };
  auto keys = [os](const char* what, const std::vector<std::string>& v) {
    if (!v.empty()) {
      *os << ' ' << what << '=';
      for (const auto& k : v) {
        *os << k << ',';
      }
    }
  };
  *os << "Plan{";
  uids("fetch", plan.fetch);
  for (const auto& a : plan.adopt) {
    *os << " adopt=" << a.uid << ':' << a.key << ':' << a.flags.to_maildir();
  }
  for (const auto& f : plan.remote_flags) {
    *os << " rflags=" << f.uid << ":+" << f.add.to_maildir() << "-" << f.remove.to_maildir();
  }
  for (const auto& f : plan.local_flags) {
    *os << " lflags=" << f.key << ':' << f.uid << ':' << f.flags.to_maildir();
  }
  keys("ldel", plan.local_deletes);
  uids("rdel", plan.remote_deletes);
  for (const auto& a : plan.appends) {
    *os << " append=" << a.key << ':' << a.flags.to_maildir();
  }
  for (const auto& s : plan.state_flags) {
    *os << " sflags=" << s.uid << ':' << s.flags.to_maildir();
  }
  uids("forget", plan.forget);
  keys("stray", plan.stray);
  uids("held_rdel", plan.held_remote_deletes);
  keys("held_ldel", plan.held_local_deletes);
  *os << " held_reason=" << static_cast<int>(plan.held_reason) << " }";
}

} // namespace uidsync::sync
