// Checking stated facts against a graph, and the reference population the description generator
// draws subjects and wrong values from (descriptions.h).
#include <algorithm>
#include <cstdlib>

#include "archbert/autonet.h"
#include "archbert/descriptions.h"
#include "data/facts.h"
#include "data/rng.h"

namespace archbert {
namespace data {

int64_t inventory_count(const GraphStats& s, const std::string& cls) {
  const auto it = s.inventory.find(cls);
  return it == s.inventory.end() ? 0 : it->second;
}

bool uses_kernel(const GraphStats& s, const std::string& cls, const std::string& kernel) {
  const auto it = s.kernels.find(cls);
  return it != s.kernels.end() &&
         std::find(it->second.begin(), it->second.end(), kernel) != it->second.end();
}

}  // namespace data

namespace {

using data::count_margin;
using data::inventory_count;
using data::param_margin;
using data::round_to;
using data::total_margin;
using data::uses_kernel;

constexpr int kReferenceNetworks = 512;

// FactReference::finish's weights w over a pool of true values. A wrong value for truth t is
// pool value v with probability w[v] / Z(t) among the values far enough from t (|v - t| >=
// margin(t)). The weights are fitted (iterative proportional fitting) so that, with t itself
// drawn from the pool, every pool entry is stated as a wrong value equally often: wrong values
// then follow the distribution of true values.
template <typename Margin>
std::vector<double> wrong_value_weights(const std::vector<int64_t>& pool, Margin margin) {
  const size_t n = pool.size();
  std::vector<char> far(n * n);  // far[t * n + v]
  for (size_t t = 0; t < n; ++t)
    for (size_t v = 0; v < n; ++v)
      far[t * n + v] = std::llabs(pool[v] - pool[t]) >= margin(pool[t]);
  std::vector<double> w(n, 1.0), z(n), q(n);
  for (int iteration = 0; iteration < 30; ++iteration) {
    for (size_t t = 0; t < n; ++t) {
      z[t] = 0;
      for (size_t v = 0; v < n; ++v) z[t] += far[t * n + v] * w[v];
    }
    std::fill(q.begin(), q.end(), 0.0);
    for (size_t t = 0; t < n; ++t)
      if (z[t] > 0)
        for (size_t v = 0; v < n; ++v) q[v] += far[t * n + v] * w[v] / z[t];
    for (size_t v = 0; v < n; ++v) w[v] = q[v] > 0 ? w[v] / q[v] : 0.0;
  }
  // Scale so that the largest weight is 1 (wrong_value draws with integer weights).
  const double top = n ? *std::max_element(w.begin(), w.end()) : 0.0;
  for (double& x : w) x = top > 0 ? x / top : 0.0;
  return w;
}

}  // namespace

int64_t total_layers(const GraphStats& stats) {
  int64_t n = 0;
  for (const auto& [cls, count] : stats.inventory) n += count;
  return n;
}

bool fact_holds(const StatedFact& f, const GraphStats& stats, int64_t params) {
  if (f.kind == "has") return inventory_count(stats, f.cls) >= 1;
  if (f.kind == "lacks") return inventory_count(stats, f.cls) == 0;
  if (f.kind == "count") return inventory_count(stats, f.cls) == f.value;
  if (f.kind == "total") return total_layers(stats) == f.value;
  if (f.kind == "params") return f.unit > 0 && round_to(params, f.unit) == f.value;
  if (f.kind == "kernel") return uses_kernel(stats, f.cls, f.kernel);
  return false;
}

void FactReference::add(const GraphStats& stats, int64_t network_params) {
  ++networks;
  for (const auto& [cls, n] : stats.inventory) {
    ++present[cls];
    counts[cls].push_back(n);
  }
  for (const auto& [cls, ks] : stats.kernels)
    for (const std::string& k : ks) ++kernels[cls][k];
  totals.push_back(total_layers(stats));
  params.push_back(network_params);
  finished = false;
}

void FactReference::finish() {
  count_weights.clear();
  for (const auto& [cls, pool] : counts)
    count_weights[cls] = wrong_value_weights(pool, count_margin);
  total_weights = wrong_value_weights(totals, total_margin);
  param_weights = wrong_value_weights(params, param_margin);
  finished = true;
}

double FactReference::presence(const std::string& cls) const {
  const auto it = present.find(cls);
  return networks == 0 || it == present.end() ? 0.0 : double(it->second) / networks;
}

double FactReference::kernel_rate(const std::string& cls, const std::string& kernel) const {
  const auto it = kernels.find(cls);
  if (networks == 0 || it == kernels.end()) return 0.0;
  const auto k = it->second.find(kernel);
  return k == it->second.end() ? 0.0 : double(k->second) / networks;
}

FactReference autonet_fact_reference(uint64_t seed) {
  const AutoNetSampler sampler(data::mix(seed, data::tag_hash("fact-reference")),
                               DatasetSplit::kTrain);
  FactReference ref;
  for (int i = 0; i < kReferenceNetworks; ++i) {
    const AutoNet net = sampler.sample(i);
    ref.add(net.graph.stats(), net.graph.params);
  }
  ref.finish();
  return ref;
}

}  // namespace archbert
