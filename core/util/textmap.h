#pragma once
// Hash containers keyed by UTF-8 text and looked up by std::string_view, so a lookup from a column's bytes or a
// request's bytes builds no string. std::hash is used rather than qHash: on the scoring path Qt's seeded AES hash of
// short keys measured slower than the rest of a category lookup.

#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

namespace keel {

struct TextHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};

template <class T>
using TextMap = std::unordered_map<std::string, T, TextHash, std::equal_to<>>;
using TextSet = std::unordered_set<std::string, TextHash, std::equal_to<>>;

} // namespace keel
