// storage/whatsapp.cpp: who has the WhatsApp 24-hour window open after a restart (issue 6).
#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <stdexcept>

#include "storage/store.hpp"

using namespace kentongan;
using namespace std::chrono_literals;

namespace {

struct temp_db {
  std::filesystem::path dir;
  temp_db() {
    std::string pattern = (std::filesystem::temp_directory_path() / "kentongan-wa-window-XXXXXX").string();
    if (!mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
    dir = pattern;
  }
  ~temp_db() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  temp_db(const temp_db&) = delete;
  temp_db& operator=(const temp_db&) = delete;
};

}  // namespace

TEST_CASE("latest_inbound: per sender on one channel, the newest message within the horizon") {
  temp_db tmp;
  storage::store db(tmp.dir / "kentongan.db");
  const auto now = core::from_millis(core::to_millis(core::now()));  // the store keeps milliseconds
  const auto since = now - 24h;

  struct row {
    const char* channel;
    const char* provider_id;
    const char* phone;
    core::time_point at;
  };
  const row rows[] = {
      {"wa", "wamid.1", "+6281200000002", now - 30h},  // outside the horizon: ignored
      {"wa", "wamid.2", "+6281200000002", now - 2h},
      {"wa", "wamid.3", "+6281200000002", now - 5h},   // older than wamid.2: not the latest
      {"wa", "wamid.4", "+6281200000104", now - 23h},
      {"wa", "wamid.5", "+6281200000108", now - 25h},  // only outside: not listed
      {"sim", "sms.1", "+6281200000113", now - 1h},    // another channel
      {"wa2", "wamid.6", "+6281200000120", now - 1h},  // another WhatsApp number
      {"wa", "", "+6281200000205", since},             // exactly at the horizon: included
  };
  for (const auto& r : rows) REQUIRE(db.store_inbound(r.channel, r.provider_id, r.phone, "INFO HARGA", r.at).has_value());

  using seen = std::vector<std::pair<std::string, core::time_point>>;
  struct {
    const char* label;
    std::string channel;
    seen expected;
  } cases[] = {
      {"wa", "wa", {{"+6281200000002", now - 2h}, {"+6281200000104", now - 23h}, {"+6281200000205", since}}},
      {"the other number", "wa2", {{"+6281200000120", now - 1h}}},
      {"an SMS channel", "sim", {{"+6281200000113", now - 1h}}},
      {"an unknown channel", "nope", {}},
  };
  for (const auto& c : cases) {
    CAPTURE(c.label);
    CHECK(db.latest_inbound(c.channel, since) == c.expected);
  }
}

TEST_CASE("latest_inbound on an empty inbox") {
  temp_db tmp;
  storage::store db(tmp.dir / "kentongan.db");
  CHECK(db.latest_inbound("wa", core::now() - 24h).empty());
}
