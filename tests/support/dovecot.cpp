// SPDX-License-Identifier: GPL-3.0-or-later
// Dovecot test fixture: runs tests/support/dovecot-fixture and reads its fixture.env.
#include "support/dovecot.hpp"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>

namespace uidsync::test {

namespace fs = std::filesystem;

fs::path dovecot_fixture_script() {
  return fs::path(UIDSYNC_SOURCE_DIR) / "tests" / "support" / "dovecot-fixture";
}

CommandResult run_command(const std::vector<std::string>& argv) {
  CommandResult result;
  int fds[2];
  if (argv.empty() || ::pipe2(fds, O_CLOEXEC) != 0) {
    return result;
  }
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(fds[0]);
    ::close(fds[1]);
    return result;
  }
  if (pid == 0) {
    ::dup2(fds[1], STDOUT_FILENO);
    ::dup2(fds[1], STDERR_FILENO);
    const int devnull = ::open("/dev/null", O_RDONLY);
    if (devnull >= 0) {
      ::dup2(devnull, STDIN_FILENO);
    }
    std::vector<char*> args;
    args.reserve(argv.size() + 1);
    for (const auto& a : argv) {
      args.push_back(const_cast<char*>(a.c_str()));
    }
    args.push_back(nullptr);
    ::execvp(args[0], args.data());
    ::_exit(127);
  }
  ::close(fds[1]);
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(fds[0], buf, sizeof buf);
    if (n > 0) {
      result.output.append(buf, static_cast<std::size_t>(n));
    } else if (n == 0 || errno != EINTR) {
      break;
    }
  }
  ::close(fds[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  result.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

namespace {

struct ProcInfo {
  pid_t ppid = 0;
  char state = '?';
};

// Parses /proc/PID/stat: "pid (comm) state ppid ..." (comm may contain spaces).
std::optional<ProcInfo> proc_info(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat;
  if (!std::getline(in, stat)) {
    return std::nullopt;
  }
  const auto close_paren = stat.rfind(')');
  if (close_paren == std::string::npos) {
    return std::nullopt;
  }
  std::istringstream rest(stat.substr(close_paren + 1));
  ProcInfo info_out;
  rest >> info_out.state >> info_out.ppid;
  return info_out;
}

std::map<std::string, std::string> read_env_file(const fs::path& path) {
  std::map<std::string, std::string> env;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    const auto eq = line.find('=');
    if (eq != std::string::npos) {
      env[line.substr(0, eq)] = line.substr(eq + 1);
    }
  }
  return env;
}

} // namespace

void Dovecot::write_config(const std::filesystem::path& dir, const std::string& account,
                           const std::string& extra) const {
  write_file(dir / "password", m_password + "\n");
  write_file(dir / "config.toml",
             "[general]\nstate_dir = \"" + (dir / "state").string() + "\"\n\n[accounts." + account +
                 "]\nhost = \"" + m_host + "\"\nport = " + std::to_string(m_port) +
                 "\ntls = \"starttls\"\nca_file = \"" + m_ca_file.string() + "\"\nuser = \"" +
                 m_user + "\"\npassword_cmd = [\"cat\", \"" + (dir / "password").string() +
                 "\"]\nmaildir = \"" + (dir / "Mail").string() + "\"\n" + extra);
}

std::vector<pid_t> process_tree(pid_t root) {
  std::map<pid_t, ProcInfo> all;
  for (const auto& entry : fs::directory_iterator("/proc")) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) {
      continue;
    }
    const pid_t pid = static_cast<pid_t>(std::stol(name));
    if (auto pi = proc_info(pid)) {
      all[pid] = *pi;
    }
  }
  std::vector<pid_t> tree;
  auto root_it = all.find(root);
  if (root_it == all.end() || root_it->second.state == 'Z') {
    return tree;
  }
  tree.push_back(root);
  for (std::size_t i = 0; i < tree.size(); ++i) {
    for (const auto& [pid, pi] : all) {
      if (pi.ppid == tree[i] && pi.state != 'Z') {
        tree.push_back(pid);
      }
    }
  }
  return tree;
}

Dovecot::Dovecot() : m_temp(std::make_unique<TempDir>()), m_dir(m_temp->path()) { start(); }

Dovecot::Dovecot(DovecotCaps caps)
    : m_temp(std::make_unique<TempDir>()), m_dir(m_temp->path()), m_caps(caps) {
  start();
}

Dovecot::Dovecot(fs::path dir) : m_dir(std::move(dir)) { start(); }

