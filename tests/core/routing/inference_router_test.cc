// The inference router's per-call pipeline, driven as an internal caller
// would (a shield, an agent): no HTTP involved. Every call is checked,
// settled, audited and recorded exactly like an HTTP call.
#include "core/routing/inference_router.h"

#include <gtest/gtest.h>

#include "support/api_errors.h"

#include <stdexcept>

#include "llama_stack/async/spawn.h"
#include "support/audit_capture.h"
#include "support/temp_dir.h"

namespace llama_stack::routing {
namespace {

// A provider that answers from a script, synchronously or when told to.
class ScriptedProvider : public providers::InferenceProvider {
 public:
  enum class Mode { kAnswer, kStream, kFail, kThrow, kHold };
  Mode mode = Mode::kAnswer;
  json::object last_request;
  apis::InferenceCallbacks held;
  int cancels = 0;

  apis::CancelFn openai_chat_completion(const apis::InferenceContext&, json::object request,
                                        apis::InferenceCallbacks callbacks) override {
    return serve(std::move(request), std::move(callbacks));
  }
  apis::CancelFn openai_completion(const apis::InferenceContext&, json::object request,
                                   apis::InferenceCallbacks callbacks) override {
    return serve(std::move(request), std::move(callbacks));
  }
  apis::CancelFn openai_embeddings(const apis::InferenceContext&, json::object request,
                                   apis::InferenceCallbacks callbacks) override {
    return serve(std::move(request), std::move(callbacks));
  }

 private:
  apis::CancelFn serve(json::object request, apis::InferenceCallbacks callbacks) {
    last_request = request;
    const json::object usage{{"prompt_tokens", 3}, {"completion_tokens", 4}, {"total_tokens", 7}};
    switch (mode) {
      case Mode::kAnswer:
        callbacks.on_response(json::object{
            {"id", "chatcmpl-1"},
            {"object", "chat.completion"},
            {"created", 1},
            {"model", request["model"]},
            {"choices", json::array{json::object{
                            {"index", 0},
                            {"message", json::object{{"role", "assistant"}, {"content", "hi"}}},
                            {"finish_reason", "stop"}}}},
            {"usage", usage}});
        callbacks.on_done(std::nullopt);
        break;
      case Mode::kStream:
        for (const char* piece : {"Hel", "lo"}) {
          callbacks.on_chunk(json::object{
              {"id", "chatcmpl-2"},
              {"created", 2},
              {"model", request["model"]},
              {"choices", json::array{json::object{{"index", 0},
                                                   {"delta", json::object{{"content", piece}}}}}}});
        }
        callbacks.on_chunk(json::object{
            {"id", "chatcmpl-2"},
            {"choices", json::array{json::object{
                            {"index", 0}, {"delta", json::object{}}, {"finish_reason", "stop"}}}}});
        callbacks.on_chunk(
            json::object{{"id", "chatcmpl-2"}, {"choices", json::array{}}, {"usage", usage}});
        callbacks.on_done(std::nullopt);
        break;
      case Mode::kFail:
        callbacks.on_done(ApiError(502, "upstream broke"));
        break;
      case Mode::kThrow:
        // What a conversion bug looks like: not an ApiError.
        throw std::out_of_range("key not found");
      case Mode::kHold:
        held = std::move(callbacks);
        return [this] {
          ++cancels;
          held.on_done(ApiError(499, "client closed request"));
        };
    }
    return {};
  }
};

// Runs `task` to completion on this thread (the fake provider answers inline).
json::object run(async::Task<json::object> task, bool* finished = nullptr) {
  std::optional<json::object> value;
  std::exception_ptr error;
  bool done = false;
  async::detail::run_detached(std::move(task), [&](json::object* v, std::exception_ptr e) {
    if (v != nullptr) value = std::move(*v);
    error = e;
    done = true;
  });
  if (finished != nullptr) *finished = done;
  EXPECT_TRUE(done || finished != nullptr);
  if (error) std::rethrow_exception(error);
  return value.value_or(json::object{});
}

using testing::status_of;

class InferenceRouterTest : public ::testing::Test {
 protected:
  InferenceRouterTest() {
    store_ = std::make_unique<storage::InferenceStore>(dir_.file("store.db"));
    security::OAuthSettings oauth;
    oauth.enforce_model_permissions = true;
    oauth.model_scope_overrides["scoped"] = "models:scoped";
    oauth.deny_unmapped_models = false;
    policy_ = std::make_unique<security::Policy>(oauth, auth::AccessPolicy::default_policy());
    router_ = std::make_unique<InferenceRouter>(models_, *policy_, audit_.log(), store_.get());
    add("m", "upstream-m");
    add("scoped", "upstream-s");
    add("embed", "upstream-e", apis::ModelType::kEmbedding);
    RegisterModelRequest admin_only;
    admin_only.model_id = "admins";
    admin_only.provider_id = "p";
    admin_only.owner = apis::Owner{"root", json::object{{"roles", json::array{"admin"}}}};
    models_.register_model(admin_only, OnExisting::kConflict);

    context_.user = apis::Owner{"alice", json::object{{"roles", json::array{"user"}}}};
    context_.client_ip = "10.0.0.1";
    context_.method = "INTERNAL";
    context_.path = "agents/turn";
    context_.trace_id = "0123456789abcdef0123456789abcdef";
    context_.settle_tokens = [this](std::int64_t tokens) { settled_.push_back(tokens); };
  }

