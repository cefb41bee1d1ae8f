#pragma once
// The profile's YAML form at the node level, for core code that embeds a profile in a larger document (dataset
// pointer files). Internal to core: yaml-cpp is a private dependency, so front doors and tests use
// profileToYaml/profileFromYaml in profile.h instead.

#include "data/profile.h"

#include <yaml-cpp/yaml.h>

namespace keel::data {

/// Emits the profile as a sequence of column maps into `out` (see profileToYaml).
void emitProfileYaml(YAML::Emitter &out, const TableProfile &profile);

/// Reads a profile node. Errors name the line (1-based) and field ("column.key"); the caller adds the file
/// name (Error::withFile). Never throws.
Expected<TableProfile> parseProfileYaml(const YAML::Node &node, qint64 rows);

} // namespace keel::data
