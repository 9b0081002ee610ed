#include "core/routing/content_safety.h"

#include <algorithm>
#include <stop_token>

#include "core/routing/inference_router.h"
#include "core/util/api_error.h"
#include "core/util/json.h"
#include "llama_stack/async/channel.h"
#include "llama_stack/async/started.h"
#include "llama_stack/async/when_all.h"

namespace llama_stack::routing {
namespace {

// A copy of the caller's context whose stop token also fires when the guard
// cancels the generation (a violation) — and still when the caller goes.
struct ChildCall {
  struct Cancel {
    std::stop_source* source;
    void operator()() const { source->request_stop(); }
  };
  explicit ChildCall(const apis::CallContext& parent)
      : context(parent), link(parent.stop, Cancel{&source}) {
    context.stop = source.get_token();
  }
  void cancel() { source.request_stop(); }

  std::stop_source source;
  apis::CallContext context;
  std::stop_callback<Cancel> link;
};

void append_text(std::string& out, const json::value* text) {
  if (text == nullptr || !text->is_string() || text->get_string().empty()) return;
  if (!out.empty()) out += '\n';
  out += text->get_string();
}

std::string joined_strings(const json::value* value) {
  std::string out;
  if (value == nullptr) return out;
  if (value->is_string()) return std::string(value->get_string());
  if (const auto* items = value->if_array()) {
    for (const auto& item : *items) append_text(out, &item);
  }
  return out;
}

// What the caller sends, as a conversation a shield judges.
json::array input_conversation(InferenceKind kind, const json::object& request) {
  if (kind == InferenceKind::kChat) {
    const auto* messages = json_field(request, "messages");
    return messages != nullptr && messages->is_array() ? messages->get_array() : json::array{};
  }
  const std::string text =
      joined_strings(json_field(request, kind == InferenceKind::kCompletion ? "prompt" : "input"));
  if (text.empty()) return {};
  return json::array{json::object{{"role", "user"}, {"content", text}}};
}

// The text of a tool call's arguments and a message's content.
void append_delta_text(std::string& out, const json::object& message) {
  if (const auto* content = json_field(message, "content")) {
    if (content->is_string()) {
      out += content->get_string();
    } else if (content->is_array()) {
      for (const auto& part : content->get_array()) {
        if (const auto* p = part.if_object()) {
          if (const auto* t = json_field(*p, "text"); t != nullptr && t->is_string()) {
            out += t->get_string();
          }
        }
      }
    }
  }
  if (const auto* calls = json_field(message, "tool_calls");
      calls != nullptr && calls->is_array()) {
    for (const auto& call : calls->get_array()) {
      const auto* c = call.if_object();
      const auto* fn = c != nullptr ? json_field(*c, "function") : nullptr;
      if (fn == nullptr || !fn->is_object()) continue;
      for (const char* key : {"name", "arguments"}) {
        if (const auto* v = json_field(fn->get_object(), key); v != nullptr && v->is_string()) {
          out += v->get_string();
        }
      }
    }
  }
}

// The generated text of a response (`key` "message") or a chunk ("delta").
std::string output_text(InferenceKind kind, const json::object& object, const char* key) {
  std::string out;
  const auto* choices = json_field(object, "choices");
  if (choices == nullptr || !choices->is_array()) return out;
  for (const auto& choice : choices->get_array()) {
    const auto* c = choice.if_object();
    if (c == nullptr) continue;
    if (kind == InferenceKind::kCompletion) {
      if (const auto* t = json_field(*c, "text"); t != nullptr && t->is_string()) {
        out += t->get_string();
      }
    } else if (const auto* m = json_field(*c, key); m != nullptr && m->is_object()) {
      append_delta_text(out, m->get_object());
    }
  }
  return out;
}

json::array with_answer(json::array conversation, std::string answer) {
  conversation.push_back(json::object{{"role", "assistant"}, {"content", std::move(answer)}});
  return conversation;
}

ApiError content_filter_error(const std::string& level, const std::vector<std::string>& categories,
                              const std::string& direction) {
  std::string list, json_list = "[";
  for (std::size_t i = 0; i < categories.size(); ++i) {
    list += (i ? ", " : "") + categories[i];
    json_list += (i ? ",\"" : "\"") + categories[i] + "\"";
  }
  json_list += "]";
  const bool input = direction == "input";
  ApiError error(400,
                 std::string(input ? "The request was refused by the content filter"
                                   : "The response was withheld by the content filter") +
                     " (safety level '" + level + "'): " + list,
                 "invalid_request_error");
  error.with_code("content_filter")
      .with_field("categories", json_list)
      .with_field("param", input ? "\"input\"" : "\"output\"");
  std::string quoted_level;
  append_json_string(quoted_level, level);
  error.with_field("safety_level", quoted_level);
  return error;
}

// The chunk that ends a filtered stream, shaped like the stream's own.
json::object filter_chunk(InferenceKind kind, const json::object& like) {
  json::object chunk;
  for (const char* key : {"id", "object", "created", "model", "system_fingerprint"}) {
    if (const auto* v = json_field(like, key)) chunk[key] = *v;
  }
  json::object choice{{"index", 0}, {"logprobs", nullptr}, {"finish_reason", "content_filter"}};
  if (kind == InferenceKind::kCompletion) {
    choice["text"] = "";
  } else {
    choice["delta"] = json::object{};
  }
  chunk["choices"] = json::array{std::move(choice)};
  return chunk;
}

// Runs the guarded generation into `channel`, closing it at the end.
async::Task<json::object> pump(ContentSafety::Generate generate, const apis::CallContext& context,
                               json::object request,
                               std::shared_ptr<async::Channel<json::object>> channel) {
  // Chunks may live in a provider's short-lived memory resource: they are
  // copied to the heap to be held.
  apis::ChunkSink sink = [channel](json::object chunk) {
    channel->push(json::object(std::move(chunk), json::storage_ptr()));
  };
  std::exception_ptr failure;
  json::object result;
  try {
    auto call = generate(context, std::move(request), std::move(sink));
    result = co_await std::move(call);
  } catch (...) {
    failure = std::current_exception();
  }
  channel->close();
  if (failure) std::rethrow_exception(failure);
  co_return result;
}

// Waits for a cancelled generation to wind down; its outcome no longer matters.
async::Task<void> abandon(async::Started<json::object>& generation) {
  try {
    auto join = generation.join();
    co_await join;
  } catch (...) {
  }
}

}  // namespace

std::vector<std::string_view> families_of_category(std::string_view code) {
  // Llama Guard 3 (S1…S14), then Bedrock content-filter types.
  if (code == "S1") return {"violence"};              // Violent Crimes
  if (code == "S2") return {"illegal"};               // Non-Violent Crimes
  if (code == "S3") return {"sexual", "illegal"};     // Sex-Related Crimes
  if (code == "S4") return {"sexual", "illegal"};     // Child Sexual Exploitation
  if (code == "S5") return {"harmful"};               // Defamation
  if (code == "S6") return {"harmful"};               // Specialized Advice
  if (code == "S7") return {"harmful"};               // Privacy
  if (code == "S8") return {"illegal"};               // Intellectual Property
  if (code == "S9") return {"violence", "illegal"};   // Indiscriminate Weapons
  if (code == "S10") return {"hate"};                 // Hate
  if (code == "S11") return {"violence", "harmful"};  // Suicide & Self-Harm
  if (code == "S12") return {"sexual"};               // Sexual Content
  if (code == "S13") return {"harmful"};              // Elections
  if (code == "S14") return {"illegal"};              // Code Interpreter Abuse
  if (code == "VIOLENCE") return {"violence"};
  if (code == "HATE") return {"hate"};
  if (code == "SEXUAL") return {"sexual"};
  if (code == "MISCONDUCT") return {"illegal"};
  return {"harmful"};  // INSULTS, PROMPT_ATTACK, topics, words, code-scanner rules, unknown
}

std::vector<std::string> violated_categories(const security::SafetyLevel& level,
                                             const apis::ShieldAssessment& assessment) {
  std::map<std::string, double> scores = assessment.scores;
  if (assessment.violation && scores.empty()) scores["unknown"] = 1.0;  // flagged, no code
  double violence = 0.0, hate = 0.0, sexual = 0.0;
  std::vector<std::string> out;
  auto add = [&](const std::string& category) {
    if (std::find(out.begin(), out.end(), category) == out.end()) out.push_back(category);
  };
  std::vector<std::string> blocked;
  for (const auto& [code, score] : scores) {
    for (std::string_view family : families_of_category(code)) {
      if (family == "violence") violence = std::max(violence, score);
      if (family == "hate") hate = std::max(hate, score);
      if (family == "sexual") sexual = std::max(sexual, score);
      for (const auto& b : level.blocked_categories) {
        if (score > 0.0 && (b == family || b == code)) blocked.push_back(b);
      }
    }
  }
  if (violence > level.max_violence_score) add("violence");
  if (hate > level.max_hate_score) add("hate");
  if (sexual > level.max_sexual_score) add("sexual");
  for (const auto& b : blocked) add(b);
  return out;
}

async::Task<std::optional<ContentSafety::Finding>> ContentSafety::check(
    const apis::CallContext& context, const std::string& level_name, const std::string& model_id,
    json::array conversation, std::string direction) const {
  const security::SafetyLevel& level = settings_.levels.at(level_name);
  std::vector<async::Task<apis::ShieldAssessment>> runs;
  for (const auto& shield : settings_.shields)
    runs.push_back(safety_.assess(context, shield, conversation));
  std::vector<apis::ShieldAssessment> assessments;
  std::exception_ptr failure;
  try {
    auto all = async::when_all(std::move(runs));
    assessments = co_await std::move(all);
  } catch (...) {
    failure = std::current_exception();
  }
  if (failure) {
    ApiError error = to_api_error(failure, "content safety check");
    // A content-safety shield that is not registered is the server's fault,
    // not the caller's: fail closed, as for a guard that is down.
    const int status = error.status() == 404 ? 503 : error.status();
    throw ApiError(status,
                   std::string("Content safety check failed (") + direction + "): " + error.what());
  }
  for (std::size_t i = 0; i < assessments.size(); ++i) {
    std::vector<std::string> categories = violated_categories(level, assessments[i]);
    if (categories.empty()) continue;
    json::array listed;
    for (const auto& c : categories) listed.emplace_back(c);
    json::object scores;
    for (const auto& [code, score] : assessments[i].scores) scores[code] = score;
    std::string text;
    for (const auto& m : conversation) {
      if (const auto* o = m.if_object()) append_delta_text(text, *o);
    }
    security::audit_call(
        audit_, "safety_violation", security::AuditLevel::kWarning, context,
        json::object{{"safety_level", level_name},
                     {"shield", settings_.shields[i]},
                     {"categories", std::move(listed)},
                     {"scores", std::move(scores)},
                     {"direction", direction},
                     {"model", model_id},
                     {"content", std::move(text)}});  // kept only with include_content
    Finding finding{settings_.shields[i], std::move(categories), {}};
    if (assessments[i].violation) finding.user_message = assessments[i].violation->user_message;
    co_return finding;
  }
  co_return std::nullopt;
}

async::Task<ContentSafety::Guarded> ContentSafety::run(InferenceKind kind,
                                                       const apis::CallContext& context,
                                                       std::string model_id, json::object request,
                                                       apis::ChunkSink sink,
                                                       Generate generate) const {
  const std::string& level_name = settings_.level_for(context.scopes);
  const security::SafetyLevel& level = settings_.levels.at(level_name);
  json::array conversation = input_conversation(kind, request);
  if (kind != InferenceKind::kEmbeddings && json_flag(request, "stream")) {
    auto streamed = run_stream(kind, context, level_name, level, model_id, std::move(conversation),
                               std::move(request), std::move(sink), std::move(generate));
    co_return co_await std::move(streamed);
  }

  ChildCall child(context);
  std::optional<async::Started<std::optional<Finding>>> input;
  if (level.check_input && !conversation.empty()) {
    input.emplace(async::start(check(context, level_name, model_id, conversation, "input"),
                               context.executor));
  }
  auto generation = async::start(generate(child.context, std::move(request), {}), context.executor);
  if (input) {
    std::optional<Finding> finding;
    std::exception_ptr failure;
    try {
      auto join = input->join();
      finding = co_await join;
    } catch (...) {
      failure = std::current_exception();
    }
    if (failure || finding) {
      child.cancel();
      auto wound_down = abandon(generation);
      co_await std::move(wound_down);
      if (failure) std::rethrow_exception(failure);
      throw content_filter_error(level_name, finding->categories, "input");
    }
  }
  auto answered = generation.join();
  json::object result = co_await answered;
  if (kind != InferenceKind::kEmbeddings && level.check_output) {
    std::string text = output_text(kind, result, "message");
    if (!text.empty()) {
      auto checked = check(context, level_name, model_id,
                           with_answer(std::move(conversation), std::move(text)), "output");
      std::optional<Finding> finding;
      finding = co_await std::move(checked);
      if (finding) throw content_filter_error(level_name, finding->categories, "output");
    }
  }
  co_return Guarded{std::move(result), false};
}

async::Task<ContentSafety::Guarded> ContentSafety::run_stream(
    InferenceKind kind, const apis::CallContext& context, const std::string& level_name,
    const security::SafetyLevel& level, const std::string& model_id, json::array conversation,
    json::object request, apis::ChunkSink sink, Generate generate) const {
  ChildCall child(context);
  std::optional<async::Started<std::optional<Finding>>> input;
  if (level.check_input && !conversation.empty()) {
    input.emplace(async::start(check(context, level_name, model_id, conversation, "input"),
                               context.executor));
  }
  auto channel = std::make_shared<async::Channel<json::object>>(context.executor);
  auto generation = async::start(
      pump(std::move(generate), child.context, std::move(request), channel), context.executor);

  // Everything below ends by joining `generation`; a failure is kept until then.
  std::exception_ptr failure;
  bool filtered = false;
  if (input) {
    try {
      auto join = input->join();
      std::optional<Finding> finding;
      finding = co_await join;
      if (finding)
        failure =
            std::make_exception_ptr(content_filter_error(level_name, finding->categories, "input"));
    } catch (...) {
      failure = std::current_exception();
    }
  }
  // Output in windows: held until judged, then released in order.
  std::vector<json::object> held;
  std::string window, previous;
  json::object first;  // the shape of the filter chunk
  json::object chunk;
  bool more = !failure;
  while (more) {
    auto next = channel->pop(chunk);
    if (co_await next) {
      if (first.empty()) first = chunk;
      window += output_text(kind, chunk, "delta");
      held.push_back(std::move(chunk));
      if (level.check_output && window.size() < settings_.stream_window_chars) continue;
    } else {
      more = false;
    }
    if (level.check_output && !window.empty()) {
      std::optional<Finding> finding;
      try {
        auto checked = check(context, level_name, model_id,
                             with_answer(conversation, previous + window), "output");
        finding = co_await std::move(checked);
      } catch (...) {
        failure = std::current_exception();
        break;
      }
      if (finding) {
        filtered = true;
        if (sink) sink(filter_chunk(kind, first));
        break;
      }
      previous = std::move(window);
      window.clear();
    }
    for (auto& c : held) {
      if (sink) sink(std::move(c));
    }
    held.clear();
  }
  if (failure || filtered) {
    child.cancel();
    auto wound_down = abandon(generation);
    co_await std::move(wound_down);
    if (failure) std::rethrow_exception(failure);
    co_return Guarded{{}, true};
  }
  auto finished = generation.join();
  json::object result = co_await finished;
  co_return Guarded{std::move(result), false};
}

}  // namespace llama_stack::routing
