//===- Progress.h - A progress line on stderr for long runs -----*- C++ -*-===//
//
// Silent for the first ~2 s of a task, then shows the task, its completed
// fraction (when the quantizer reports one) and the elapsed time: updated in
// place on a terminal, one line every 10 s otherwise (logs stay readable).
//
//===----------------------------------------------------------------------===//
#ifndef QET_TOOLS_QETQUANTIZE_PROGRESS_H
#define QET_TOOLS_QETQUANTIZE_PROGRESS_H

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

namespace qet::tool {

class Progress {
public:
  explicit Progress(std::string task);
  ~Progress();
  Progress(const Progress &) = delete;
  Progress &operator=(const Progress &) = delete;

  /// Completed fraction in [0, 1]; safe from any thread.
  void update(double fraction) { done.store(fraction); }

private:
  void run();

  std::string task;
  std::atomic<double> done{-1.0};
  std::mutex mutex;
  std::condition_variable wake;
  bool finished = false;
  bool printed = false;
  std::thread worker;
};

} // namespace qet::tool

#endif // QET_TOOLS_QETQUANTIZE_PROGRESS_H
