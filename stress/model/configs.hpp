#ifndef ADDRPOOL_STRESS_MODEL_CONFIGS_HPP
#define ADDRPOOL_STRESS_MODEL_CONFIGS_HPP

#include "spec.hpp"

#include <vector>

namespace model {

std::vector<Config> configs();

}  // namespace model

#endif  // ADDRPOOL_STRESS_MODEL_CONFIGS_HPP
