// ResourceAccess as an internal caller uses it (no HTTP): the same access
// policy, scope rules and audit events as the resource routes.
#include "core/routing/resource_access.h"

#include <gtest/gtest.h>

#include "support/api_errors.h"
#include "support/audit_capture.h"

namespace llama_stack::routing {
namespace {

using testing::status_of;

apis::Owner owner(std::string principal, std::string role) {
  return apis::Owner{std::move(principal), json::object{{"roles", json::array{role}}}};
}

class ResourceAccessTest : public ::testing::Test {
 protected:
  ResourceAccessTest() {
    security::OAuthSettings oauth;
    oauth.enforce_model_permissions = true;
    oauth.shield_scope_overrides["guarded"] = "shields:guarded";
    policy_ = std::make_unique<security::Policy>(oauth, auth::AccessPolicy::default_policy());
    access_ = std::make_unique<ResourceAccess>(*policy_, audit_.log());
    caller_.user = owner("alice", "user");
    caller_.trace_id = "0123456789abcdef0123456789abcdef";
  }

  std::vector<json::object> audit_events() { return audit_.events(); }

  apis::Shield shield(std::string id, std::optional<apis::Owner> by = std::nullopt) {
    apis::Shield s;
    s.identifier = std::move(id);
    s.owner = std::move(by);
    return s;
  }

  testing::AuditCapture audit_;
  std::unique_ptr<security::Policy> policy_;
  std::unique_ptr<ResourceAccess> access_;
  apis::CallContext caller_;
};

TEST_F(ResourceAccessTest, ListsHoldWhatTheCallerMayReadAndItsScopesCover) {
  std::vector<apis::Shield> shields = {shield("open"), shield("admins", owner("root", "admin")),
                                       shield("guarded")};
  auto visible = access_->visible(caller_, shields);
  ASSERT_EQ(visible.size(), 1u);
  EXPECT_EQ(visible[0].identifier, "open");
  caller_.scopes = {"shields:guarded"};
  EXPECT_EQ(access_->visible(caller_, shields).size(), 2u);
}

TEST_F(ResourceAccessTest, AnUnreadableResourceIsItsOwnNotFound) {
  const auto admins = owner("root", "admin");
  EXPECT_EQ(status_of([&] {
              access_->check_read(caller_, "shield", "admins", admins,
                                  ApiError::not_found("Shield 'admins' not found"));
            }),
            404);
  caller_.user = owner("bob", "admin");
  EXPECT_EQ(status_of([&] {
              access_->check_read(caller_, "shield", "admins", admins, ApiError::not_found("x"));
            }),
            0);
}

TEST_F(ResourceAccessTest, ScopesGuardDirectReads) {
  EXPECT_EQ(status_of([&] { access_->check_scope(caller_, shield("guarded")); }), 403);
  EXPECT_EQ(status_of([&] { access_->check_scope(caller_, shield("open")); }), 0);
}

TEST_F(ResourceAccessTest, ADeniedDeleteIs403AndAudited) {
  EXPECT_EQ(status_of([&] {
              access_->check(caller_, auth::Action::kDelete, "shield", "admins",
                             owner("root", "admin"));
            }),
            403);
  auto events = audit_events();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].at("event"), "access_denied");
  EXPECT_EQ(events[0].at("resource"), "shield::admins");
  EXPECT_EQ(events[0].at("action"), "delete");
  EXPECT_EQ(events[0].at("principal"), "alice");
}

TEST_F(ResourceAccessTest, WithoutAUserEverythingIsAllowed) {
  caller_.user.reset();
  EXPECT_EQ(access_->visible(caller_, {shield("admins", owner("root", "admin"))}).size(), 1u);
  EXPECT_EQ(status_of([&] {
              access_->check(caller_, auth::Action::kCreate, "shield", "x", std::nullopt);
            }),
            0);
}

}  // namespace
}  // namespace llama_stack::routing
