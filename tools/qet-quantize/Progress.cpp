//===- Progress.cpp - A progress line on stderr for long runs -------------===//

#include "Progress.h"

#include <chrono>
#include <cstdio>
#include <unistd.h>

namespace qet::tool {

using Clock = std::chrono::steady_clock;

Progress::Progress(std::string task) : task(std::move(task)) {
  worker = std::thread([this] { run(); });
}

Progress::~Progress() {
  {
    std::lock_guard<std::mutex> lock(mutex);
    finished = true;
  }
  wake.notify_all();
  worker.join();
  if (printed && isatty(STDERR_FILENO))
    std::fprintf(stderr, "\r\033[K");
}

void Progress::run() {
  const bool terminal = isatty(STDERR_FILENO);
  const auto start = Clock::now();
  const auto quiet = std::chrono::seconds(2);
  const auto period = terminal ? std::chrono::milliseconds(250)
                               : std::chrono::milliseconds(10000);
  auto next = start + quiet;
  std::unique_lock<std::mutex> lock(mutex);
  while (!wake.wait_until(lock, next, [this] { return finished; })) {
    double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    double fraction = done.load();
    char line[256];
    if (fraction >= 0)
      std::snprintf(line, sizeof(line), "qet-quantize: %s %3.0f%% (%.1f s)",
                    task.c_str(), 100 * fraction, seconds);
    else
      std::snprintf(line, sizeof(line), "qet-quantize: %s ... (%.1f s)",
                    task.c_str(), seconds);
    std::fprintf(stderr, terminal ? "\r\033[K%s" : "%s\n", line);
    std::fflush(stderr);
    printed = true;
    next += period;
  }
}

} // namespace qet::tool
