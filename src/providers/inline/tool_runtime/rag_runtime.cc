// inline::rag-runtime: the RAG tool (`builtin::rag`: knowledge_search and
// insert_into_memory), on the vector IO router (ProviderDeps::vector_io) and,
// for the llm query generator, the inference router.
//
// Documents: text, content items, `data:` URLs and http(s) URLs fetched by us
// (documents.h: limits, SSRF refusals, HTML to text). Chunks: overlapping
// windows of `chunk_size_in_tokens` tokens, overlapping by a quarter — tokens
// as counted by text_tokens() (core/util/text_chunks.h).
#include "providers/inline/tool_runtime/rag_runtime.h"

#include <algorithm>

#include "core/config/config_node.h"
#include "core/util/api_error.h"
#include "core/util/message_text.h"
#include "core/util/text_chunks.h"
#include "llama_stack/async/when_all.h"
#include "providers/utils/url_documents.h"

namespace llama_stack::providers::inline_ {
namespace {

using config::ConfigNode;
using config::Diagnostics;
using config::MapReader;

// Python's str() of a JSON value (dicts and lists as Python prints them),
// which is what the chunk template's {metadata} shows in Llama Stack.
void python_repr(std::string& out, const json::value& v) {
  switch (v.kind()) {
    case json::kind::null:
      out += "None";
      return;
    case json::kind::bool_:
      out += v.get_bool() ? "True" : "False";
      return;
    case json::kind::string: {
      out += '\'';
      for (char c : v.get_string()) {
        if (c == '\'' || c == '\\') out += '\\';
        out += c;
      }
      out += '\'';
      return;
    }
    case json::kind::array: {
      out += '[';
      bool first = true;
      for (const auto& item : v.get_array()) {
        if (!first) out += ", ";
        first = false;
        python_repr(out, item);
      }
      out += ']';
      return;
    }
    case json::kind::object: {
      out += '{';
      bool first = true;
      for (const auto& kv : v.get_object()) {
        if (!first) out += ", ";
        first = false;
        python_repr(out, json::value(kv.key()));
        out += ": ";
        python_repr(out, kv.value());
      }
      out += '}';
      return;
    }
    default:
      out += to_json(v);
  }
}

void replace_all(std::string& s, std::string_view from, const std::string& to) {
  for (std::size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size())) {
    s.replace(at, from.size(), to);
  }
}

json::object text_item(std::string text) {
  return json::object{{"type", "text"}, {"text", std::move(text)}};
}

class RagRuntime final : public ToolRuntimeProvider, public apis::RagToolApi {
 public:
  RagRuntime(ProviderContext context, DocumentLimits limits)
      : context_(std::move(context)), limits_(limits) {}

  void initialize() override {
    http::ClientOptions options;
    options.read_timeout = std::chrono::seconds(limits_.fetch_timeout_seconds);
    client_ = http::HttpClient::create(*context_.runtime, options);
  }

  apis::RagToolApi* rag() override { return this; }

  async::Task<std::vector<apis::ToolDef>> list_runtime_tools(const apis::CallContext&,
                                                             const apis::ToolGroup&) override {
    apis::ToolDef insert;
    insert.name = "insert_into_memory";
    insert.description = "Insert documents into memory";
    apis::ToolDef search;
    search.name = "knowledge_search";
    search.description = "Search for information in a database.";
    search.parameters = json::array{json::object{
        {"name", "query"},
        {"description", "The query to search for. Can be a natural language sentence or keywords."},
        {"parameter_type", "string"},
        {"required", true},
        {"default", nullptr}}};
    co_return std::vector<apis::ToolDef>{std::move(insert), std::move(search)};
  }

