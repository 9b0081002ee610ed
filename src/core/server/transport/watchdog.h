// Private to the transport TUs: one deadline timer per connection.
//
// Beast's expires_after() re-arms a timer for every timed read and write:
// a timer-queue update, often a timerfd_settime system call, and a cancelled
// wait to dispatch, several times per request. A Watchdog is armed once:
// moving the deadline later is a store, and its timer fires at most once per
// timeout period, re-checking the deadline then. When the deadline has
// passed it runs `on_expire` (which closes the socket, failing whatever
// operation is pending) and sets `fired`, so the caller can tell a timeout
// from a reset.
//
// Thread-safety: like the connection it guards — use it from the thread of
// the io_context it was made on only.
#pragma once

#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <functional>
#include <memory>

namespace llama_stack::transport {

class Watchdog : public std::enable_shared_from_this<Watchdog> {
 public:
  using Clock = std::chrono::steady_clock;

  template <typename Executor>
  static std::shared_ptr<Watchdog> make(const Executor& executor, std::function<void()> on_expire) {
    return std::shared_ptr<Watchdog>(new Watchdog(executor, std::move(on_expire)));
  }

  // The connection must make progress within `timeout` from now.
  void arm(Clock::duration timeout) {
    deadline_ = Clock::now() + timeout;
    if (scheduled_for_ <= deadline_) return;  // the pending wait fires first and re-checks
    schedule(deadline_);
  }
  // No deadline (e.g. while a handler works, or while pooled).
  void disarm() { deadline_ = Clock::time_point::max(); }
  bool fired() const { return fired_; }

 private:
  template <typename Executor>
  Watchdog(const Executor& executor, std::function<void()> on_expire)
      : timer_(executor), on_expire_(std::move(on_expire)) {}

  void schedule(Clock::time_point at) {
    scheduled_for_ = at;
    timer_.expires_at(at);  // a wait still pending completes as cancelled
    timer_.async_wait([weak = weak_from_this(), at](const boost::system::error_code& ec) {
      auto self = weak.lock();
      if (!self || self->scheduled_for_ != at) return;  // gone, or re-scheduled since
      self->scheduled_for_ = Clock::time_point::max();
      if (ec) return;
      if (Clock::now() >= self->deadline_) {
        self->fired_ = true;
        if (self->on_expire_) self->on_expire_();
      } else if (self->deadline_ != Clock::time_point::max()) {
        self->schedule(self->deadline_);
      }
    });
  }

  boost::asio::steady_timer timer_;
  std::function<void()> on_expire_;
  Clock::time_point deadline_ = Clock::time_point::max();
  Clock::time_point scheduled_for_ = Clock::time_point::max();  // max: no wait pending
  bool fired_ = false;
};

}  // namespace llama_stack::transport
