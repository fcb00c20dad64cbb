// SPDX-License-Identifier: GPL-3.0-or-later
// config.toml → core::Config: a key schema per table, then per-account checks.
// Every problem is collected (not just the first) with its file:line:col.
#include <uidsync/cli/config_file.hpp>
#include <uidsync/core/paths.hpp>
#include <uidsync/util/log.hpp>
#include <uidsync/util/process.hpp>

#include <toml++/toml.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/stat.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>
#include <vector>

namespace uidsync::cli {

namespace {

enum class Type {
  string,
  integer,
  boolean,
  strings, // array of strings
  command, // string or array of strings
  netrc,   // boolean or string (a path)
  table,
};

struct KeySpec {
  std::string_view name;
  Type type;
  bool required;
  std::string_view example; // a valid TOML value, for hints
  bool secret = false;      // never echo its value
};

constexpr std::array k_top_keys{
    KeySpec{"general", Type::table, false, "{ state_dir = \"~/.local/state/uidsync\" }"},
    KeySpec{"accounts", Type::table, true, "{ work = { host = \"imap.example.org\" } }"},
};

constexpr std::array k_general_keys{
    KeySpec{"state_dir", Type::string, false, "\"~/.local/state/uidsync\""},
};

constexpr std::array k_account_keys{
    KeySpec{"host", Type::string, true, "\"imap.example.org\""},
    KeySpec{"port", Type::integer, false, "993"},
    KeySpec{"tls", Type::string, false, "\"implicit\""},
    KeySpec{"allow_plaintext", Type::boolean, false, "true"},
    KeySpec{"ca_file", Type::string, false, "\"~/certs/ca.pem\""},
    KeySpec{"fingerprint", Type::string, false, "\"sha256:<64 hex digits>\""},
    KeySpec{"user", Type::string, true, "\"me@example.org\""},
    KeySpec{"password_cmd", Type::command, false, "\"pass show mail/work\""},
    KeySpec{"password", Type::string, false, "\"...\"", true},
    KeySpec{"netrc", Type::netrc, false, "true"},
    KeySpec{"auth", Type::string, false, "\"auto\""},
    KeySpec{"oauth2_token_cmd", Type::command, false, "[\"oama\", \"access\", \"me@example.org\"]"},
    KeySpec{"proxy", Type::string, false, "\"socks5h://127.0.0.1:9050\""},
    KeySpec{"bind_address", Type::string, false, "\"192.0.2.10\""},
    KeySpec{"compress", Type::boolean, false, "false"},
    KeySpec{"maildir", Type::string, true, "\"~/Mail/work\""},
    KeySpec{"layout", Type::string, false, "\"fs\""},
    KeySpec{"folders", Type::strings, false, "[\"*\", \"!Trash\"]"},
    KeySpec{"direction", Type::string, false, "\"two-way\""},
    KeySpec{"max_connections", Type::integer, false, "4"},
    KeySpec{"post_sync_cmd", Type::command, false, "\"notmuch new\""},
    KeySpec{"timeout", Type::integer, false, "60"},
    KeySpec{"quarantine", Type::table, false, "{ backoff = [\"1h\", \"4h\", \"1d\", \"7d\"] }"},
    KeySpec{"guard", Type::table, false, "{ max_delete_percent = 25 }"},
};

constexpr std::array k_quarantine_keys{
    KeySpec{"backoff", Type::strings, false, "[\"1h\", \"4h\", \"1d\", \"7d\"]"},
};

constexpr std::array k_guard_keys{
    KeySpec{"max_delete_percent", Type::integer, false, "25"},
    KeySpec{"max_delete_count", Type::integer, false, "10"},
};

bool is_string_array(const toml::node& node) {
  const auto* array = node.as_array();
  return array != nullptr && std::all_of(array->begin(), array->end(),
                                         [](const toml::node& n) { return n.is_string(); });
}

bool matches(Type type, const toml::node& node) {
  switch (type) {
  case Type::string:
    return node.is_string();
  case Type::integer:
    return node.is_integer();
  case Type::boolean:
    return node.is_boolean();
  case Type::strings:
    return is_string_array(node);
  case Type::command:
    return node.is_string() || is_string_array(node);
  case Type::netrc:
    return node.is_boolean() || node.is_string();
  case Type::table:
    return node.is_table();
  }
  return false;
}

std::string_view type_name(Type type) {
  switch (type) {
  case Type::string:
    return "a string";
  case Type::integer:
    return "an integer";
  case Type::boolean:
    return "a boolean (true or false)";
  case Type::strings:
    return "an array of strings";
  case Type::command:
    return "a string or an array of strings";
  case Type::netrc:
    return "true, false or a file path";
  case Type::table:
    return "a table";
  }
  return "a value";
}

// A scalar as TOML writes it: 993, true, 1.5 (strings without quotes).
std::string scalar_text(const toml::node& node) {
  std::ostringstream out;
  if (node.is_string()) {
    out << node.value_or(std::string_view{});
  } else if (node.is_integer()) {
    out << node.value_or(std::int64_t{0});
  } else if (node.is_floating_point()) {
    out << node.value_or(0.0);
  } else if (node.is_boolean()) {
    out << (node.value_or(false) ? "true" : "false");
  }
  return out.str();
}

// "a string (\"993\")", "an integer (993)", ...; secrets show only their type.
std::string describe(const toml::node& node, bool secret) {
  std::string kind;
  switch (node.type()) {
  case toml::node_type::string:
    kind = "a string";
    break;
  case toml::node_type::integer:
    kind = "an integer";
    break;
  case toml::node_type::floating_point:
    kind = "a float";
    break;
  case toml::node_type::boolean:
    kind = "a boolean";
    break;
  case toml::node_type::array:
    return node.as_array()->empty() || is_string_array(node) ? "an array"
                                                             : "an array with non-string items";
  case toml::node_type::table:
    return "a table";
  default:
    return "a date or time";
  }
  if (secret) {
    return kind;
  }
  const std::string value = scalar_text(node);
  return kind + " (" + (node.is_string() ? "\"" + value + "\"" : value) + ")";
}

char lower(char c) {
  return static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
}

template <std::size_t N>
const KeySpec* find_key(const std::array<KeySpec, N>& keys, std::string_view name) {
  for (const auto& key : keys) {
    if (key.name == name) {
      return &key;
    }
  }
  return nullptr;
}

// The closest of `candidates` within distance 2, or empty.
template <class Range>
std::string_view closest(std::string_view word, const Range& candidates) {
  std::string_view best;
  std::size_t best_distance = 3;
  for (std::string_view candidate : candidates) {
    const std::size_t d = edit_distance(word, candidate);
    if (d < best_distance) {
      best = candidate;
      best_distance = d;
    }
  }
  return best;
}

template <std::size_t N>
std::vector<std::string_view> names(const std::array<KeySpec, N>& keys) {
  std::vector<std::string_view> out;
  for (const auto& key : keys) {
    out.push_back(key.name);
  }
  return out;
}

std::string join(const std::vector<std::string_view>& words, std::string_view sep) {
  std::string out;
  for (std::size_t i = 0; i < words.size(); ++i) {
    out += (i == 0 ? "" : std::string(sep)) + std::string(words[i]);
  }
  return out;
}

std::optional<std::int64_t> parse_int(std::string_view text) {
  std::int64_t value = 0;
  const auto* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc() || ptr != end || text.empty()) {
    return std::nullopt;
  }
  return value;
}

// "90s", "30m", "4h", "1d", "2w" → seconds.
std::optional<std::chrono::seconds> parse_duration(std::string_view text) {
  if (text.size() < 2) {
    return std::nullopt;
  }
  const auto count = parse_int(text.substr(0, text.size() - 1));
  if (!count || *count <= 0) {
    return std::nullopt;
  }
  std::int64_t unit = 0;
  switch (text.back()) {
  case 's':
    unit = 1;
    break;
  case 'm':
    unit = 60;
    break;
  case 'h':
    unit = 3600;
    break;
  case 'd':
    unit = 86400;
    break;
  case 'w':
    unit = 7 * 86400;
    break;
  default:
    return std::nullopt;
  }
  return std::chrono::seconds(*count * unit);
}

bool valid_account_name(std::string_view name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '.' || c == '-';
  });
}

