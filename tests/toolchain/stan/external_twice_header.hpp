// C++ definition of `twice`, declared without a body in external_twice.stan.
// Force-included into the model's translation unit (make USER_HEADER=...), after the
// model header, so the precompiled header is used whatever this file includes first.
#include <stan/model/model_header.hpp>
#include <ostream>

namespace external_twice_model_namespace {
template <typename T>
T twice(const T& x, std::ostream* pstream__) {
  return 2 * x;
}
}  // namespace external_twice_model_namespace
