#include "core/registry/apis.h"

#include <algorithm>
#include <map>

namespace llama_stack::registry {
namespace {

constexpr std::string_view kProvidableApis[] = {
    "inference", "safety",        "agents",       "vector_io", "datasetio", "scoring",
    "eval",      "post_training", "tool_runtime", "telemetry", "files"};

constexpr std::string_view kRoutingTableApis[] = {"models",     "shields",           "vector_dbs",
                                                  "datasets",   "scoring_functions", "benchmarks",
                                                  "tool_groups"};

const std::map<std::string_view, std::vector<std::string_view>>& known_types() {
  static const std::map<std::string_view, std::vector<std::string_view>> kTypes = {
      {"agents", {"inline::meta-reference"}},
      {"datasetio", {"inline::localfs", "remote::huggingface", "remote::nvidia"}},
      {"eval", {"inline::meta-reference", "remote::nvidia"}},
      {"files", {"inline::localfs"}},
      {"inference",
       {"inline::meta-reference",
        "inline::vllm",
        "inline::sentence-transformers",
        "remote::cerebras",
        "remote::ollama",
        "remote::vllm",
        "remote::tgi",
        "remote::hf::serverless",
        "remote::hf::endpoint",
        "remote::fireworks",
        "remote::together",
        "remote::bedrock",
        "remote::databricks",
        "remote::nvidia",
        "remote::runpod",
        "remote::openai",
        "remote::anthropic",
        "remote::gemini",
        "remote::groq",
        "remote::fireworks-openai-compat",
        "remote::llama-openai-compat",
        "remote::together-openai-compat",
        "remote::groq-openai-compat",
        "remote::sambanova-openai-compat",
        "remote::cerebras-openai-compat",
        "remote::sambanova",
        "remote::passthrough",
        "remote::watsonx"}},
      {"post_training", {"inline::torchtune", "inline::huggingface", "remote::nvidia"}},
      {"safety",
       {"inline::prompt-guard", "inline::llama-guard", "inline::code-scanner", "remote::bedrock",
        "remote::nvidia", "remote::sambanova"}},
      {"scoring", {"inline::basic", "inline::llm-as-judge", "inline::braintrust"}},
      {"telemetry", {"inline::meta-reference"}},
      {"tool_runtime",
       {"inline::rag-runtime", "remote::brave-search", "remote::bing-search",
        "remote::tavily-search", "remote::wolfram-alpha", "remote::model-context-protocol"}},
      {"vector_io",
       {"inline::meta-reference", "inline::faiss", "inline::sqlite-vec", "inline::sqlite_vec",
        "remote::chromadb", "inline::chromadb", "remote::pgvector", "remote::weaviate",
        "inline::qdrant", "remote::qdrant", "remote::milvus", "inline::milvus"}},
  };
  return kTypes;
}

}  // namespace

std::vector<std::string> providable_api_names() {
  return {std::begin(kProvidableApis), std::end(kProvidableApis)};
}

bool is_providable_api(std::string_view api) {
  return std::find(std::begin(kProvidableApis), std::end(kProvidableApis), api) !=
         std::end(kProvidableApis);
}

bool is_routing_table_api(std::string_view api) {
  return std::find(std::begin(kRoutingTableApis), std::end(kRoutingTableApis), api) !=
         std::end(kRoutingTableApis);
}

bool is_known_api(std::string_view api) {
  return is_providable_api(api) || is_routing_table_api(api) || api == "inspect" ||
         api == "providers";
}

const std::vector<std::string_view>& llama_stack_provider_types(std::string_view api) {
  static const std::vector<std::string_view> kEmpty;
  auto it = known_types().find(api);
  return it == known_types().end() ? kEmpty : it->second;
}

bool is_llama_stack_provider_type(std::string_view api, std::string_view provider_type) {
  const auto& types = llama_stack_provider_types(api);
  return std::find(types.begin(), types.end(), provider_type) != types.end();
}

}  // namespace llama_stack::registry