class Checker {
public:
  explicit Checker(std::string file) : m_file(std::move(file)) {}

  void error(const toml::source_region& where, std::string_view key, const std::string& what) {
    m_errors.push_back({where.begin.line, where.begin.column,
                        m_file + ":" + std::to_string(where.begin.line) + ":" +
                            std::to_string(where.begin.column) + ": " + std::string(key) + ": " +
                            what});
  }

  // Unknown keys get a "did you mean"; known keys of the wrong type get the
  // value they probably meant. Returns false when `table` had a problem.
  template <std::size_t N>
  bool check_keys(const toml::table& table, std::string_view prefix,
                  const std::array<KeySpec, N>& keys) {
    bool ok = true;
    const auto known = names(keys);
    for (auto&& [key, node] : table) {
      const std::string path = std::string(prefix) + std::string(key.str());
      const KeySpec* spec = find_key(keys, key.str());
      if (spec == nullptr) {
        const auto guess = closest(key.str(), known);
        error(key.source(), path,
              guess.empty() ? "unknown key; known keys here are " + join(known, ", ")
                            : "unknown key; did you mean \"" + std::string(guess) + "\"?");
        ok = false;
        continue;
      }
      if (!matches(spec->type, node)) {
        error(node.source(), path,
              "expected " + std::string(type_name(spec->type)) + ", got " +
                  describe(node, spec->secret) + "; " + type_hint(*spec, node));
        ok = false;
      }
    }
    for (const auto& spec : keys) {
      if (spec.required && !table.contains(spec.name)) {
        std::string hint = "add e.g. " + std::string(spec.name) + " = " + std::string(spec.example);
        for (auto&& [key, node] : table) {
          if (find_key(keys, key.str()) == nullptr && edit_distance(key.str(), spec.name) <= 2) {
            hint = "did you mean \"" + std::string(spec.name) + "\" instead of \"" +
                   std::string(key.str()) + "\" (line " + std::to_string(key.source().begin.line) +
                   ")?";
          }
        }
        error(table.source(), std::string(prefix) + std::string(spec.name),
              "missing required key; " + hint);
        ok = false;
      }
    }
    return ok;
  }

