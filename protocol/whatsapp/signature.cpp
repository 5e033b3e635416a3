#include "protocol/whatsapp/signature.hpp"

#include <array>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

namespace kentongan::whatsapp {

namespace {

constexpr std::string_view hex_digits = "0123456789abcdef";

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::string hmac_sha256_hex(std::string_view secret, std::string_view body) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
  unsigned int length = 0;
  // HMAC() with an empty key needs a non-null pointer.
  static const unsigned char empty = 0;
  const auto* key = secret.empty() ? &empty : reinterpret_cast<const unsigned char*>(secret.data());
  const auto* data = body.empty() ? &empty : reinterpret_cast<const unsigned char*>(body.data());
  if (HMAC(EVP_sha256(), key, static_cast<int>(secret.size()), data, body.size(), mac.data(), &length) == nullptr)
    return {};
  std::string out;
  out.reserve(static_cast<std::size_t>(length) * 2);
  for (unsigned int i = 0; i < length; ++i) {
    out.push_back(hex_digits[mac[i] >> 4]);
    out.push_back(hex_digits[mac[i] & 0x0F]);
  }
  return out;
}

std::string sign_body(std::string_view body, std::string_view app_secret) {
  return "sha256=" + hmac_sha256_hex(app_secret, body);
}

bool equal_constant_time(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  if (a.empty()) return true;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

bool verify_signature(std::string_view raw_body, std::string_view header, std::string_view app_secret) {
  if (app_secret.empty() || header.size() > 256) return false;
  // Tolerate surrounding blanks that some proxies leave; the scheme name is case-insensitive.
  while (!header.empty() && (header.front() == ' ' || header.front() == '\t')) header.remove_prefix(1);
  while (!header.empty() && (header.back() == ' ' || header.back() == '\t')) header.remove_suffix(1);
  constexpr std::string_view prefix = "sha256=";
  if (header.size() != prefix.size() + 64) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    const char c = header[i];
    const char lower = c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
    if (lower != prefix[i]) return false;
  }
  // Normalise the hex to lower case (vectors.md H.3: uppercase must still verify); reject non-hex.
  std::string given(header.substr(prefix.size()));
  for (auto& c : given) {
    const int v = hex_value(c);
    if (v < 0) return false;
    c = hex_digits[static_cast<std::size_t>(v)];
  }
  return equal_constant_time(given, hmac_sha256_hex(app_secret, raw_body));
}

std::optional<std::string> verify_subscription(std::string_view mode, std::string_view token,
                                               std::string_view challenge, std::string_view expected_token) {
  if (mode != "subscribe" || expected_token.empty()) return std::nullopt;
  if (!equal_constant_time(token, expected_token)) return std::nullopt;
  return std::string(challenge);
}

}  // namespace kentongan::whatsapp
