// test_registry.cpp — every differentiable op has at least one gradient check
// (autograd/ops/registry.cpp lists the ops; GRADCHECK_CASE in gradcheck_cases.h records cases).
#include <set>
#include <string>

#include "gradcheck_cases.h"

using namespace dl::ag;
using namespace dl::ag::test;

namespace {
std::string joined(const std::vector<std::string>& names) {
  std::string s;
  for (const std::string& n : names) s += (s.empty() ? "" : ", ") + n;
  return s;
}
}  // namespace

TEST(Registry, EveryOpHasAGradcheckCase) {
  std::vector<std::string> missing;
  for (const std::string& op : differentiable_ops())
    if (gradcheck_registry().count(op) == 0) missing.push_back(op);
  EXPECT_TRUE(missing.empty()) << "ops without a GRADCHECK_CASE: " << joined(missing);
}

TEST(Registry, EveryCaseChecksARegisteredOp) {
  // Catches a case filed under a misspelt op name, which would leave the real op unchecked.
  const std::vector<std::string>& ops = differentiable_ops();
  const std::set<std::string> known(ops.begin(), ops.end());
  std::vector<std::string> unknown;
  for (const auto& [op, cases] : gradcheck_registry())
    if (known.count(op) == 0) unknown.push_back(op);
  EXPECT_TRUE(unknown.empty()) << "cases for ops not in differentiable_ops(): " << joined(unknown);
}
