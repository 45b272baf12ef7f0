// C++ definition of `twice`, declared without a body in external_twice.stan.
// Included first in the model's translation unit (make USER_HEADER=...); it starts
// with the model header so the precompiled header is still used.
#include <stan/model/model_header.hpp>
#include <ostream>

namespace external_twice_model_namespace {
template <typename T>
T twice(const T& x, std::ostream* pstream__) {
  return 2 * x;
}
}  // namespace external_twice_model_namespace
