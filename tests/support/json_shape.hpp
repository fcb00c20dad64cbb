// SPDX-License-Identifier: GPL-3.0-or-later
// Checks --json output against docs/json.md: a small JSON reader that records the
// shape of a document (every member path and the types seen there), the field
// tables of the document, and the differences between the two.
#pragma once

#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace uidsync::test {

// path -> JSON types seen there ("object", "array", "string", "number",
// "boolean", "null"). Members are joined with ".", array elements add "[]":
// {"a": [{"b": 1}], "c": ["x"]} gives "a" array, "a[]" object, "a[].b" number,
// "c" array, "c[]" string. An array that is always empty gives no "[]" path.
using JsonShape = std::map<std::string, std::set<std::string>>;

// The shape of `text`, one JSON document (RFC 8259) with optional whitespace
// around it. Throws std::runtime_error naming the byte offset on malformed input.
JsonShape json_shape(std::string_view text);

// The field table of the section of `doc` whose "## " heading contains `heading`:
// path -> documented type ("string", "number or null", ...). A table row is
// "| `path` | type | meaning |". Throws std::runtime_error if there is no such
// section or it has no rows.
std::map<std::string, std::string> documented_fields(const std::filesystem::path& doc,
                                                     std::string_view heading);

// What differs, one line each (empty: the output is as documented): a path the
// output has but the table does not, a type seen that the table does not allow,
// and a documented path missing from the output. A documented path inside an
// array is only required when that array had elements.
std::vector<std::string> shape_differences(const std::map<std::string, std::string>& documented,
                                           const JsonShape& shape);

} // namespace uidsync::test
