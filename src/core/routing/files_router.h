// FilesRouter: the Files API (apis::FilesApi) over the configured files
// provider, with the access policy: a file belongs to whoever uploaded it; a
// file the caller may not read does not exist for them (404), a denied
// delete is 403 (ResourceAccess, type "file").
#pragma once

#include "core/routing/resource_access.h"
#include "llama_stack/apis/files.h"
#include "llama_stack/providers/provider.h"

namespace llama_stack::routing {

class FilesRouter final : public apis::FilesApi {
 public:
  explicit FilesRouter(const ResourceAccess& access) : access_(access) {}
  // Startup only: the first files provider serves the API.
  void add_provider(providers::FilesProvider* provider) {
    if (provider_ == nullptr) provider_ = provider;
  }
  bool configured() const { return provider_ != nullptr; }

  async::Task<apis::FileObject> upload(const apis::CallContext& context,
                                       apis::FileUpload upload) override;
  async::Task<apis::FilesPage> list(const apis::CallContext& context,
                                    apis::FilesQuery query) override;
  async::Task<apis::FileObject> retrieve(const apis::CallContext& context,
                                         std::string file_id) override;
  async::Task<std::string> content(const apis::CallContext& context, std::string file_id) override;
  async::Task<void> remove(const apis::CallContext& context, std::string file_id) override;

 private:
  providers::FilesProvider& provider() const;
  async::Task<apis::FileObject> readable(const apis::CallContext& context, std::string file_id);

  const ResourceAccess& access_;
  providers::FilesProvider* provider_ = nullptr;
};

}  // namespace llama_stack::routing
