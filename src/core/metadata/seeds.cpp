// Seed addresses; see seeds.hpp.
#include "core/metadata/seeds.hpp"

#include <cctype>

#include "core/common/error.hpp"

namespace phantom::metadata {

namespace {

std::string_view Trim(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.remove_suffix(1);
  return text;
}

SeedAddress ParseAddress(std::string_view entry) {
  const std::string shown(entry);
  const size_t colon = entry.rfind(':');
  if (colon == std::string_view::npos)
    throw Error(sqlstate::kInvalidParameterValue, "seed \"" + shown + "\" has no port", "",
                "Write seeds as host:port, separated by commas.");
  SeedAddress address;
  address.host = std::string(entry.substr(0, colon));
  const std::string_view port = entry.substr(colon + 1);
  if (address.host.empty()) throw Error(sqlstate::kInvalidParameterValue, "seed \"" + shown + "\" has no host");
  int64_t value = 0;
  for (char c : port) {
    if (!std::isdigit(static_cast<unsigned char>(c)) || value > 65535) {
      value = -1;
      break;
    }
    value = value * 10 + (c - '0');
  }
  if (port.empty() || value < 1 || value > 65535)
    throw Error(sqlstate::kInvalidParameterValue, "seed \"" + shown + "\" has an invalid port", "",
                "A port is a number between 1 and 65535.");
  address.port = static_cast<int32_t>(value);
  return address;
}

[[noreturn]] void BadJson(const std::string& what, size_t at) {
  throw Error(sqlstate::kInvalidTextRepresentation,
              "invalid seed list from the discovery URL: " + what + " at byte " + std::to_string(at), "",
              "The discovery URL must return a JSON array of \"host:port\" strings.");
}

}  // namespace

std::vector<SeedAddress> ParseSeeds(std::string_view list) {
  std::vector<SeedAddress> seeds;
  while (!list.empty()) {
    const size_t comma = list.find(',');
    const std::string_view entry = Trim(list.substr(0, comma));
    if (!entry.empty()) seeds.push_back(ParseAddress(entry));
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return seeds;
}

std::vector<SeedAddress> ParseSeedsJson(std::string_view json) {
  size_t at = 0;
  const auto skip_space = [&] {
    while (at < json.size() && std::isspace(static_cast<unsigned char>(json[at]))) at++;
  };
  skip_space();
  if (at >= json.size() || json[at] != '[') BadJson("expected '['", at);
  at++;
  std::vector<SeedAddress> seeds;
  skip_space();
  if (at < json.size() && json[at] == ']') {
    at++;
  } else {
    for (;;) {
      skip_space();
      if (at >= json.size() || json[at] != '"') BadJson("expected a string", at);
      const size_t start = ++at;
      std::string value;
      while (at < json.size() && json[at] != '"') {
        // Host names and ports need no escapes; refusing them keeps this small.
        if (json[at] == '\\' || static_cast<unsigned char>(json[at]) < 0x20) BadJson("unexpected character", at);
        value += json[at++];
      }
      if (at >= json.size()) BadJson("unterminated string", start - 1);
      at++;
      try {
        seeds.push_back(ParseAddress(Trim(value)));
      } catch (const Error& error) {
        BadJson(error.Message(), start);
      }
      skip_space();
      if (at < json.size() && json[at] == ',') {
        at++;
        continue;
      }
      if (at < json.size() && json[at] == ']') {
        at++;
        break;
      }
      BadJson("expected ',' or ']'", at);
    }
  }
  skip_space();
  if (at != json.size()) BadJson("unexpected text after the array", at);
  return seeds;
}

}  // namespace phantom::metadata