  void add(std::string id, std::string upstream, apis::ModelType type = apis::ModelType::kLlm) {
    RegisterModelRequest request;
    request.model_id = std::move(id);
    request.provider_model_id = std::move(upstream);
    request.provider_id = "p";
    request.model_type = type;
    if (type == apis::ModelType::kEmbedding) request.metadata["embedding_dimension"] = 8;
    models_.register_model(request, OnExisting::kConflict);
  }

  json::object chat(std::string model, bool stream = false) {
    return json::object{
        {"model", std::move(model)},
        {"stream", stream},
        {"messages", json::array{json::object{{"role", "user"}, {"content", "hello"}}}}};
  }

  std::vector<json::object> audit_events() { return audit_.events(); }

  testing::TempDir dir_;
  std::shared_ptr<storage::KVStore> kv_ = storage::make_memory_kvstore();
  registry::ResourceRegistry registry_{kv_};
  ScriptedProvider provider_;
  ModelsRoutingTable models_{registry_, {{"p", &provider_}}};
  testing::AuditCapture audit_;
  std::unique_ptr<storage::InferenceStore> store_;
  std::unique_ptr<security::Policy> policy_;
  std::unique_ptr<InferenceRouter> router_;
  apis::CallContext context_;
  std::vector<std::int64_t> settled_;
};

TEST_F(InferenceRouterTest, AnInternalCallIsRoutedSettledAuditedAndRecorded) {
  json::object response = run(router_->chat_completion(context_, chat("m")));
  EXPECT_EQ(response.at("model"), "m");  // the caller's name, not the upstream's
  EXPECT_EQ(provider_.last_request.at("model"), "upstream-m");
  EXPECT_EQ(settled_, std::vector<std::int64_t>{7});

  auto events = audit_events();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].at("event"), "inference_request");
  EXPECT_EQ(events[0].at("principal"), "alice");
  EXPECT_EQ(events[0].at("path"), "agents/turn");
  EXPECT_EQ(events[1].at("event"), "inference_response");
  EXPECT_EQ(events[1].at("status"), 200);
  EXPECT_EQ(events[1].at("total_tokens"), 7);
  EXPECT_EQ(events[1].at("request_id").as_string(), context_.trace_id);

  store_->flush();
  auto stored = store_->get("chatcmpl-1");
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(stored->at("input_messages").as_array().size(), 1u);
}

TEST_F(InferenceRouterTest, AModelTheCallerMayNotReadDoesNotExistForThem) {
  EXPECT_EQ(status_of([&] { run(router_->chat_completion(context_, chat("admins"))); }), 404);
  EXPECT_EQ(settled_, std::vector<std::int64_t>{0});
  auto events = audit_events();
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[1].at("event"), "access_denied");
  EXPECT_EQ(events[1].at("reason"), "access_policy");
  EXPECT_EQ(events[2].at("event"), "inference_response");
  EXPECT_EQ(events[2].at("status"), 404);
  EXPECT_TRUE(provider_.last_request.empty());
}