  template <class Enum, std::size_t N>
  std::optional<Enum> enum_value(const toml::table& table, std::string_view key,
                                 std::string_view prefix,
                                 const std::array<std::pair<std::string_view, Enum>, N>& values) {
    const toml::node* node = table.get(key);
    if (node == nullptr || !node->is_string()) {
      return std::nullopt;
    }
    const auto text = node->value_or(std::string_view{});
    std::vector<std::string_view> spellings;
    for (const auto& [spelling, value] : values) {
      if (spelling == text) {
        return value;
      }
      spellings.push_back(spelling);
    }
    const auto guess = closest(text, spellings);
    error(node->source(), std::string(prefix) + std::string(key),
          "unknown value \"" + std::string(text) + "\"; " +
              (guess.empty() ? "expected one of " + join(spellings, ", ")
                             : "did you mean \"" + std::string(guess) + "\"?"));
    return std::nullopt;
  }

  // Every problem, one per line, in file order.
  std::string report() const {
    auto sorted = m_errors;
    std::stable_sort(sorted.begin(), sorted.end(), [](const Problem& a, const Problem& b) {
      return a.line != b.line ? a.line < b.line : a.column < b.column;
    });
    std::string out;
    for (const auto& problem : sorted) {
      out += (out.empty() ? "" : "\n") + problem.text;
    }
    return out;
  }
  bool ok() const { return m_errors.empty(); }
  const std::string& file() const { return m_file; }

private:
  static std::string type_hint(const KeySpec& spec, const toml::node& node) {
    const std::string key(spec.name);
    if (spec.type == Type::integer && node.is_string()) {
      if (const auto n = parse_int(node.value_or(std::string_view{}))) {
        return "did you mean " + key + " = " + std::to_string(*n) + " (without quotes)?";
      }
    }
    if (spec.type == Type::boolean && node.is_string()) {
      const auto text = node.value_or(std::string_view{});
      if (text == "true" || text == "false") {
        return "did you mean " + key + " = " + std::string(text) + " (without quotes)?";
      }
    }
    if ((spec.type == Type::string || spec.type == Type::command) &&
        (node.is_integer() || node.is_boolean() || node.is_floating_point()) && !spec.secret) {
      return "did you mean " + key + " = \"" + scalar_text(node) + "\" (in quotes)?";
    }
    if (spec.type == Type::strings && node.is_string()) {
      return "did you mean " + key + " = [\"" + std::string(node.value_or(std::string_view{})) +
             "\"] (an array)?";
    }
    return "write e.g. " + key + " = " + std::string(spec.example);
  }

