#include "core/routing/routing_tables.h"

#include <gtest/gtest.h>

#include "support/api_errors.h"

#include "llama_stack/common/errors.h"

namespace llama_stack::routing {
namespace {

class FakeInference : public providers::InferenceProvider {
 public:
  apis::Model register_model(apis::Model model) override {
    if (model.provider_resource_id == "refuse-me")
      throw ApiError::bad_request("refused by provider");
    ++registered;
    return model;
  }
  void unregister_model(const std::string&) override { ++unregistered; }
  apis::CancelFn openai_chat_completion(const apis::InferenceContext&, json::object,
                                        apis::InferenceCallbacks) override {
    return [] {};
  }
  apis::CancelFn openai_completion(const apis::InferenceContext&, json::object,
                                   apis::InferenceCallbacks) override {
    return [] {};
  }
  apis::CancelFn openai_embeddings(const apis::InferenceContext&, json::object,
                                   apis::InferenceCallbacks) override {
    return [] {};
  }
  int registered = 0;
  int unregistered = 0;
};

class FakeVectorIO : public providers::VectorIOProvider {
 public:
  void register_vector_db(const apis::VectorDB& db) override { ids.push_back(db.identifier); }
  void unregister_vector_db(const std::string& id) override { removed.push_back(id); }
  async::Task<void> insert_chunks(const apis::CallContext&, const apis::VectorDB&,
                                  std::vector<apis::Chunk>) override {
    co_return;
  }
  async::Task<apis::QueryChunksResponse> query_chunks(const apis::CallContext&,
                                                      const apis::VectorDB&,
                                                      apis::VectorQuery) override {
    co_return apis::QueryChunksResponse{};
  }
  async::Task<void> delete_chunks(const apis::CallContext&, const apis::VectorDB&,
                                  std::vector<std::string>) override {
    co_return;
  }
  async::Task<std::vector<apis::Chunk>> list_chunks(const apis::CallContext&, const apis::VectorDB&,
                                                    apis::ChunkFilter) override {
    co_return std::vector<apis::Chunk>{};
  }
  std::vector<std::string> ids, removed;
};

using testing::status_of;

class RoutingTablesTest : public ::testing::Test {
 protected:
  std::shared_ptr<storage::KVStore> store_ = storage::make_memory_kvstore();
  registry::ResourceRegistry registry_{store_};
  FakeInference a_, b_;
  FakeVectorIO vio_;
  ModelsRoutingTable models_{registry_, {{"a", &a_}, {"b", &b_}}};
  VectorDBsRoutingTable vdbs_{registry_, models_, {{"faiss", &vio_}}};

