// SPDX-License-Identifier: GPL-3.0-or-later
// Durable delivery benchmark: the batched Maildir path (syncfs, and parallel
// fsync) against write + fsync + rename + directory fsync per file.
//
//   uidsync_bench_deliver WORKDIR [-n N] [--seed S] [--batch B] [--corpus DIR]
//
// The corpus is generated in memory (deterministic for a seed: median ≈ 8 KB,
// mean ≈ 32 KB, ~2.5% between 100 KB and 2 MB), or read from the cur/ and new/
// files below DIR. Each path delivers the whole corpus into a fresh Maildir under
// WORKDIR and records it in a state DB, one transaction per batch.
#include <uidsync/maildir/folder.hpp>
#include <uidsync/state/db.hpp>

#include <fmt/format.h>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;
using namespace uidsync;
using Clock = std::chrono::steady_clock;

struct Options {
  fs::path workdir;
  std::size_t n = 10000;
  std::uint64_t seed = 42;
  std::size_t batch = 1000;
  fs::path corpus;
};

[[noreturn]] void usage(const std::string& why) {
  fmt::print(stderr,
             "uidsync_bench_deliver: {}\nusage: uidsync_bench_deliver WORKDIR [-n N] "
             "[--seed S] [--batch B] [--corpus DIR]\n",
             why);
  std::exit(2);
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        usage(arg + " needs a value");
      }
      return argv[++i];
    };
    if (arg == "-n") {
      o.n = std::stoul(value());
    } else if (arg == "--seed") {
      o.seed = std::stoull(value());
    } else if (arg == "--batch") {
      o.batch = std::max<std::size_t>(1, std::stoul(value()));
    } else if (arg == "--corpus") {
      o.corpus = value();
    } else if (o.workdir.empty() && !arg.starts_with("-")) {
      o.workdir = arg;
    } else {
      usage("unknown argument " + arg);
    }
  }
  if (o.workdir.empty()) {
    usage("WORKDIR is required");
  }
  return o;
}

std::vector<std::string> generate(std::size_t n, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::lognormal_distribution<double> body_size(std::log(8000.0), 1.25);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  std::vector<std::string> out;
  out.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    double size = 0;
    if (unit(rng) < 0.025) {
      size = std::exp(std::log(100e3) + unit(rng) * (std::log(2e6) - std::log(100e3)));
    } else {
      size = std::clamp(body_size(rng), 600.0, 99e3);
    }
    std::string msg = fmt::format("Message-ID: <bench.{}.{}@example.org>\r\nFrom: a@example.org\r\n"
                                  "Subject: message {}\r\n\r\n",
                                  seed, i, i);
    while (msg.size() + 2 < static_cast<std::size_t>(size)) {
      for (int k = 0; k < 76; ++k) {
        msg.push_back(static_cast<char>('a' + rng() % 26));
      }
      msg += "\r\n";
    }
    out.push_back(std::move(msg));
  }
  return out;
}

std::vector<std::string> load(const fs::path& dir, std::size_t n) {
  std::vector<fs::path> files;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    const auto parent = entry.path().parent_path().filename();
    if (entry.is_regular_file() && (parent == "cur" || parent == "new")) {
      files.push_back(entry.path());
    }
  }
  std::sort(files.begin(), files.end());
  files.resize(std::min(files.size(), n));
  std::vector<std::string> out;
  for (const auto& f : files) {
    std::ifstream in(f, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    out.push_back(ss.str());
  }
  return out;
}

void check(const core::Result<void>& r) {
  if (!r) {
    fmt::print(stderr, "uidsync_bench_deliver: {}\n", r.error().what());
    std::exit(1);
  }
}

struct Run {
  state::Db db;
  maildir::Folder folder;
  std::int64_t folder_id;
};

Run prepare(const fs::path& dir) {
  fs::remove_all(dir);
  auto db = state::Db::open(dir / "state.db");
  auto folder = maildir::Folder::open(dir / "Mail", dir / "Mail/INBOX", true);
  if (!db || !folder) {
    fmt::print(stderr, "uidsync_bench_deliver: {}\n",
               !db ? db.error().what() : folder.error().what());
    std::exit(1);
  }
  auto id = db->put_folder({0, "INBOX", 1, 1, 0, "INBOX", 0, ""});
  if (!id) {
    std::exit(1);
  }
  ::sync(); // start every path from a clean page cache state
  return Run{std::move(db).value(), std::move(folder).value(), *id};
}

state::MessageRow row_of(std::int64_t folder_id, const maildir::Delivered& d) {
  return {folder_id,
          d.uid,
          d.name,
          d.flags,
          "",
          d.content.size,
          d.internaldate,
          d.content.message_id,
          d.content.digest,
          state::MessageState::present};
}

core::Result<void> record(state::Db& db, std::int64_t folder_id,
                          const std::vector<maildir::Delivered>& items) {
  auto tx = db.begin();
  if (!tx) {
    return util::unexpected(std::move(tx).error());
  }
  for (const auto& item : items) {
    UIDSYNC_TRY(db.put_message(row_of(folder_id, item)));
  }
  return tx->commit();
}

