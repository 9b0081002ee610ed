// VectorStoreRecords: write-through records that survive a reload, exact
// counts, interrupted files, and OpenAI cursor pagination (page_of).
#include "core/routing/vector_store_records.h"

#include <gtest/gtest.h>

#include "support/api_errors.h"

namespace llama_stack::routing {
namespace {

apis::VectorStore store_named(const std::string& id, std::int64_t created_at = 100) {
  apis::VectorStore s;
  s.id = id;
  s.created_at = created_at;
  s.name = "n-" + id;
  s.provider_id = "faiss";
  s.embedding_model = "m";
  s.embedding_dimension = 8;
  return s;
}

apis::VectorStoreFile file_of(const std::string& store, const std::string& id,
                              const std::string& status, std::int64_t bytes = 10) {
  apis::VectorStoreFile f;
  f.id = id;
  f.vector_store_id = store;
  f.created_at = 100;
  f.status = status;
  f.usage_bytes = bytes;
  f.attributes = {{"k", id}};
  return f;
}

TEST(VectorStoreRecords, SurviveAReloadWithExactCounts) {
  std::shared_ptr<storage::KVStore> kv = storage::make_memory_kvstore();
  {
    VectorStoreRecords records(kv);
    records.load();
    records.put_store(store_named("vs_a"));
    ASSERT_TRUE(records.put_file(file_of("vs_a", "f1", "completed", 7)));
    ASSERT_TRUE(records.put_file(file_of("vs_a", "f2", "failed")));
    ASSERT_TRUE(records.put_file(file_of("vs_a", "f3", "in_progress")));
    EXPECT_FALSE(records.put_file(file_of("vs_missing", "f9", "completed")));
    const apis::VectorStore s = *records.store("vs_a");
    EXPECT_EQ(s.file_counts.total, 3);
    EXPECT_EQ(s.file_counts.completed, 1);
    EXPECT_EQ(s.file_counts.failed, 1);
    EXPECT_EQ(s.file_counts.in_progress, 1);
    EXPECT_EQ(s.usage_bytes, 7);
  }
  VectorStoreRecords reloaded(kv);
  EXPECT_EQ(reloaded.load(), 1u);
  const auto files = reloaded.files("vs_a");
  ASSERT_EQ(files.size(), 3u);
  EXPECT_EQ(files[0].id, "f1");  // creation order
  EXPECT_EQ(reloaded.attributes("vs_a").at("f2").at("k"), "f2");
  // The file left in progress by the last run is failed, with a reason.
  const apis::VectorStoreFile f3 = *reloaded.file("vs_a", "f3");
  EXPECT_EQ(f3.status, "failed");
  ASSERT_TRUE(f3.last_error);
  EXPECT_NE(f3.last_error->message.find("restart"), std::string::npos);
  EXPECT_EQ(reloaded.store("vs_a")->file_counts.failed, 2);
  reloaded.remove_store("vs_a");
  VectorStoreRecords empty(kv);
  EXPECT_EQ(empty.load(), 0u);
  EXPECT_TRUE(kv->scan_prefix("vector_store").empty());
}

struct Item {
  std::string id;
};

std::vector<std::string> ids(const apis::Page<Item>& page) {
  std::vector<std::string> out;
  for (const auto& i : page.data) out.push_back(i.id);
  return out;
}

TEST(VectorStoreRecords, CursorPages) {
  const std::vector<Item> items{{"a"}, {"b"}, {"c"}, {"d"}, {"e"}};  // oldest first
  apis::PageQuery q;
  q.limit = 2;
  auto page = page_of(items, q);
  EXPECT_EQ(ids(page), (std::vector<std::string>{"e", "d"}));  // newest first by default
  EXPECT_TRUE(page.has_more);
  q.after = "d";
  EXPECT_EQ(ids(page_of(items, q)), (std::vector<std::string>{"c", "b"}));
  q.after = "b";
  page = page_of(items, q);
  EXPECT_EQ(ids(page), (std::vector<std::string>{"a"}));
  EXPECT_FALSE(page.has_more);
  q = {};
  q.descending = false;
  q.limit = 2;
  q.before = "e";
  EXPECT_EQ(ids(page_of(items, q)), (std::vector<std::string>{"c", "d"}));  // just before e
  q.before = "zz";
  EXPECT_EQ(testing::status_of([&] { page_of(items, q); }), 400);
}

}  // namespace
}  // namespace llama_stack::routing