Dovecot::~Dovecot() {
  try {
    stop();
  } catch (const std::exception&) {
    // The fixture test checks that stop() leaves nothing behind; a destructor cannot report.
  }
}

void Dovecot::start() {
  // Share the generated certificates between the many instances a test run starts.
  const char* tmp = std::getenv("TMPDIR");
  const fs::path cache = fs::path(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") /
                         "uidsync-dovecot-fixture-tls";
  ::setenv("DOVECOT_FIXTURE_TLS_CACHE", cache.c_str(), 0);
  std::vector<std::string> argv{dovecot_fixture_script().string(), "start", m_dir.string()};
  if (m_caps == DovecotCaps::no_qresync) {
    argv.emplace_back("--no-qresync");
  }
  const auto result = run_command(argv);
  if (result.status != 0) {
    throw std::runtime_error("cannot start the Dovecot fixture in " + m_dir.string() + ":\n" +
                             result.output + "\n" + log_tail());
  }
  m_running = true;
  auto env = read_env_file(m_dir / "fixture.env");
  m_host = env["IMAP_HOST"];
  m_port = std::stoi(env["IMAP_PORT"]);
  m_imaps_port = std::stoi(env["IMAPS_PORT"]);
  m_user = env["IMAP_USER"];
  m_password = env["IMAP_PASS"];
  m_ca_file = env["CA_FILE"];
  m_other_ca_file = env["OTHER_CA_FILE"];
  m_server_cert = env["SERVER_CERT"];
  m_mail_dir = env["MAIL_DIR"];
}

std::optional<pid_t> Dovecot::master_pid() const {
  std::ifstream in(m_dir / "run" / "master.pid");
  long pid = 0;
  if (!(in >> pid) || pid <= 0) {
    return std::nullopt;
  }
  const auto pi = proc_info(static_cast<pid_t>(pid));
  if (!pi || pi->state == 'Z') {
    return std::nullopt;
  }
  return static_cast<pid_t>(pid);
}

std::vector<pid_t> Dovecot::processes() const {
  const auto pid = master_pid();
  return pid ? process_tree(*pid) : std::vector<pid_t>{};
}

void Dovecot::fill(const std::string& folder, const std::vector<std::string>& messages) {
  std::vector<std::string> argv{dovecot_fixture_script().string(), "fill", m_dir.string(),
                                folder};
  const fs::path incoming = m_dir / "incoming";
  fs::create_directories(incoming);
  for (const auto& message : messages) {
    const fs::path file = incoming / ("msg-" + std::to_string(m_fill_counter++));
    std::ofstream(file, std::ios::binary) << message;
    argv.push_back(file.string());
  }
  const auto result = run_command(argv);
  if (result.status != 0) {
    throw std::runtime_error("cannot fill " + folder + ": " + result.output);
  }
}

std::string Dovecot::doveadm(const std::vector<std::string>& args) {
  std::vector<std::string> argv{dovecot_fixture_script().string(), "doveadm", m_dir.string()};
  argv.insert(argv.end(), args.begin(), args.end());
  auto result = run_command(argv);
  if (result.status != 0) {
    throw std::runtime_error("doveadm failed (" + std::to_string(result.status) +
                             "): " + result.output);
  }
  return std::move(result.output);
}

void Dovecot::stop() {
  if (!m_running) {
    return;
  }
  m_running = false;
  const auto result = run_command({dovecot_fixture_script().string(), "stop", m_dir.string()});
  if (result.status != 0) {
    throw std::runtime_error("cannot stop the Dovecot fixture in " + m_dir.string() + ": " +
                             result.output);
  }
}

std::unique_ptr<Dovecot> DovecotSuite::s_dovecot;
std::string DovecotSuite::s_start_error;

void DovecotSuite::SetUpTestSuite() {
  try {
    s_dovecot = std::make_unique<Dovecot>();
  } catch (const std::exception& e) {
    s_start_error = e.what();
  }
}

void DovecotSuite::TearDownTestSuite() { s_dovecot.reset(); }

void DovecotSuite::SetUp() { ASSERT_NE(s_dovecot, nullptr) << s_start_error; }

std::string Dovecot::log_tail(int lines) const {
  std::ifstream in(m_dir / "log" / "dovecot.log");
  std::vector<std::string> all;
  std::string line;
  while (std::getline(in, line)) {
    all.push_back(line);
  }
  std::string out;
  const std::size_t first =
      all.size() > static_cast<std::size_t>(lines) ? all.size() - static_cast<std::size_t>(lines) : 0;
  for (std::size_t i = first; i < all.size(); ++i) {
    out += all[i] + "\n";
  }
  return out;
}

} // namespace uidsync::test