double batched(const fs::path& dir, const std::vector<std::string>& corpus, std::size_t batch_size,
               maildir::SyncMode mode) {
  auto run = prepare(dir);
  const auto start = Clock::now();
  maildir::Batch batch(run.folder);
  auto recorder = [&](const std::vector<maildir::Delivered>& items) {
    return record(run.db, run.folder_id, items);
  };
  for (std::size_t i = 0; i < corpus.size(); ++i) {
    auto delivery = run.folder.begin_delivery(static_cast<core::Uid>(i + 1),
                                              core::Flags::from_maildir("S"), 1600000000);
    check(delivery ? core::Result<void>{} : util::unexpected(delivery.error()));
    check(delivery->write(corpus[i]));
    auto done = delivery->finish();
    check(done ? core::Result<void>{} : util::unexpected(done.error()));
    batch.add(std::move(*done));
    if (batch.size() == batch_size) {
      check(batch.commit(recorder, mode));
    }
  }
  check(batch.commit(recorder, mode));
  return std::chrono::duration<double>(Clock::now() - start).count();
}

int must(int rc, const char* what) {
  if (rc < 0) {
    fmt::print(stderr, "uidsync_bench_deliver: {} failed\n", what);
    std::exit(1);
  }
  return rc;
}

// The simple way: every file made durable on its own, the DB once per batch.
double per_file(const fs::path& dir, const std::vector<std::string>& corpus,
                std::size_t batch_size) {
  auto run = prepare(dir);
  const auto start = Clock::now();
  const auto folder = run.folder.path();
  const int cur = must(::open((folder / "cur").c_str(), O_RDONLY | O_DIRECTORY), "open cur");
  std::vector<maildir::Delivered> items;
  for (std::size_t i = 0; i < corpus.size(); ++i) {
    maildir::Delivered d;
    d.uid = static_cast<core::Uid>(i + 1);
    d.flags = core::Flags::from_maildir("S");
    d.internaldate = 1600000000;
    d.tmp_name = fmt::format("tmp/{}", i);
    d.name = fmt::format("cur/{}.plain,U={}:2,S", i, d.uid);
    maildir::ContentHasher hasher;
    hasher.update(corpus[i]);
    d.content = hasher.finish();
    const int fd =
        must(::open((folder / d.tmp_name).c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600), "open");
    must(static_cast<int>(::write(fd, corpus[i].data(), corpus[i].size())), "write");
    must(::fsync(fd), "fsync");
    ::close(fd);
    must(::rename((folder / d.tmp_name).c_str(), (folder / d.name).c_str()), "rename");
    must(::fsync(cur), "fsync dir");
    items.push_back(std::move(d));
    if (items.size() == batch_size || i + 1 == corpus.size()) {
      check(record(run.db, run.folder_id, items));
      items.clear();
    }
  }
  ::close(cur);
  return std::chrono::duration<double>(Clock::now() - start).count();
}

} // namespace

int main(int argc, char** argv) {
  const auto options = parse(argc, argv);
  const auto corpus =
      options.corpus.empty() ? generate(options.n, options.seed) : load(options.corpus, options.n);
  if (corpus.empty()) {
    usage("the corpus is empty");
  }
  std::vector<std::size_t> sizes;
  double total = 0;
  for (const auto& m : corpus) {
    sizes.push_back(m.size());
    total += static_cast<double>(m.size());
  }
  std::sort(sizes.begin(), sizes.end());
  const auto big =
      std::count_if(sizes.begin(), sizes.end(), [](std::size_t s) { return s >= 100000; });
  fmt::print("corpus: {} messages ({}), {:.1f} MB, median {} B, mean {:.0f} B, >=100 KB {:.2f}%\n",
             corpus.size(),
             options.corpus.empty() ? fmt::format("generated, seed {}", options.seed)
                                    : options.corpus.string(),
             total / 1e6, sizes[sizes.size() / 2], total / static_cast<double>(sizes.size()),
             100.0 * static_cast<double>(big) / static_cast<double>(sizes.size()));
  fmt::print("batch size: {}\n", options.batch);
  std::fflush(stdout);

  const double t_file = per_file(options.workdir / "per-file", corpus, options.batch);
  fmt::print("per-file fsync:        {:8.2f} s  {:8.0f} msg/s\n", t_file,
             static_cast<double>(corpus.size()) / t_file);
  std::fflush(stdout);
  const double t_syncfs =
      batched(options.workdir / "syncfs", corpus, options.batch, maildir::SyncMode::syncfs);
  fmt::print("batched syncfs:        {:8.2f} s  {:8.0f} msg/s  ratio {:.3f}\n", t_syncfs,
             static_cast<double>(corpus.size()) / t_syncfs, t_syncfs / t_file);
  std::fflush(stdout);
  const double t_parallel = batched(options.workdir / "parallel", corpus, options.batch,
                                    maildir::SyncMode::parallel_fsync);
  fmt::print("batched parallel fsync:{:8.2f} s  {:8.0f} msg/s  ratio {:.3f}\n", t_parallel,
             static_cast<double>(corpus.size()) / t_parallel, t_parallel / t_file);
  const double best = std::min(t_syncfs, t_parallel);
  fmt::print("best batched / per-file: {:.3f} ({})\n", best / t_file,
             t_syncfs <= t_parallel ? "syncfs" : "parallel fsync");
  fs::remove_all(options.workdir / "per-file");
  fs::remove_all(options.workdir / "syncfs");
  fs::remove_all(options.workdir / "parallel");
  return best / t_file <= 0.4 ? 0 : 1;
}