  struct Problem {
    toml::source_index line;
    toml::source_index column;
    std::string text;
  };
  std::string m_file;
  std::vector<Problem> m_errors;
};

std::string node_string(const toml::table& table, std::string_view key) {
  return std::string(table[key].value_or(std::string_view{}));
}

// A command key (string or array of strings) → core::Command; reports errors.
core::Command read_command(Checker& check, const toml::table& table, std::string_view key,
                           const std::string& prefix) {
  core::Command command;
  const toml::node* node = table.get(key);
  if (node == nullptr) {
    return command;
  }
  const std::string path = prefix + std::string(key);
  if (const auto* text = node->as_string()) {
    command.text = text->get();
    auto argv = util::split_command(command.text);
    if (!argv) {
      check.error(node->source(), path, argv.error() + "; quote with '...' or use an array");
      return command;
    }
    command.argv = std::move(*argv);
  } else if (const auto* array = node->as_array()) {
    for (const auto& item : *array) {
      command.argv.emplace_back(item.value_or(std::string_view{}));
      command.text += (command.text.empty() ? "" : " ") + command.argv.back();
    }
    if (command.argv.empty() || command.argv.front().empty()) {
      check.error(node->source(), path,
                  "empty command; write the program and its arguments, e.g. " +
                      path.substr(path.rfind('.') + 1) + " = [\"pass\", \"show\", \"mail\"]");
      command.argv.clear();
    }
  }
  return command;
}

// A path key: "~" expanded, must end up absolute.
std::filesystem::path read_path(Checker& check, const toml::table& table, std::string_view key,
                                const std::string& prefix) {
  const toml::node* node = table.get(key);
  if (node == nullptr || !node->is_string()) {
    return {};
  }
  const auto text = node->value_or(std::string_view{});
  auto path = core::expand_home(text);
  if (!path) {
    check.error(node->source(), prefix + std::string(key), path.error().what());
    return {};
  }
  if (!path->is_absolute()) {
    check.error(node->source(), prefix + std::string(key),
                "\"" + std::string(text) +
                    "\" is a relative path; write an absolute path or one starting with ~/");
    return {};
  }
  return *path;
}

std::optional<std::int64_t> read_int(Checker& check, const toml::table& table, std::string_view key,
                                     const std::string& prefix, std::int64_t min,
                                     std::int64_t max) {
  const toml::node* node = table.get(key);
  if (node == nullptr || !node->is_integer()) {
    return std::nullopt;
  }
  const auto value = node->value_or(std::int64_t{0});
  if (value < min || value > max) {
    check.error(node->source(), prefix + std::string(key),
                std::to_string(value) + " is out of range; use " + std::to_string(min) + ".." +
                    std::to_string(max));
    return std::nullopt;
  }
  return value;
}

