// SPDX-License-Identifier: GPL-3.0-or-later
#include <uidsync/util/log.hpp>
#include <uidsync/util/printable.hpp>

#include <spdlog/sinks/stdout_color_sinks.h>

#include <unistd.h>

#include <cstdlib>
#include <mutex>
#include <string>

namespace uidsync::util {

namespace {
std::mutex g_mutex;
spdlog::level::level_enum g_level = spdlog::level::warn;

// Passes each message through printable() before the wrapped sink: log messages
// quote server text (alerts, BYE texts, rejected lines), which must not reach the
// terminal as control characters or invalid UTF-8.
class PrintableSink final : public spdlog::sinks::sink {
public:
  explicit PrintableSink(spdlog::sink_ptr inner) : m_inner(std::move(inner)) {}
  void log(const spdlog::details::log_msg& msg) override {
    const std::string text = printable(std::string_view(msg.payload.data(), msg.payload.size()));
    spdlog::details::log_msg copy = msg;
    copy.payload = spdlog::string_view_t(text.data(), text.size());
    m_inner->log(copy);
  }
  void flush() override { m_inner->flush(); }
  void set_pattern(const std::string& pattern) override { m_inner->set_pattern(pattern); }
  void set_formatter(std::unique_ptr<spdlog::formatter> formatter) override {
    m_inner->set_formatter(std::move(formatter));
  }

private:
  spdlog::sink_ptr m_inner;
};

spdlog::sink_ptr stderr_sink() {
  static auto sink = [] {
    const bool colour = use_colour(::isatty(STDERR_FILENO) == 1, std::getenv("NO_COLOR"));
    return std::make_shared<PrintableSink>(std::make_shared<spdlog::sinks::stderr_color_sink_mt>(
        colour ? spdlog::color_mode::always : spdlog::color_mode::never));
  }();
  return sink;
}
} // namespace

bool use_colour(bool stderr_is_tty, const char* no_color) {
  // https://no-color.org: any non-empty NO_COLOR turns colour off.
  return stderr_is_tty && (no_color == nullptr || *no_color == '\0');
}

std::shared_ptr<spdlog::logger> logger(std::string_view layer) {
  std::lock_guard lock(g_mutex);
  const std::string name(layer);
  if (auto existing = spdlog::get(name)) {
    return existing;
  }
  auto created = std::make_shared<spdlog::logger>(name, stderr_sink());
  created->set_level(g_level);
  created->set_pattern("uidsync[%n] %^%l%$: %v");
  spdlog::register_logger(created);
  return created;
}

void set_verbosity(int verbosity) {
  std::lock_guard lock(g_mutex);
  if (verbosity < 0) {
    g_level = spdlog::level::err;
  } else if (verbosity == 0) {
    g_level = spdlog::level::warn;
  } else if (verbosity == 1) {
    g_level = spdlog::level::info;
  } else if (verbosity == 2) {
    g_level = spdlog::level::debug;
  } else {
    g_level = spdlog::level::trace;
  }
  spdlog::apply_all([](const std::shared_ptr<spdlog::logger>& l) { l->set_level(g_level); });
}

} // namespace uidsync::util