  async::Task<apis::ToolInvocationResult> invoke_tool(const apis::CallContext& context,
                                                      const apis::ToolGroup& group,
                                                      const std::string& tool_name,
                                                      json::object kwargs) override {
    std::vector<std::string> dbs = vector_db_ids(kwargs, group);
    if (tool_name == "insert_into_memory") {
      const auto* documents = json_field(kwargs, "documents");
      if (documents == nullptr || !documents->is_array()) {
        throw JsonFieldError("kwargs.documents", "Field 'kwargs.documents' must be a list");
      }
      if (dbs.size() != 1) {
        throw JsonFieldError(
            "kwargs.vector_db_id",
            "insert_into_memory needs exactly one vector DB (kwargs.vector_db_id)");
      }
      std::int64_t chunk = 512;
      if (const auto* c = json_field(kwargs, "chunk_size_in_tokens");
          c != nullptr && c->is_int64()) {
        chunk = c->get_int64();
      }
      auto run = insert(context, documents->get_array(), dbs.front(), chunk);
      co_await std::move(run);
      co_return apis::ToolInvocationResult{};
    }
    if (tool_name != "knowledge_search") {
      throw ApiError::not_found("Tool '" + tool_name + "' is not a tool of " + group.identifier);
    }
    const auto* q = json_field(kwargs, "query");
    if (q == nullptr || q->is_null())
      throw JsonFieldError("kwargs.query", "Field 'kwargs.query' is required");
    const json::value* config = json_field(kwargs, "query_config");
    auto run =
        query(context, *q, std::move(dbs),
              apis::RagQueryConfig::parse(config != nullptr ? *config : json::value(nullptr)));
    apis::RagQueryResult result = co_await std::move(run);
    apis::ToolInvocationResult out;
    out.content = std::move(result.content);
    out.metadata = std::move(result.metadata);
    co_return out;
  }

  async::Task<void> insert(const apis::CallContext& context, json::array documents,
                           std::string vector_db_id, std::int64_t chunk_size_in_tokens) override {
    if (chunk_size_in_tokens < 4 || chunk_size_in_tokens > 1 << 20) {
      throw JsonFieldError("chunk_size_in_tokens",
                           "Field 'chunk_size_in_tokens' must be between 4 and 1048576");
    }
    apis::VectorIOApi& vector_io = deps_vector_io();
    json::array chunks;
    for (std::size_t i = 0; i < documents.size(); ++i) {
      const std::string path = "documents[" + std::to_string(i) + "]";
      auto text = document_text(context, documents[i], path);
      std::string content = co_await std::move(text);
      const json::object& doc = documents[i].as_object();
      json::object metadata;
      if (const auto* m = json_field(doc, "metadata"); m != nullptr && !m->is_null()) {
        if (!m->is_object())
          throw JsonFieldError(path + ".metadata",
                               "Field '" + path + ".metadata' must be an object");
        metadata = m->get_object();
      }
      const std::string document_id(doc.at("document_id").as_string());
      const std::size_t metadata_tokens = text_tokens(to_json(metadata)).size();
      for (auto& piece : overlapped_chunks(content, static_cast<std::size_t>(chunk_size_in_tokens),
                                           static_cast<std::size_t>(chunk_size_in_tokens / 4))) {
        json::object m = metadata;
        m["document_id"] = document_id;
        m["token_count"] = piece.tokens;
        m["metadata_token_count"] = metadata_tokens;
        chunks.push_back(
            json::object{{"content", std::move(piece.text)}, {"metadata", std::move(m)}});
      }
    }
    if (chunks.empty()) co_return;
    auto stored = vector_io.insert(context, vector_db_id, std::move(chunks), std::nullopt);
    co_await std::move(stored);
  }

