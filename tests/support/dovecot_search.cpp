// SPDX-License-Identifier: GPL-3.0-or-later
// search_uids(): doveadm search, parsed.
#include "support/dovecot_search.hpp"

#include <sstream>

namespace uidsync::test {

std::vector<std::string> search_uids(Dovecot& dovecot, const std::string& folder,
                                     const std::vector<std::string>& query) {
  std::vector<std::string> args{"search", "-u", dovecot.user(), "mailbox", folder};
  args.insert(args.end(), query.begin(), query.end());
  // doveadm search prints "<guid> <uid>" per message.
  std::istringstream in(dovecot.doveadm(args));
  std::vector<std::string> out;
  for (std::string guid, uid; in >> guid >> uid;) {
    out.push_back(uid);
  }
  return out;
}

} // namespace uidsync::test
