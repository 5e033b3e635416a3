#include "protocol/channel/channel.hpp"

#include <cctype>

namespace kentongan::channel {

std::string normalise_provider_id(std::string_view id) {
  std::string out;
  out.reserve(id.size());
  for (char c : id) out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  const auto first = out.find_first_not_of('0');
  if (first == std::string::npos) return out.empty() ? out : std::string("0");
  return out.substr(first);
}

}  // namespace kentongan::channel