  apis::Model add_model(std::string id, std::optional<std::string> provider = "a") {
    RegisterModelRequest r;
    r.model_id = std::move(id);
    r.provider_id = std::move(provider);
    return models_.register_model(r, OnExisting::kConflict);
  }
};

TEST_F(RoutingTablesTest, RegistersAndDefaultsProviderResourceId) {
  apis::Model m = add_model("meta-llama/Llama-3.2-3B");
  EXPECT_EQ(m.provider_resource_id, "meta-llama/Llama-3.2-3B");
  EXPECT_EQ(a_.registered, 1);
  EXPECT_EQ(models_.get("meta-llama/Llama-3.2-3B").provider_id, "a");
  EXPECT_EQ(models_.list().size(), 1u);
}

TEST_F(RoutingTablesTest, ErrorsHaveTheRightStatus) {
  add_model("m");
  EXPECT_EQ(status_of([&] { add_model("m"); }), 409);
  EXPECT_EQ(status_of([&] { add_model("x", "nope"); }), 404);
  EXPECT_EQ(status_of([&] { add_model("x", std::nullopt); }), 400);  // two providers: ambiguous
  EXPECT_EQ(status_of([&] { add_model("", "a"); }), 400);
  EXPECT_EQ(status_of([&] { models_.get("missing"); }), 404);
  EXPECT_EQ(status_of([&] { models_.unregister_model("missing"); }), 404);
}

TEST_F(RoutingTablesTest, ProviderMayRefuse) {
  RegisterModelRequest r;
  r.model_id = "x";
  r.provider_id = "a";
  r.provider_model_id = "refuse-me";
  EXPECT_EQ(status_of([&] { models_.register_model(r, OnExisting::kConflict); }), 400);
  EXPECT_FALSE(models_.find("x").has_value());
}

TEST_F(RoutingTablesTest, ReplaceModeOverwrites) {
  add_model("m");
  RegisterModelRequest r;
  r.model_id = "m";
  r.provider_id = "b";
  models_.register_model(r, OnExisting::kReplace);
  EXPECT_EQ(models_.get("m").provider_id, "b");
}

TEST_F(RoutingTablesTest, UnregisterTellsTheProviderAndForgets) {
  add_model("m");
  models_.unregister_model("m");
  EXPECT_EQ(a_.unregistered, 1);
  EXPECT_FALSE(models_.find("m").has_value());
}

TEST_F(RoutingTablesTest, EmbeddingModelsNeedADimension) {
  RegisterModelRequest r;
  r.model_id = "emb";
  r.provider_id = "a";
  r.model_type = apis::ModelType::kEmbedding;
  EXPECT_EQ(status_of([&] { models_.register_model(r, OnExisting::kConflict); }), 400);
  r.metadata["embedding_dimension"] = 768;
  EXPECT_EQ(models_.register_model(r, OnExisting::kConflict).model_type,
            apis::ModelType::kEmbedding);
}

TEST_F(RoutingTablesTest, VectorDBsTakeTheModelsDimension) {
  RegisterModelRequest emb;
  emb.model_id = "emb";
  emb.provider_id = "a";
  emb.model_type = apis::ModelType::kEmbedding;
  emb.metadata["embedding_dimension"] = 768;
  models_.register_model(emb, OnExisting::kConflict);
  add_model("chat");

  RegisterVectorDBRequest v;
  v.vector_db_id = "docs";
  v.embedding_model = "emb";
  apis::VectorDB db = vdbs_.register_vector_db(v, OnExisting::kConflict);
  EXPECT_EQ(db.embedding_dimension, 768);
  EXPECT_EQ(db.provider_id, "faiss");  // the only vector_io provider
  EXPECT_EQ(vio_.ids, std::vector<std::string>{"docs"});

  v.vector_db_id = "other";
  v.embedding_dimension = 384;
  EXPECT_EQ(status_of([&] { vdbs_.register_vector_db(v, OnExisting::kConflict); }), 400);
  v.embedding_dimension.reset();
  v.embedding_model = "chat";
  EXPECT_EQ(status_of([&] { vdbs_.register_vector_db(v, OnExisting::kConflict); }), 400);
  v.embedding_model = "ghost";
  EXPECT_EQ(status_of([&] { vdbs_.register_vector_db(v, OnExisting::kConflict); }), 404);

  vdbs_.unregister_vector_db("docs");
  EXPECT_EQ(vio_.removed, std::vector<std::string>{"docs"});
  EXPECT_EQ(status_of([&] { vdbs_.get("docs"); }), 404);
}

TEST_F(RoutingTablesTest, RegistryReloadRestoresResources) {
  RegisterModelRequest r;
  r.model_id = "persisted";
  r.provider_id = "a";
  r.metadata["temperature"] = 0.7;
  r.owner = apis::Owner{"alice", json::object{{"roles", json::array{"admin"}}}};
  models_.register_model(r, OnExisting::kConflict);

  registry::ResourceRegistry reloaded(store_);
  reloaded.load();
  auto object = reloaded.get("model", "persisted");
  ASSERT_TRUE(object.has_value());
  apis::Model m = apis::Model::from_json(*object);
  EXPECT_EQ(m.provider_id, "a");
  EXPECT_DOUBLE_EQ(m.metadata.at("temperature").as_double(), 0.7);
  ASSERT_TRUE(m.owner.has_value());
  EXPECT_EQ(m.owner->principal, "alice");
}

TEST_F(RoutingTablesTest, CorruptRecordsAreSkippedOnLoad) {
  store_->set("distributions:registry:v9::model:bad", "{not json");
  add_model("good");
  registry::ResourceRegistry reloaded(store_);
  reloaded.load();
  EXPECT_EQ(reloaded.list("model").size(), 1u);
}

}  // namespace
}  // namespace llama_stack::routing