// "sha256:AB:CD:..." or "sha256:abcd..." → 64 lowercase hex digits, or empty.
std::string normalize_fingerprint(std::string_view text) {
  constexpr std::string_view prefix = "sha256:";
  if (text.size() < prefix.size() || !std::equal(prefix.begin(), prefix.end(), text.begin(),
                                                 [](char a, char b) { return a == lower(b); })) {
    return {};
  }
  std::string hex;
  for (char c : text.substr(prefix.size())) {
    if (c == ':') {
      continue;
    }
    if (std::isxdigit(static_cast<unsigned char>(c)) == 0) {
      return {};
    }
    hex.push_back(lower(c));
  }
  return hex.size() == 64 ? hex : std::string{};
}

constexpr std::array<std::pair<std::string_view, core::Tls>, 3> k_tls_values{
    {{"implicit", core::Tls::implicit},
     {"starttls", core::Tls::starttls},
     {"none", core::Tls::none}}};
constexpr std::array<std::pair<std::string_view, core::Auth>, 5> k_auth_values{
    {{"auto", core::Auth::automatic},
     {"plain", core::Auth::plain},
     {"login", core::Auth::login},
     {"xoauth2", core::Auth::xoauth2},
     {"oauthbearer", core::Auth::oauthbearer}}};
constexpr std::array<std::pair<std::string_view, core::Layout>, 2> k_layout_values{
    {{"fs", core::Layout::fs}, {"maildir++", core::Layout::maildir_plus_plus}}};
constexpr std::array<std::pair<std::string_view, core::Direction>, 2> k_direction_values{
    {{"two-way", core::Direction::two_way}, {"pull", core::Direction::pull}}};
constexpr std::array<std::string_view, 5> k_proxy_schemes{"socks5h://", "socks5://", "socks4://",
                                                          "http://", "https://"};

void read_password_source(Checker& check, const toml::table& table, const std::string& prefix,
                          core::Account& account) {
  struct Present {
    std::string_view key;
    const toml::node* node;
  };
  std::vector<Present> present;
  for (std::string_view key : {"password_cmd", "password", "netrc"}) {
    const toml::node* node = table.get(key);
    if (node == nullptr || (key == "netrc" && node->is_boolean() && !node->value_or(false))) {
      continue;
    }
    present.push_back({key, node});
  }
  if (present.size() > 1) {
    std::string listed;
    for (std::size_t i = 0; i < present.size(); ++i) {
      listed += (i == 0 ? "" : " and ") + std::string(present[i].key) + " (line " +
                std::to_string(present[i].node->source().begin.line) + ")";
    }
    check.error(present[1].node->source(), prefix + std::string(present[1].key),
                "more than one password source: " + listed + "; keep only one");
    return;
  }
  if (present.empty()) {
    return;
  }
  if (present.front().key == "password_cmd") {
    account.password.kind = core::PasswordSource::Kind::command;
    account.password.command = read_command(check, table, "password_cmd", prefix);
  } else if (present.front().key == "password") {
    account.password.kind = core::PasswordSource::Kind::inline_password;
    account.password.secret = node_string(table, "password");
    if (account.password.secret.empty()) {
      check.error(present.front().node->source(), prefix + "password",
                  "empty password; write it, or use password_cmd");
    }
  } else {
    account.password.kind = core::PasswordSource::Kind::netrc;
    if (present.front().node->is_string()) {
      account.password.netrc = read_path(check, table, "netrc", prefix);
    }
  }
}

void read_folders(Checker& check, const toml::table& table, const std::string& prefix,
                  core::Account& account) {
  const toml::node* node = table.get("folders");
  if (node == nullptr || !is_string_array(*node)) {
    return;
  }
  account.folders.clear();
  for (const auto& item : *node->as_array()) {
    const auto glob = item.value_or(std::string_view{});
    if (glob.empty() || glob == "!") {
      check.error(item.source(), prefix + "folders",
                  "empty folder pattern; write a name or glob such as \"INBOX\" or \"Lists/*\"");
      continue;
    }
    account.folders.emplace_back(glob);
  }
  if (node->as_array()->empty()) {
    check.error(node->source(), prefix + "folders",
                "empty list syncs nothing; remove the key to sync all folders, or list some");
  }
}

