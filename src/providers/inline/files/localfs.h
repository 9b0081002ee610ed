// inline::localfs: the Files API on the local disk. See localfs.cc.
#pragma once

#include "llama_stack/providers/provider.h"

namespace llama_stack::providers::inline_ {

ProviderSpec localfs_spec();

}  // namespace llama_stack::providers::inline_
