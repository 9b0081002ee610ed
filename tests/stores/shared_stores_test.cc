// The KVStore contract and the SqlStore basics against real PostgreSQL and
// Redis servers, then what sharing them means: two handles (as two replicas
// would hold) counting and updating exactly, clear errors while a server is
// down, and recovery with nothing lost when it is back.
#include <hiredis.h>

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "core/storage/kvstore_contract.h"
#include "core/storage/sql_store.h"
#include "stores/db_servers.h"

namespace llama_stack::storage {
namespace {

using contract::bump_json;
using contract::json_count;
using contract::KVStoreContract;
using contract::StoreFactory;
using ::llama_stack::testing::DbServer;

DbServer& postgres() {
  static DbServer server("postgres");
  return server;
}
DbServer& redis() {
  static DbServer server("redis", "redis-secret");
  return server;
}

std::string fresh_table() {
  static std::atomic<int> n{0};
  return "kv_" + std::to_string(::getpid()) + "_" + std::to_string(++n);
}

void flush_redis() {
  redisContext* c = redisConnect("127.0.0.1", redis().port());
  ASSERT_TRUE(c != nullptr && c->err == 0);
  freeReplyObject(redisCommand(c, "AUTH %s", "redis-secret"));
  freeReplyObject(redisCommand(c, "FLUSHALL"));
  redisFree(c);
}

INSTANTIATE_TEST_SUITE_P(Shared, KVStoreContract,
                         ::testing::Values(StoreFactory{"Postgres",
                                                        [] {
                                                          return open_postgres_kvstore(
                                                              postgres().postgres(fresh_table()));
                                                        }},
                                           StoreFactory{"Redis",
                                                        [] {
                                                          flush_redis();
                                                          return open_redis_kvstore(
                                                              redis().redis());
                                                        }}),
                         StoreFactory::name);

// Two stores on one server, as two replicas: 4 threads each.
void expect_exact_across_handles(KVStore& a, KVStore& b) {
  constexpr int kPerThread = 150;
  std::vector<std::thread> threads;
  for (KVStore* store : {&a, &b, &a, &b}) {
    threads.emplace_back([store] {
      for (int i = 0; i < kPerThread; ++i) {
        store->increment("hits", 1);
        store->update("json", bump_json);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(a.get("hits"), std::to_string(4 * kPerThread));
  EXPECT_EQ(json_count(b, "json"), 4 * kPerThread);
}

TEST(Postgres, TwoHandlesCountAndUpdateExactly) {
  const std::string table = fresh_table();
  auto a = open_postgres_kvstore(postgres().postgres(table));
  auto b = open_postgres_kvstore(postgres().postgres(table));
  expect_exact_across_handles(*a, *b);
}

TEST(Redis, TwoHandlesCountAndUpdateExactly) {
  flush_redis();
  auto a = open_redis_kvstore(redis().redis());
  auto b = open_redis_kvstore(redis().redis());
  expect_exact_across_handles(*a, *b);
}

TEST(Postgres, UnreachableServerIsAClearError) {
  auto options = postgres().postgres(fresh_table());
  options.port = ::llama_stack::testing::free_port();
  try {
    open_postgres_kvstore(options);
    FAIL() << "opened a store on a closed port";
  } catch (const StorageError& e) {
    EXPECT_NE(
        std::string(e.what()).find("postgres://llama@127.0.0.1:" + std::to_string(options.port)),
        std::string::npos)
        << e.what();
  }
  options = postgres().postgres(fresh_table());
  options.password = "wrong";
  EXPECT_THROW(open_postgres_kvstore(options), StorageError);
}

TEST(Redis, UnreachableServerAndWrongPasswordAreClearErrors) {
  auto options = redis().redis();
  options.port = ::llama_stack::testing::free_port();
  try {
    open_redis_kvstore(options);
    FAIL() << "opened a store on a closed port";
  } catch (const StorageError& e) {
    EXPECT_NE(std::string(e.what()).find("redis://127.0.0.1:" + std::to_string(options.port)),
              std::string::npos)
        << e.what();
  }
  options = redis().redis();
  options.password = "wrong";
  EXPECT_THROW(open_redis_kvstore(options), StorageError);
}

TEST(Postgres, TableWithAnotherLayoutIsRefused) {
  const std::string table = fresh_table();
  auto sql = open_postgres_sql_store(postgres().postgres(table));
  sql->create_table(table, {{"key", SqlType::kText, true}, {"value", SqlType::kText}});
  try {
    open_postgres_kvstore(postgres().postgres(table));
    FAIL() << "a TEXT value column was accepted";
  } catch (const StorageError& e) {
    EXPECT_NE(std::string(e.what()).find("another layout"), std::string::npos) << e.what();
  }
}

// Stops the server under open stores: calls fail with StorageError (no
// crash, no hang past the timeout), then succeed once it is back, with every
// write made before the restart still there.
template <typename Open>
void expect_recovery(DbServer& server, Open open) {
  auto store = open();
  store->set("kept", "before");
  for (int i = 0; i < 20; ++i) store->increment("n", 1);
  server.stop();
  EXPECT_THROW(store->get("kept"), StorageError);
  EXPECT_THROW(store->increment("n", 1), StorageError);
  server.start();
  EXPECT_EQ(store->get("kept"), "before");
  EXPECT_EQ(store->increment("n", 1), 21);  // the failed increment did not count
  EXPECT_EQ(store->update("kept", [](const auto& v) { return *v + "+after"; }), "before+after");
}

TEST(Postgres, RecoversAfterTheServerRestarts) {
  const std::string table = fresh_table();
  expect_recovery(postgres(), [&] { return open_postgres_kvstore(postgres().postgres(table)); });
}

TEST(Redis, RecoversAfterTheServerRestarts) {
  flush_redis();
  expect_recovery(redis(), [] { return open_redis_kvstore(redis().redis()); });
}

TEST(Redis, KeysOfOtherStoresAndBinaryPrefixesScanCorrectly) {
  flush_redis();
  auto store = open_redis_kvstore(redis().redis());
  store->set(std::string("p\xff", 2), "a");
  store->set(std::string("p\xff\xff", 3), "b");
  store->set("q", "c");
  EXPECT_EQ(store->scan_prefix(std::string("p\xff", 2)).size(), 2u);
  EXPECT_EQ(store->scan_prefix("p").size(), 2u);
  // An expired key disappears from scans and from the index on purge.
  store->set("p-short", "x", Clock::now() + std::chrono::milliseconds(50));
  EXPECT_EQ(store->scan_prefix("p").size(), 3u);
  std::this_thread::sleep_for(std::chrono::milliseconds(120));
  EXPECT_EQ(store->scan_prefix("p").size(), 2u);
  EXPECT_EQ(store->purge_expired(), 1u);
}

class PostgresSqlStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    table_ = fresh_table();
    store_ = open_postgres_sql_store(postgres().postgres(table_));
    store_->create_table(
        table_,
        {{"id", SqlType::kText, true}, {"rank", SqlType::kInteger}, {"note", SqlType::kText}});
  }
  std::vector<std::string> ids(const SqlQuery& query) {
    std::vector<std::string> out;
    for (const auto& row : store_->fetch(query)) out.push_back(sql_text(row, "id"));
    return out;
  }
  std::string table_;
  std::shared_ptr<SqlStore> store_;
};

TEST_F(PostgresSqlStoreTest, UpsertReplacesByPrimaryKey) {
  store_->upsert(table_, {{"id", "a"}, {"rank", std::int64_t{1}}, {"note", "first"}});
  store_->upsert(table_, {{"id", "a"}, {"rank", std::int64_t{2}}, {"note", "second"}});
  auto rows = store_->fetch({table_, {}, {}, {}, {}});
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(sql_int(rows[0], "rank"), 2);
  EXPECT_EQ(sql_text(rows[0], "note"), "second");
  EXPECT_EQ(store_->dialect(), "postgres");
}

TEST_F(PostgresSqlStoreTest, OrderedKeysetPagesAndFilters) {
  for (int i = 0; i < 5; ++i) {
    store_->upsert(table_, {{"id", std::string(1, static_cast<char>('a' + i))},
                            {"rank", std::int64_t{i % 2}},
                            {"note", i == 4 ? SqlValue{} : SqlValue{"n"}}});
  }
  EXPECT_EQ(ids({table_, {}, {{"id", true}}, {}, 2}), (std::vector<std::string>{"e", "d"}));
  EXPECT_EQ(ids({table_, {}, {{"id", true}}, {SqlValue{"d"}}, 2}),
            (std::vector<std::string>{"c", "b"}));
  EXPECT_EQ(ids({table_, {{"rank", std::int64_t{1}}}, {{"id", false}}, {}, {}}),
            (std::vector<std::string>{"b", "d"}));
  EXPECT_EQ(ids({table_, {{"note", SqlValue{}}}, {}, {}, {}}), (std::vector<std::string>{"e"}));
  EXPECT_EQ(store_->remove(table_, {{"rank", std::int64_t{0}}}), 3u);
  EXPECT_EQ(ids({table_, {}, {{"id", false}}, {}, {}}), (std::vector<std::string>{"b", "d"}));
}

TEST_F(PostgresSqlStoreTest, NewColumnsAreAddedAndRowsKept) {
  store_->upsert(table_, {{"id", "a"}, {"rank", std::int64_t{1}}});
  store_->create_table(table_, {{"id", SqlType::kText, true},
                                {"rank", SqlType::kInteger},
                                {"note", SqlType::kText},
                                {"score", SqlType::kReal}});
  store_->upsert(table_, {{"id", "b"}, {"score", 0.25}});
  auto rows = store_->fetch({table_, {}, {{"id", false}}, {}, {}});
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(sql_int(rows[0], "rank"), 1);
  EXPECT_TRUE(sql_is_null(rows[0], "score"));
  EXPECT_DOUBLE_EQ(std::get<double>(rows[1].at("score")), 0.25);
}

}  // namespace
}  // namespace llama_stack::storage
