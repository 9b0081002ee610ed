// SqlStore on SQLite, and the inference store on top of it (including the
// migration of a table written by an earlier version).
#include "core/storage/sql_store.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include "core/storage/inference_store.h"
#include "llama_stack/storage/kvstore.h"
#include "support/temp_dir.h"

namespace llama_stack::storage {
namespace {

class SqlStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = open_sqlite_sql_store(dir_.file("sub/dir/store.db"));
    store_->create_table(
        "items",
        {{"id", SqlType::kText, true}, {"rank", SqlType::kInteger}, {"note", SqlType::kText}});
  }
  std::vector<std::string> ids(const SqlQuery& query) {
    std::vector<std::string> out;
    for (const auto& row : store_->fetch(query)) out.push_back(sql_text(row, "id"));
    return out;
  }
  testing::TempDir dir_;
  std::shared_ptr<SqlStore> store_;
};

TEST_F(SqlStoreTest, UpsertReplacesByPrimaryKey) {
  store_->upsert("items", {{"id", "a"}, {"rank", std::int64_t{1}}, {"note", "first"}});
  store_->upsert("items", {{"id", "a"}, {"rank", std::int64_t{2}}, {"note", "second"}});
  auto rows = store_->fetch({"items", {}, {}, {}, {}});
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(sql_int(rows[0], "rank"), 2);
  EXPECT_EQ(sql_text(rows[0], "note"), "second");
}

TEST_F(SqlStoreTest, WhereOrderKeysetAndLimit) {
  // Two rows share rank 2: the second order column breaks the tie.
  for (auto [id, rank] :
       std::vector<std::pair<const char*, std::int64_t>>{{"a", 1}, {"b", 2}, {"c", 2}, {"d", 3}}) {
    store_->upsert("items", {{"id", id}, {"rank", rank}, {"note", rank == 2 ? "two" : "other"}});
  }
  const std::vector<std::pair<std::string, bool>> desc = {{"rank", true}, {"id", true}};
  EXPECT_EQ(ids({"items", {}, desc, {}, {}}), (std::vector<std::string>{"d", "c", "b", "a"}));
  EXPECT_EQ(ids({"items", {}, desc, {std::int64_t{2}, std::string("c")}, {}}),
            (std::vector<std::string>{"b", "a"}));
  EXPECT_EQ(
      ids({"items", {}, {{"rank", false}, {"id", false}}, {std::int64_t{2}, std::string("b")}, {}}),
      (std::vector<std::string>{"c", "d"}));
  EXPECT_EQ(ids({"items", {{"note", "two"}}, desc, {}, {}}), (std::vector<std::string>{"c", "b"}));
  EXPECT_EQ(ids({"items", {}, desc, {}, 2}), (std::vector<std::string>{"d", "c"}));
  EXPECT_EQ(store_->remove("items", {{"note", "two"}}), 2u);
  EXPECT_EQ(ids({"items", {}, desc, {}, {}}), (std::vector<std::string>{"d", "a"}));
}

TEST_F(SqlStoreTest, NullMatchesIsNull) {
  store_->upsert("items", {{"id", "a"}, {"rank", std::int64_t{1}}});
  store_->upsert("items", {{"id", "b"}, {"rank", std::int64_t{1}}, {"note", "set"}});
  EXPECT_EQ(ids({"items", {{"note", std::monostate{}}}, {}, {}, {}}),
            (std::vector<std::string>{"a"}));
}

TEST_F(SqlStoreTest, CreateTableAddsMissingColumnsAndKeepsRows) {
  store_->upsert("items", {{"id", "a"}, {"rank", std::int64_t{1}}});
  store_->create_table("items", {{"id", SqlType::kText, true},
                                 {"rank", SqlType::kInteger},
                                 {"note", SqlType::kText},
                                 {"extra", SqlType::kJson}});
  store_->upsert("items", {{"id", "b"}, {"extra", "{}"}});
  auto rows = store_->fetch({"items", {}, {{"id", false}}, {}, {}});
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_TRUE(sql_is_null(rows[0], "extra"));
  EXPECT_EQ(sql_text(rows[1], "extra"), "{}");
}

TEST_F(SqlStoreTest, IdentifiersAreCheckedValuesAreBound) {
  EXPECT_THROW(store_->fetch({"items; DROP TABLE items", {}, {}, {}, {}}), StorageError);
  EXPECT_THROW(store_->upsert("items", {{"id) VALUES ('x'); --", "a"}}), StorageError);
  const std::string nasty = "a'); DROP TABLE items; --";
  store_->upsert("items", {{"id", nasty}});
  auto rows = store_->fetch({"items", {{"id", nasty}}, {}, {}, {}});
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(sql_text(rows[0], "id"), nasty);
}

TEST(SqlStoreOpen, AnUnopenablePathIsAStorageError) {
  testing::TempDir dir;
  EXPECT_THROW(open_sqlite_sql_store(dir.path().string()), StorageError);  // a directory
}

TEST(InferenceStoreMigration, RowsOfTheFirstSchemaGetOwnerAndOrderColumns) {
  testing::TempDir dir;
  const std::string path = dir.file("legacy.db");
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db,
                           "CREATE TABLE chat_completions (id TEXT PRIMARY KEY, created INTEGER, "
                           "model TEXT, choices TEXT, input_messages TEXT);"
                           "INSERT INTO chat_completions VALUES ('old-1', 100, 'm', '[]', '[]');"
                           "INSERT INTO chat_completions VALUES ('old-2', 100, 'm', '[]', '[]');",
                           nullptr, nullptr, nullptr),
              SQLITE_OK);
    sqlite3_close(db);
  }
  InferenceStore store(path);
  store.record(
      json::object{{"id", "new-1"}, {"created", 100}, {"model", "m"}, {"choices", json::array{}}},
      json::array{});
  auto page = store.list(std::nullopt, 10, /*descending=*/true, std::nullopt);
  ASSERT_TRUE(page.has_value());
  std::vector<std::string> order;
  for (const auto& c : page->data) order.emplace_back(c.at("id").as_string());
  // Same second: newest arrival first, the legacy rows in their creation order.
  EXPECT_EQ(order, (std::vector<std::string>{"new-1", "old-2", "old-1"}));
  auto next = store.list(std::string("old-2"), 10, true, std::nullopt);
  ASSERT_TRUE(next.has_value());
  ASSERT_EQ(next->data.size(), 1u);
  EXPECT_EQ(next->data[0].at("id"), "old-1");
  EXPECT_FALSE(store.list(std::string("missing"), 10, true, std::nullopt).has_value());
}

}  // namespace
}  // namespace llama_stack::storage
