// SPDX-License-Identifier: GPL-3.0-or-later
// The pure planner: see include/uidsync/sync/planner.hpp for the rules.
#include <uidsync/sync/planner.hpp>

#include <algorithm>
#include <string_view>

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

// Orders pointers to messages by UID, and compares them with a UID.
struct UidOrder {
  template <typename T> bool operator()(const T* a, const T* b) const { return a->uid < b->uid; }
  template <typename T> bool operator()(const T* a, Uid b) const { return a->uid < b; }
  template <typename T> bool operator()(Uid a, const T* b) const { return a < b->uid; }
};

// Pointers to `items` by UID ascending; of equal UIDs the first in `items` is kept.
template <typename T> std::vector<const T*> by_uid(const std::vector<T>& items) {
  std::vector<const T*> out;
  out.reserve(items.size());
  for (const auto& item : items) {
    out.push_back(&item);
  }
  std::stable_sort(out.begin(), out.end(), UidOrder{});
  out.erase(std::unique(out.begin(), out.end(),
                        [](const T* a, const T* b) { return a->uid == b->uid; }),
            out.end());
  return out;
}

// The entry of `sorted` (from by_uid()) with `uid`, nullptr when none has it.
template <typename T> const T* find_uid(const std::vector<const T*>& sorted, Uid uid) {
  const auto it = std::lower_bound(sorted.begin(), sorted.end(), uid, UidOrder{});
  return it != sorted.end() && (*it)->uid == uid ? *it : nullptr;
}

// Pointers to the local files by key ascending; of equal keys the first is kept.
std::vector<const LocalMsg*> by_key(const std::vector<LocalMsg>& local) {
  std::vector<const LocalMsg*> out;
  out.reserve(local.size());
  for (const auto& l : local) {
    out.push_back(&l);
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const LocalMsg* a, const LocalMsg* b) { return a->key < b->key; });
  out.erase(std::unique(out.begin(), out.end(),
                        [](const LocalMsg* a, const LocalMsg* b) { return a->key == b->key; }),
            out.end());
  return out;
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
  // Sorted indexes instead of maps: one allocation each, not one per message (a
  // change re-sync of a 35,000-message folder plans over every message).
  const auto remote_by_uid = by_uid(remote);
  const auto state_by_uid = by_uid(state);
  const auto local_by_key = by_key(local);
  // The key of every state row, to tell a renamed file from one the state knows.
  std::vector<std::string_view> state_keys;
  state_keys.reserve(state.size());
  for (const auto& s : state) {
    state_keys.emplace_back(s.key);
  }
  std::sort(state_keys.begin(), state_keys.end());
  // used[i]: local_by_key[i] (and every file with its key) is claimed.
  std::vector<bool> used(local_by_key.size(), false);
  const auto key_index = [&](std::string_view key) {
    return static_cast<std::size_t>(
        std::lower_bound(local_by_key.begin(), local_by_key.end(), key,
                         [](const LocalMsg* l, std::string_view k) { return l->key < k; }) -
        local_by_key.begin());
  };
  const auto find_local = [&](std::string_view key) -> const LocalMsg* {
    const auto i = key_index(key);
    return i < local_by_key.size() && local_by_key[i]->key == key ? local_by_key[i] : nullptr;
  };
  const auto is_used = [&](std::string_view key) {
    const auto i = key_index(key);
    return i < local_by_key.size() && local_by_key[i]->key == key && used[i];
  };
  const auto use = [&](std::string_view key) { used[key_index(key)] = true; };

  Plan plan;

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
      if (l.uid == uid && l.size == size && !is_used(l.key) &&
          !std::binary_search(state_keys.begin(), state_keys.end(), std::string_view(l.key))) {
        return &l;
      }
    }
    return nullptr;
  };

  // 1. Pairs the last sync recorded.
  for (const StateRow* s : state_by_uid) {
    const Uid uid = s->uid;
    const RemoteMsg* r = find_uid(remote_by_uid, uid);
    const LocalMsg* l = find_local(s->key);
    const bool on_remote = r != nullptr;
    const bool on_local = l != nullptr;
    if (on_local) {
      use(s->key);
    }
    if (on_remote && on_local) {
      const Flags agreed = sync_pair(uid, *l, s->flags, r->flags);
      if (agreed != s->flags) {
        plan.state_flags.push_back({uid, agreed});
      }
    } else if (const LocalMsg* renamed = find_renamed(uid, s->size);
               on_remote && renamed != nullptr) {
      // The file's unique part changed (some mail readers rename on move): the
      // same UID and size in another name is the same message, not a deletion.
      use(renamed->key);
      const Flags agreed = sync_pair(uid, *renamed, s->flags, r->flags);
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
  // Unclaimed local files with a UID, by UID (ties in key order).
  std::vector<const LocalMsg*> local_by_uid;
  for (std::size_t i = 0; i < local_by_key.size(); ++i) {
    if (local_by_key[i]->uid != 0 && !used[i]) {
      local_by_uid.push_back(local_by_key[i]);
    }
  }
  std::stable_sort(local_by_uid.begin(), local_by_uid.end(),
                   [](const LocalMsg* a, const LocalMsg* b) { return a->uid < b->uid; });
  for (const RemoteMsg* r : remote_by_uid) {
    const Uid uid = r->uid;
    if (find_uid(state_by_uid, uid) != nullptr) {
      continue;
    }
    const LocalMsg* match = nullptr;
    const auto [first, last] =
        std::equal_range(local_by_uid.begin(), local_by_uid.end(), uid, UidOrder{});
    for (auto it = first; it != last; ++it) {
      if (match == nullptr && (*it)->size == r->size) {
        match = *it;
      }
    }
    if (match == nullptr) {
      plan.fetch.push_back(uid);
      continue;
    }
    use(match->key);
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
  for (std::size_t i = 0; i < local_by_key.size(); ++i) {
    const LocalMsg* l = local_by_key[i];
    if (used[i]) {
      continue;
    }
    if (l->uid == 0) {
      if (two_way) {
        plan.appends.push_back({l->key, l->flags});
      }
    } else if (find_uid(state_by_uid, l->uid) != nullptr ||
               find_uid(remote_by_uid, l->uid) != nullptr) {
      // The UID belongs to another file (a copy, or a size mismatch): never push
      // or delete it on that evidence.
      plan.stray.push_back(l->key);
    } else {
      // A ",U=" of this UIDVALIDITY that the server no longer lists and the state
      // does not know (the state was lost): the server expunged it.
      plan.local_deletes.push_back(l->key);
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
