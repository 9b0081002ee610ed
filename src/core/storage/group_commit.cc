#include "core/storage/group_commit.h"

#include <algorithm>
#include <vector>

#include "core/log/log.h"

namespace llama_stack::storage {

std::string error_message(const std::exception_ptr& error) {
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    return e.what();
  } catch (...) {
    return "unknown error";
  }
}

GroupCommitter::GroupCommitter(std::shared_ptr<KVStore> store, std::size_t max_batch) {
  const std::size_t writers = std::clamp<std::size_t>(store->concurrency(), 1, 64);
  state_ = std::make_shared<State>(std::move(store),
                                   writers > 1 ? 1 : std::max<std::size_t>(max_batch, 1));
  for (std::size_t i = 0; i < writers; ++i) {
    writers_.emplace_back([state = state_] { run(state); });
  }
}

GroupCommitter::~GroupCommitter() {
  {
    std::lock_guard lock(state_->mutex);
    state_->stopping = true;
  }
  state_->wake.notify_all();
  for (std::thread& writer : writers_) {
    if (writer.get_id() == std::this_thread::get_id()) {
      // Released from a callback on this writer thread: it returns to run(),
      // which holds the state, drains the queue and ends.
      writer.detach();
    } else {
      writer.join();
    }
  }
}

void GroupCommitter::submit(std::function<void()> op, Done done) {
  {
    std::lock_guard lock(state_->mutex);
    state_->queue.push_back(Work{std::move(op), std::move(done), nullptr});
  }
  state_->wake.notify_one();
}

void GroupCommitter::run(const std::shared_ptr<State>& state) {
  std::vector<Work> batch;
  for (;;) {
    {
      std::unique_lock lock(state->mutex);
      state->wake.wait(lock, [&] { return state->stopping || !state->queue.empty(); });
      if (state->queue.empty()) return;  // stopping, and nothing left
      while (!state->queue.empty() && batch.size() < state->max_batch) {
        batch.push_back(std::move(state->queue.front()));
        state->queue.pop_front();
      }
    }
    try {
      state->store->transaction([&] {
        for (Work& work : batch) {
          try {
            work.op();
          } catch (...) {
            work.error = std::current_exception();
          }
        }
      });
    } catch (...) {
      // Nothing of the batch is stored: every operation failed.
      const std::exception_ptr error = std::current_exception();
      for (Work& work : batch) work.error = error;
    }
    for (Work& work : batch) {
      if (!work.done) continue;
      try {
        work.done(work.error);
      } catch (const std::exception& e) {
        LS_ERROR(kCore, "group commit callback threw: {}", e.what());
      }
    }
    batch.clear();
  }
}

}  // namespace llama_stack::storage