TEST_F(InferenceRouterTest, ScopesAreCheckedForInternalCallsToo) {
  EXPECT_EQ(status_of([&] { run(router_->chat_completion(context_, chat("scoped"))); }), 403);
  context_.scopes = {"models:scoped"};
  EXPECT_NO_THROW(run(router_->chat_completion(context_, chat("scoped"))));
}

TEST_F(InferenceRouterTest, ModelTypeAndMissingModelAreClientErrors) {
  EXPECT_EQ(status_of([&] { run(router_->embeddings(context_, chat("m"))); }), 400);
  EXPECT_EQ(status_of([&] { run(router_->chat_completion(context_, chat("embed"))); }), 400);
  EXPECT_EQ(status_of([&] { run(router_->chat_completion(context_, chat("nope"))); }), 404);
  EXPECT_EQ(status_of([&] { run(router_->chat_completion(context_, json::object{})); }), 400);
}

TEST_F(InferenceRouterTest, AProviderThatThrowsIsMappedSettledAndAudited) {
  provider_.mode = ScriptedProvider::Mode::kThrow;
  EXPECT_EQ(status_of([&] { run(router_->chat_completion(context_, chat("m"))); }), 500);
  EXPECT_EQ(settled_.size(), 1u);
  auto events = audit_events();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[1].at("status"), 500);
  EXPECT_EQ(events[1].at("success"), false);
}

TEST_F(InferenceRouterTest, UpstreamErrorsKeepTheirStatus) {
  provider_.mode = ScriptedProvider::Mode::kFail;
  EXPECT_EQ(status_of([&] { run(router_->chat_completion(context_, chat("m"))); }), 502);
  EXPECT_EQ(audit_events().back().at("status"), 502);
}

TEST_F(InferenceRouterTest, StreamsAskForUsageButOnlyForwardItWhenAsked) {
  provider_.mode = ScriptedProvider::Mode::kStream;
  std::vector<json::object> chunks;
  json::object result = run(router_->chat_completion(
      context_, chat("m", true), [&](json::object chunk) { chunks.push_back(std::move(chunk)); }));
  EXPECT_EQ(provider_.last_request.at("stream_options").at("include_usage"), true);
  ASSERT_EQ(chunks.size(), 3u);  // the usage-only chunk is dropped
  for (const auto& c : chunks) {
    EXPECT_EQ(c.at("model"), "m");
    EXPECT_FALSE(c.contains("usage"));
  }
  // The result is the assembled completion, with the usage the router saw.
  EXPECT_EQ(result.at("choices").at(0).at("message").at("content"), "Hello");
  EXPECT_EQ(result.at("choices").at(0).at("finish_reason"), "stop");
  EXPECT_EQ(settled_, std::vector<std::int64_t>{7});
  store_->flush();
  EXPECT_TRUE(store_->get("chatcmpl-2").has_value());

  chunks.clear();
  json::object asked = chat("m", true);
  asked["stream_options"] = json::object{{"include_usage", true}};
  run(router_->chat_completion(context_, asked,
                               [&](json::object chunk) { chunks.push_back(std::move(chunk)); }));
  ASSERT_EQ(chunks.size(), 4u);
  EXPECT_EQ(chunks.back().at("usage").at("total_tokens"), 7);
}

TEST_F(InferenceRouterTest, StoppingTheCallerCancelsTheProviderCall) {
  provider_.mode = ScriptedProvider::Mode::kHold;
  std::stop_source stop;
  context_.stop = stop.get_token();
  bool finished = false;
  int status = 0;
  async::detail::run_detached(
      router_->chat_completion(context_, chat("m")), [&](json::object*, std::exception_ptr e) {
        finished = true;
        status = e ? ::llama_stack::routing::status_of([&] { std::rethrow_exception(e); }) : 200;
      });
  EXPECT_FALSE(finished);
  stop.request_stop();
  EXPECT_TRUE(finished);
  EXPECT_EQ(provider_.cancels, 1);
  EXPECT_EQ(status, 499);
  EXPECT_EQ(settled_.size(), 1u);
}

}  // namespace
}  // namespace llama_stack::routing