void read_policies(Checker& check, const toml::table& table, const std::string& prefix,
                   core::Account& account) {
  if (const auto* quarantine = table["quarantine"].as_table()) {
    const std::string sub = prefix + "quarantine.";
    if (check.check_keys(*quarantine, sub, k_quarantine_keys)) {
      if (const auto* backoff = (*quarantine)["backoff"].as_array()) {
        account.quarantine.backoff.clear();
        for (const auto& item : *backoff) {
          const auto text = item.value_or(std::string_view{});
          if (const auto d = parse_duration(text)) {
            account.quarantine.backoff.push_back(*d);
          } else {
            check.error(item.source(), sub + "backoff",
                        "\"" + std::string(text) +
                            "\" is not a duration; write a number and a unit s, m, h, d or w, "
                            "e.g. \"4h\"");
          }
        }
        if (backoff->empty()) {
          check.error(backoff->source(), sub + "backoff",
                      "empty list; write e.g. backoff = [\"1h\", \"4h\", \"1d\", \"7d\"]");
        }
      }
    }
  }
  if (const auto* guard = table["guard"].as_table()) {
    const std::string sub = prefix + "guard.";
    if (check.check_keys(*guard, sub, k_guard_keys)) {
      if (const auto v = read_int(check, *guard, "max_delete_percent", sub, 0, 100)) {
        account.guard.max_delete_percent = static_cast<int>(*v);
      }
      if (const auto v = read_int(check, *guard, "max_delete_count", sub, 0, 1'000'000'000)) {
        account.guard.max_delete_count = static_cast<int>(*v);
      }
    }
  }
}

void read_connection(Checker& check, const toml::table& table, const std::string& prefix,
                     core::Account& account) {
  account.host = node_string(table, "host");
  account.user = node_string(table, "user");
  if (const auto tls = check.enum_value(table, "tls", prefix, k_tls_values)) {
    account.tls = *tls;
  }
  account.allow_plaintext = table["allow_plaintext"].value_or(false);
  if (const auto compress = table["compress"].value<bool>()) {
    account.compress = *compress;
  }
  if (account.tls == core::Tls::none && !account.allow_plaintext) {
    check.error(table["tls"].node()->source(), prefix + "tls",
                "\"none\" sends the password and all mail unencrypted; use \"starttls\" or "
                "\"implicit\", or add allow_plaintext = true if you really mean it");
  }
  account.port = core::default_port(account.tls);
  if (const auto port = read_int(check, table, "port", prefix, 1, 65535)) {
    account.port = static_cast<std::uint16_t>(*port);
  }
  account.ca_file = read_path(check, table, "ca_file", prefix);
  if (!account.ca_file.empty() && !std::filesystem::is_regular_file(account.ca_file)) {
    check.error(table["ca_file"].node()->source(), prefix + "ca_file",
                "no such file " + account.ca_file.string() +
                    "; give the PEM file of the CA that signed the server's certificate");
  }
  if (const toml::node* node = table.get("fingerprint"); node != nullptr && node->is_string()) {
    account.fingerprint = normalize_fingerprint(node->value_or(std::string_view{}));
    if (account.fingerprint.empty()) {
      check.error(node->source(), prefix + "fingerprint",
                  "not a SHA-256 fingerprint; write \"sha256:\" and 64 hex digits (colons "
                  "allowed), as printed by: openssl x509 -noout -fingerprint -sha256");
    }
  }
  if (const toml::node* node = table.get("proxy"); node != nullptr && node->is_string()) {
    account.proxy = node_string(table, "proxy");
    const bool known =
        std::any_of(k_proxy_schemes.begin(), k_proxy_schemes.end(), [&](std::string_view scheme) {
          return account.proxy.rfind(scheme, 0) == 0 && account.proxy.size() > scheme.size();
        });
    if (!known) {
      check.error(node->source(), prefix + "proxy",
                  "\"" + account.proxy +
                      "\" is not a proxy URL; write socks5h://HOST:PORT, socks5://, socks4://, "
                      "http:// or https://");
    }
  }
  if (const toml::node* node = table.get("bind_address"); node != nullptr && node->is_string()) {
    account.bind_address = node_string(table, "bind_address");
    in6_addr parsed{};
    if (::inet_pton(AF_INET, account.bind_address.c_str(), &parsed) != 1 &&
        ::inet_pton(AF_INET6, account.bind_address.c_str(), &parsed) != 1) {
      check.error(node->source(), prefix + "bind_address",
                  "\"" + account.bind_address +
                      "\" is not an IP address; write the local IPv4 or IPv6 address to connect "
                      "from, such as \"192.0.2.10\"");
    }
  }
  if (const auto t = read_int(check, table, "timeout", prefix, 1, 3600)) {
    account.timeout = std::chrono::seconds(*t);
  }
}

void read_auth(Checker& check, const toml::table& table, const std::string& prefix,
               core::Account& account) {
  read_password_source(check, table, prefix, account);
  if (const auto auth = check.enum_value(table, "auth", prefix, k_auth_values)) {
    account.auth = *auth;
  }
  account.oauth2_token_cmd = read_command(check, table, "oauth2_token_cmd", prefix);
  const bool oauth = account.auth == core::Auth::xoauth2 || account.auth == core::Auth::oauthbearer;
  if (oauth && !table.contains("oauth2_token_cmd")) {
    check.error(table["auth"].node()->source(), prefix + "auth",
                "\"" + std::string(core::to_string(account.auth)) +
                    "\" needs oauth2_token_cmd, a command that prints an access token");
  }
  const bool any_source = table.contains("password_cmd") || table.contains("password") ||
                          (table.contains("netrc") && table["netrc"].value_or(true));
  if (!oauth && !any_source && !table.contains("oauth2_token_cmd")) {
    check.error(table.source(), prefix + "password_cmd",
                "no password source; add password_cmd (recommended), netrc = true or password");
  }
}

core::Account read_account(Checker& check, std::string_view name, const toml::table& table) {
  const std::string prefix = "accounts." + std::string(name) + ".";
  core::Account account;
  account.name = std::string(name);
  // The value checks below read only keys of the right type, so they run even
  // when some keys were reported here.
  check.check_keys(table, prefix, k_account_keys);
  read_connection(check, table, prefix, account);
  read_auth(check, table, prefix, account);
  account.maildir = read_path(check, table, "maildir", prefix);
  if (const auto layout = check.enum_value(table, "layout", prefix, k_layout_values)) {
    account.layout = *layout;
  }
  read_folders(check, table, prefix, account);
  if (const auto direction = check.enum_value(table, "direction", prefix, k_direction_values)) {
    account.direction = *direction;
  }
  if (const auto n = read_int(check, table, "max_connections", prefix, 1, 16)) {
    account.max_connections = static_cast<int>(*n);
  }
  account.post_sync_cmd = read_command(check, table, "post_sync_cmd", prefix);
  read_policies(check, table, prefix, account);
  return account;
}

core::Result<core::Config> check_document(const toml::table& root, Checker& check) {
  core::Config config;
  config.source = check.file();
  check.check_keys(root, "", k_top_keys);
  if (const auto* general = root["general"].as_table()) {
    if (check.check_keys(*general, "general.", k_general_keys)) {
      config.general.state_dir = read_path(check, *general, "state_dir", "general.");
    }
  }
  if (const auto* accounts = root["accounts"].as_table()) {
    // toml++ keeps keys sorted; accounts are kept in file order.
    std::vector<std::pair<const toml::key*, const toml::node*>> ordered;
    for (auto&& [name, node] : *accounts) {
      ordered.emplace_back(&name, &node);
    }
    std::stable_sort(ordered.begin(), ordered.end(), [](const auto& a, const auto& b) {
      return a.second->source().begin.line < b.second->source().begin.line;
    });
    for (const auto& [name_ptr, node_ptr] : ordered) {
      const toml::key& name = *name_ptr;
      const toml::node& node = *node_ptr;
      const std::string path = "accounts." + std::string(name.str());
      if (!valid_account_name(name.str())) {
        check.error(name.source(), path,
                    "account names may use only letters, digits, '_', '.' and '-'");
        continue;
      }
      const auto* table = node.as_table();
      if (table == nullptr) {
        check.error(node.source(), path,
                    "expected a table [accounts." + std::string(name.str()) +
                        "] with host, user "
                        "and maildir, got " +
                        describe(node, true));
        continue;
      }
      config.accounts.push_back(read_account(check, name.str(), *table));
    }
    if (accounts->empty()) {
      check.error(accounts->source(), "accounts",
                  "no account; add a table such as [accounts.work] with host, user and maildir");
    }
  }
  if (!check.ok()) {
    return core::fail(core::Scope::fatal, check.report(),
                      "fix " + check.file() + " and check it with 'uidsync check-config'");
  }
  return config;
}

} // namespace