  async::Task<apis::RagQueryResult> query(const apis::CallContext& context, json::value content,
                                          std::vector<std::string> vector_db_ids,
                                          apis::RagQueryConfig config) override {
    if (vector_db_ids.empty()) {
      throw ApiError::bad_request(
          "No vector DBs were provided to the knowledge search tool. Please provide at least one "
          "vector DB ID.");
    }
    const std::string asked = message_text(content, "content");
    auto generated = rag_query_text(context, content, config);
    const std::string query_text = co_await std::move(generated);
    apis::VectorIOApi& vector_io = deps_vector_io();
    json::object params{{"max_chunks", config.max_chunks}};
    if (config.mode) params["mode"] = *config.mode;
    if (!config.ranker.is_null()) params["ranker"] = config.ranker;
    std::vector<async::Task<apis::QueryChunksResponse>> searches;
    for (const auto& db : vector_db_ids) {
      searches.push_back(vector_io.query(context, db, json::value(query_text), params));
    }
    auto all = async::when_all(std::move(searches));
    std::vector<apis::QueryChunksResponse> results = co_await std::move(all);
    std::vector<std::pair<double, json::object>> found;
    for (auto& r : results) {
      for (std::size_t i = 0; i < r.chunks.size(); ++i)
        found.emplace_back(r.scores[i], std::move(r.chunks[i]));
    }
    apis::RagQueryResult out;
    if (found.empty()) co_return out;
    std::stable_sort(found.begin(), found.end(),
                     [](const auto& a, const auto& b) { return a.first > b.first; });
    if (found.size() > static_cast<std::size_t>(config.max_chunks)) found.resize(config.max_chunks);

    json::array picked;
    picked.push_back(text_item("knowledge_search tool found " + std::to_string(found.size()) +
                               " chunks:\nBEGIN of knowledge_search tool results.\n"));
    json::array document_ids;
    std::int64_t tokens = 0;
    for (std::size_t i = 0; i < found.size(); ++i) {
      const json::object& chunk = found[i].second;
      json::object metadata;
      if (const auto* m = json_field(chunk, "metadata"); m != nullptr && m->is_object())
        metadata = m->get_object();
      for (const char* key : {"token_count", "metadata_token_count"}) {
        if (const auto* t = json_field(metadata, key); t != nullptr && t->is_number()) {
          const std::int64_t n = std::max<std::int64_t>(0, saturated_int64(*t));
          tokens = n > INT64_MAX - tokens ? INT64_MAX : tokens + n;
        }
      }
      if (tokens > config.max_tokens_in_context) break;
      metadata.erase("token_count");
      metadata.erase("metadata_token_count");
      std::string text = config.chunk_template;
      std::string shown_metadata;
      python_repr(shown_metadata, metadata);
      const json::value* c = json_field(chunk, "content");
      replace_all(text, "{index}", std::to_string(i + 1));
      replace_all(text, "{chunk.content}", c != nullptr ? message_text(*c, "chunk.content") : "");
      replace_all(text, "{metadata}", shown_metadata);
      picked.push_back(text_item(std::move(text)));
      if (const auto* d = json_field(metadata, "document_id")) document_ids.push_back(*d);
    }
    picked.push_back(text_item("END of knowledge_search tool results.\n"));
    picked.push_back(
        text_item("The above results were retrieved to help answer the user's query: \"" + asked +
                  "\". Use them as supporting information only in answering this "
                  "query.\n"));
    out.content = std::move(picked);
    out.metadata["document_ids"] = std::move(document_ids);
    co_return out;
  }

 private:
  apis::VectorIOApi& deps_vector_io() const {
    apis::VectorIOApi* api = context_.deps != nullptr ? context_.deps->vector_io : nullptr;
    if (api == nullptr) throw ApiError::unavailable("inline::rag-runtime: no vector IO router");
    return *api;
  }

  static std::vector<std::string> vector_db_ids(const json::object& kwargs,
                                                const apis::ToolGroup& group) {
    std::vector<std::string> out;
    auto add = [&](const json::value* v) {
      if (v == nullptr) return;
      if (v->is_string()) out.emplace_back(v->get_string());
      if (const auto* a = v->if_array()) {
        for (const auto& item : *a) {
          if (item.is_string()) out.emplace_back(item.get_string());
        }
      }
    };
    add(json_field(kwargs, "vector_db_ids"));
    add(json_field(kwargs, "vector_db_id"));
    if (out.empty() && group.args.is_object()) {  // the group's args (agents pass them)
      add(json_field(group.args.get_object(), "vector_db_ids"));
    }
    return out;
  }

