#include "protocol/whatsapp/signature.hpp"

#include <array>
#include <cstddef>
#include <memory>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

namespace kentongan::whatsapp {

namespace {

constexpr std::string_view hex_digits = "0123456789abcdef";
constexpr std::size_t mac_bytes = 32;  // SHA-256
using mac_t = std::array<unsigned char, mac_bytes>;

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

struct mac_deleter {
  void operator()(EVP_MAC* m) const { EVP_MAC_free(m); }
  void operator()(EVP_MAC_CTX* c) const { EVP_MAC_CTX_free(c); }
};
using ctx_ptr = std::unique_ptr<EVP_MAC_CTX, mac_deleter>;

/// OpenSSL 3's one-shot HMAC() fetches the algorithm and sets the key on every call, which costs
/// more than hashing a webhook body; so each thread keeps HMAC contexts already keyed with the
/// last few secrets and restarts one of them for every body.
class keyed_macs {
 public:
  /// The MAC of `body`, or false when OpenSSL fails.
  bool compute(std::string_view secret, std::string_view body, mac_t& out) {
    EVP_MAC_CTX* ctx = find_or_key(secret);
    if (ctx == nullptr) return false;
    static const unsigned char empty = 0;
    const auto* data = body.empty() ? &empty : reinterpret_cast<const unsigned char*>(body.data());
    std::size_t length = 0;
    // Init without a key starts a new MAC with the key already set (EVP_MAC_init(3)).
    return EVP_MAC_init(ctx, nullptr, 0, nullptr) == 1 && EVP_MAC_update(ctx, data, body.size()) == 1 &&
           EVP_MAC_final(ctx, out.data(), &length, out.size()) == 1 && length == mac_bytes;
  }

 private:
  struct entry {
    std::string secret;
    ctx_ptr ctx;
  };
  static constexpr std::size_t kept = 4;  // one daemon serves a few numbers at most

  EVP_MAC_CTX* find_or_key(std::string_view secret) {
    for (auto& e : entries_)
      if (e.ctx && e.secret == secret) return e.ctx.get();
    if (!mac_) mac_.reset(EVP_MAC_fetch(nullptr, "HMAC", nullptr));
    if (!mac_) return nullptr;
    ctx_ptr ctx{EVP_MAC_CTX_new(mac_.get())};
    if (!ctx) return nullptr;
    char digest[] = "SHA256";
    const OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0), OSSL_PARAM_construct_end()};
    // An empty key needs a non-null pointer.
    static const unsigned char empty = 0;
    const auto* key = secret.empty() ? &empty : reinterpret_cast<const unsigned char*>(secret.data());
    if (EVP_MAC_init(ctx.get(), key, secret.size(), params) != 1) return nullptr;
    auto& slot = entries_[next_++ % kept];
    slot.secret = std::string(secret);
    slot.ctx = std::move(ctx);
    return slot.ctx.get();
  }

  std::unique_ptr<EVP_MAC, mac_deleter> mac_;
  std::array<entry, kept> entries_;
  std::size_t next_ = 0;
};

bool hmac_sha256(std::string_view secret, std::string_view body, mac_t& out) {
  thread_local keyed_macs macs;
  return macs.compute(secret, body, out);
}

}  // namespace

std::string hmac_sha256_hex(std::string_view secret, std::string_view body) {
  mac_t mac{};
  if (!hmac_sha256(secret, body, mac)) return {};
  std::string out;
  out.reserve(mac.size() * 2);
  for (const unsigned char b : mac) {
    out.push_back(hex_digits[b >> 4]);
    out.push_back(hex_digits[b & 0x0F]);
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
  if (header.size() != prefix.size() + 2 * mac_bytes) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    const char c = header[i];
    const char lower = c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
    if (lower != prefix[i]) return false;
  }
  // The hex in either case (vectors.md H.3: uppercase must still verify) to bytes; non-hex is refused.
  mac_t given{};
  for (std::size_t i = 0; i < mac_bytes; ++i) {
    const int hi = hex_value(header[prefix.size() + 2 * i]);
    const int lo = hex_value(header[prefix.size() + 2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    given[i] = static_cast<unsigned char>(hi * 16 + lo);
  }
  mac_t expected{};
  if (!hmac_sha256(app_secret, raw_body, expected)) return false;
  return CRYPTO_memcmp(given.data(), expected.data(), mac_bytes) == 0;
}

std::optional<std::string> verify_subscription(std::string_view mode, std::string_view token,
                                               std::string_view challenge, std::string_view expected_token) {
  if (mode != "subscribe" || expected_token.empty()) return std::nullopt;
  if (!equal_constant_time(token, expected_token)) return std::nullopt;
  return std::string(challenge);
}

}  // namespace kentongan::whatsapp