std::size_t edit_distance(std::string_view a, std::string_view b) {
  // d[i][j]: distance between the first i chars of a and the first j of b.
  std::vector<std::vector<std::size_t>> d(a.size() + 1, std::vector<std::size_t>(b.size() + 1));
  for (std::size_t i = 0; i <= a.size(); ++i) {
    d[i][0] = i;
  }
  for (std::size_t j = 0; j <= b.size(); ++j) {
    d[0][j] = j;
  }
  for (std::size_t i = 1; i <= a.size(); ++i) {
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t cost = lower(a[i - 1]) == lower(b[j - 1]) ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && lower(a[i - 1]) == lower(b[j - 2]) &&
          lower(a[i - 2]) == lower(b[j - 1])) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.size()][b.size()];
}

core::Result<core::Config> parse_config(std::string_view text, std::string_view source_name) {
  Checker check{std::string(source_name)};
  toml::table root;
  try {
    root = toml::parse(text, source_name);
  } catch (const toml::parse_error& e) {
    const auto& where = e.source().begin;
    return core::fail(core::Scope::fatal,
                      std::string(source_name) + ":" + std::to_string(where.line) + ":" +
                          std::to_string(where.column) +
                          ": TOML syntax error: " + std::string(e.description()),
                      "fix it and check it with 'uidsync check-config'; the syntax is at "
                      "https://toml.io");
  }
  return check_document(root, check);
}

core::Result<core::Config> load_config(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return core::fail(core::Scope::fatal,
                      "cannot read config file " + path.string() + ": " + std::strerror(errno),
                      "create it (see config.sample.toml) or name another with -c FILE");
  }
  std::ostringstream text;
  text << in.rdbuf();
  auto config = parse_config(text.str(), path.string());
  UIDSYNC_TRY(config);
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && (st.st_mode & (S_IRGRP | S_IROTH)) != 0) {
    for (const auto& account : config->accounts) {
      if (account.password.kind != core::PasswordSource::Kind::inline_password) {
        continue;
      }
      std::array<char, 8> mode{};
      std::snprintf(mode.data(), mode.size(), "%04o", static_cast<unsigned>(st.st_mode & 07777));
      config->warnings.push_back(path.string() + ": account '" + account.name +
                                 "' has an inline password, but the file is readable by group "
                                 "or others (mode " +
                                 mode.data() + "); run 'chmod 600 " + path.string() +
                                 "' or use password_cmd");
      util::logger("cli")->warn("{}", config->warnings.back());
    }
  }
  return config;
}

} // namespace uidsync::cli
