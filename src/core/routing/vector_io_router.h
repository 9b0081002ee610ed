// VectorIORouter: the vector IO API (apis::VectorIOApi) for every caller —
// the /v1/vector-io routes, and later the RAG tool and the vector stores.
// Resolves the vector DB (404 when unknown or not readable by the caller, 403
// when the token's scopes do not cover it), validates every chunk (400 naming
// chunks[i]), embeds the chunks that come without an embedding through the
// inference router with the vector DB's embedding model (batches of 64), and
// calls the provider.
#pragma once

#include "core/routing/resource_access.h"
#include "core/routing/routing_tables.h"
#include "llama_stack/apis/inference.h"
#include "llama_stack/apis/telemetry.h"
#include "llama_stack/apis/vector_io.h"

namespace llama_stack::routing {

class VectorIORouter final : public apis::VectorIOApi {
 public:
  VectorIORouter(VectorDBsRoutingTable& vector_dbs, const ResourceAccess& access,
                 apis::InferenceApi& inference)
      : vector_dbs_(vector_dbs), access_(access), inference_(inference) {}
  // Startup only: where each search's span goes (null: not recorded).
  void set_telemetry(apis::TelemetryApi* telemetry) { telemetry_ = telemetry; }

  async::Task<void> insert(const apis::CallContext& context, const std::string& vector_db_id,
                           json::array chunks, std::optional<std::int64_t> ttl_seconds) override;
  async::Task<apis::QueryChunksResponse> query(const apis::CallContext& context,
                                               const std::string& vector_db_id, json::value query,
                                               json::object params) override;
  async::Task<apis::QueryChunksResponse> search(const apis::CallContext& context,
                                                const std::string& vector_db_id,
                                                apis::VectorQuery query) override;
  async::Task<void> delete_chunks(const apis::CallContext& context, const std::string& vector_db_id,
                                  std::vector<std::string> chunk_ids) override;
  async::Task<std::vector<apis::Chunk>> list_chunks(const apis::CallContext& context,
                                                    const std::string& vector_db_id,
                                                    apis::ChunkFilter keep) override;

  // How many texts go to the embedding model per call.
  static constexpr std::size_t kEmbeddingBatch = 64;

 private:
  apis::VectorDB resolve(const apis::CallContext& context, const std::string& vector_db_id) const;
  // Embeds `texts` with the vector DB's model; 502 when the model answers
  // vectors of another dimension or count.
  async::Task<std::vector<std::vector<float>>> embed(const apis::CallContext& context,
                                                     const apis::VectorDB& vector_db,
                                                     std::vector<std::string> texts);

  VectorDBsRoutingTable& vector_dbs_;
  const ResourceAccess& access_;
  apis::InferenceApi& inference_;
  apis::TelemetryApi* telemetry_ = nullptr;
};

// Parses a query's params (Llama Stack's names; 400 naming the field).
apis::VectorQuery parse_vector_query_params(const json::object& params);

// The id of a chunk without chunk_id: a UUID from the MD5 of
// "<document_id>:<text>" (Llama Stack's generate_chunk_id); without a
// document_id, of the text alone.
std::string derived_chunk_id(const json::object& metadata, const std::string& text);

}  // namespace llama_stack::routing