  // The search text: the content itself (default generator, joined by the
  // separator), or what the llm generator's model makes of the template.
  async::Task<std::string> rag_query_text(const apis::CallContext& context,
                                          const json::value& content,
                                          const apis::RagQueryConfig& config) {
    const std::string text = message_text(content, "content", config.separator);
    if (config.generator != "llm") co_return text;
    apis::InferenceApi* inference = context_.deps != nullptr ? context_.deps->inference : nullptr;
    if (inference == nullptr)
      throw ApiError::unavailable("inline::rag-runtime: no inference router");
    std::string prompt =
        config.generator_template.empty() ? "{messages}" : config.generator_template;
    replace_all(prompt, "{messages}", text);
    apis::CallContext child = context;
    child.settle_tokens = {};
    json::object request{
        {"model", config.generator_model},
        {"messages", json::array{json::object{{"role", "user"}, {"content", prompt}}}},
        {"stream", false},
        {"store", false}};
    auto call = inference->chat_completion(child, std::move(request));
    json::object response = co_await std::move(call);
    std::string generated;
    if (const auto* choices = json_field(response, "choices");
        choices != nullptr && choices->is_array() && !choices->get_array().empty()) {
      const auto* message = json_field(choices->get_array()[0].as_object(), "message");
      const auto* c = message != nullptr && message->is_object()
                          ? json_field(message->get_object(), "content")
                          : nullptr;
      if (c != nullptr && c->is_string()) generated = c->get_string();
    }
    if (generated.empty())
      throw ApiError::bad_gateway("The llm query generator's model answered no text");
    co_return generated;
  }

  // One document's text (see documents.h), validated: 400 naming the field.
  async::Task<std::string> document_text(const apis::CallContext& context, const json::value& doc,
                                         const std::string& path) {
    const json::object* o = doc.if_object();
    if (o == nullptr) throw JsonFieldError(path, "Field '" + path + "' must be an object");
    const auto* id = json_field(*o, "document_id");
    if (id == nullptr || !id->is_string() || id->get_string().empty()) {
      throw JsonFieldError(path + ".document_id", "Field '" + path + ".document_id' is required");
    }
    const auto* content = json_field(*o, "content");
    if (content == nullptr || content->is_null()) {
      throw JsonFieldError(path + ".content", "Field '" + path + ".content' is required");
    }
    std::optional<std::string> mime;
    if (const auto* m = json_field(*o, "mime_type"); m != nullptr && m->is_string())
      mime = std::string(m->get_string());
    std::optional<std::string> url;
    if (content->is_string() && looks_like_url(content->get_string()))
      url = std::string(content->get_string());
    if (const auto* obj = content->if_object()) {
      if (const auto* uri = json_field(*obj, "uri"); uri != nullptr && uri->is_string())
        url = std::string(uri->get_string());
    }
    if (!url) co_return message_text(*content, path + ".content");
    auto fetched =
        fetch_document(context, *client_, context_.workers, *url, mime, limits_, path + ".content");
    co_return co_await std::move(fetched);
  }

  ProviderContext context_;
  DocumentLimits limits_;
  std::shared_ptr<http::HttpClient> client_;
};

DocumentLimits parse_config(const ConfigNode& node, Diagnostics& diagnostics) {
  DocumentLimits limits;
  MapReader r(node, diagnostics);
  limits.allow_private_urls = r.boolean("allow_private_urls").value_or(false);
  limits.max_document_bytes = r.integer("max_document_bytes", 1024, std::int64_t{1} << 32)
                                  .value_or(limits.max_document_bytes);
  limits.fetch_timeout_seconds =
      r.integer("fetch_timeout_seconds", 1, 3600).value_or(limits.fetch_timeout_seconds);
  r.finish();
  return limits;
}

}  // namespace

ProviderSpec rag_runtime_spec() {
  ProviderSpec spec;
  spec.api = "tool_runtime";
  spec.provider_type = "inline::rag-runtime";
  spec.description = "The RAG tool (builtin::rag: knowledge_search, insert_into_memory)";
  spec.api_dependencies = {"vector_io", "inference"};
  spec.validate_config = [](const ConfigNode& node, Diagnostics& d) { parse_config(node, d); };
  spec.create = [](const ProviderContext& context, const ConfigNode& node) {
    Diagnostics ignored;
    return std::unique_ptr<Provider>(new RagRuntime(context, parse_config(node, ignored)));
  };
  return spec;
}

}  // namespace llama_stack::providers::inline_
