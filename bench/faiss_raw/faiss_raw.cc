// The floor for inline::faiss: the same search done by libfaiss directly.
//   faiss-raw N DIM QUERIES K [flat|hnsw]
// Builds an index over N random unit vectors (seed 1), then runs QUERIES
// single-vector searches for K neighbours. Prints one JSON line: build time,
// per-query p50/p99 in microseconds, and the index's bytes per vector.
#include <faiss/IndexFlat.h>
#include <faiss/IndexHNSW.h>
#include <faiss/impl/io.h>
#include <faiss/index_io.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <memory>
#include <random>
#include <string>
#include <vector>

int main(int argc, char** argv) {
  if (argc < 5) {
    std::fprintf(stderr, "usage: faiss-raw N DIM QUERIES K [flat|hnsw]\n");
    return 2;
  }
  const long n = std::stol(argv[1]);
  const int dim = std::stoi(argv[2]);
  const int queries = std::stoi(argv[3]);
  const int k = std::stoi(argv[4]);
  const std::string kind = argc > 5 ? argv[5] : "flat";
  std::mt19937 rng(1);
  std::normal_distribution<float> normal;
  auto random_unit = [&](float* v) {
    double norm = 0;
    for (int i = 0; i < dim; ++i) {
      v[i] = normal(rng);
      norm += v[i] * v[i];
    }
    for (int i = 0; i < dim; ++i) v[i] = static_cast<float>(v[i] / std::sqrt(norm));
  };
  std::vector<float> data(static_cast<std::size_t>(n) * dim);
  for (long i = 0; i < n; ++i) random_unit(data.data() + i * dim);
  std::unique_ptr<faiss::Index> index;
  if (kind == "hnsw") {
    auto hnsw = std::make_unique<faiss::IndexHNSWFlat>(dim, 32);
    hnsw->hnsw.efConstruction = 40;
    hnsw->hnsw.efSearch = 64;
    index = std::move(hnsw);
  } else {
    index = std::make_unique<faiss::IndexFlatL2>(dim);
  }
  const auto t0 = std::chrono::steady_clock::now();
  index->add(n, data.data());
  const double build_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::vector<double> micros;
  std::vector<float> q(dim), distances(k);
  std::vector<faiss::Index::idx_t> labels(k);
  for (int i = 0; i < queries; ++i) {
    random_unit(q.data());
    const auto s = std::chrono::steady_clock::now();
    index->search(1, q.data(), k, distances.data(), labels.data());
    micros.push_back(
        std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - s).count());
  }
  std::sort(micros.begin(), micros.end());
  faiss::VectorIOWriter writer;
  faiss::write_index(index.get(), &writer);
  std::printf(
      "{\"n\":%ld,\"dim\":%d,\"index\":\"%s\",\"build_s\":%.3f,\"p50_us\":%.1f,\"p99_us\":%.1f,"
      "\"index_bytes_per_vector\":%.1f}\n",
      n, dim, kind.c_str(), build_s, micros[micros.size() / 2],
      micros[std::min(micros.size() - 1, micros.size() * 99 / 100)],
      static_cast<double>(writer.data.size()) / static_cast<double>(n));
  return 0;
}
