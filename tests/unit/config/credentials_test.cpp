// Secrets handed over by systemd's LoadCredential=: *_file paths may start with %d or ${CREDENTIALS_DIRECTORY}.
#include <doctest/doctest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>

#include "config/config.hpp"

using namespace kentongan;
namespace fs = std::filesystem;

namespace {

constexpr const char* unset_error =
    " names systemd's credentials directory, but $CREDENTIALS_DIRECTORY is not set: the daemon gets it from "
    "LoadCredential= in its unit; to check the config by hand, run CREDENTIALS_DIRECTORY=/etc/kentongan/credentials "
    "kentongan check-config";

/// Sets an environment variable for one test, restoring the previous value.
struct scoped_env {
  std::string name;
  std::optional<std::string> old;
  scoped_env(std::string n, const char* value) : name(std::move(n)) {
    if (const char* v = std::getenv(name.c_str())) old = v;
    if (value)
      ::setenv(name.c_str(), value, 1);
    else
      ::unsetenv(name.c_str());
  }
  ~scoped_env() {
    if (old)
      ::setenv(name.c_str(), old->c_str(), 1);
    else
      ::unsetenv(name.c_str());
  }
  scoped_env(const scoped_env&) = delete;
  scoped_env& operator=(const scoped_env&) = delete;
};

}  // namespace

TEST_CASE("credential paths: %d and ${CREDENTIALS_DIRECTORY} expand to systemd's credentials directory") {
  struct row {
    const char* label;
    std::string path, dir;
    config::expanded_path expected;
  };
  const std::string creds = "/run/credentials/kentongan.service";
  const std::vector<row> cases{
      {"%d/", "%d/smpp-password", creds, {creds + "/smpp-password", ""}},
      {"${...}/", "${CREDENTIALS_DIRECTORY}/smpp-password", creds, {creds + "/smpp-password", ""}},
      {"$... without braces", "$CREDENTIALS_DIRECTORY/wa.token", creds, {creds + "/wa.token", ""}},
      {"trailing slash in the directory", "%d/x", creds + "/", {creds + "/x", ""}},
      {"deeper path", "%d/wa/token", creds, {creds + "/wa/token", ""}},
      {"an absolute path is untouched", "/etc/kentongan/credentials/x", creds, {"/etc/kentongan/credentials/x", ""}},
      {"a relative path is untouched", "secrets/x", "", {"secrets/x", ""}},
      {"%d inside a name is not the specifier", "%dx/y", creds, {"%dx/y", ""}},
      {"another variable is not expanded", "${HOME}/x", creds, {"${HOME}/x", ""}},
      {"%d not at the start", "/x/%d/y", creds, {"/x/%d/y", ""}},
      {"unset: %d", "%d/smpp-password", "", {"", std::string("\"%d/smpp-password\"") + unset_error}},
      {"unset: ${...}", "${CREDENTIALS_DIRECTORY}/p", "", {"", std::string("\"${CREDENTIALS_DIRECTORY}/p\"") + unset_error}},
  };
  for (const auto& c : cases) {
    CAPTURE(c.label);
    CHECK(config::expand_credentials(c.path, c.dir) == c.expected);
  }
}

TEST_CASE("credential paths in a config: resolved from $CREDENTIALS_DIRECTORY, a clear error without it") {
  const fs::path dir = fs::temp_directory_path() / ("kentongan-creds-test-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir / "creds");
  std::ofstream(dir / "creds" / "smpp-password") << "rahasia\n";
  std::ofstream(dir / "creds" / "wa.token") << "EAAtoken\n";
  const std::string text = R"({"village": {"name": "Desa Uji"},
 "channels": [{"name": "t", "type": "smpp", "host": "h", "system_id": "s", "password_file": "%d/smpp-password"},
  {"name": "wa", "type": "whatsapp", "phone_number_id": "1", "token_file": "${CREDENTIALS_DIRECTORY}/wa.token"}],
 "groups": [{"id": "g", "name": "G"}]})";
  {
    scoped_env env("CREDENTIALS_DIRECTORY", (dir / "creds").c_str());
    const auto r = config::load_text(text, dir / "k.json");
    REQUIRE(r.errors.empty());
    const auto& smpp = std::get<config::smpp_channel>(r.config->channels[0].settings);
    CHECK(smpp.password_file == (dir / "creds" / "smpp-password").string());
    CHECK(config::read_secret(smpp.password_file) == "rahasia");
    const auto& wa = std::get<config::whatsapp_channel>(r.config->channels[1].settings);
    CHECK(config::read_secret(wa.token_file) == "EAAtoken");
  }
  {
    scoped_env env("CREDENTIALS_DIRECTORY", nullptr);
    const auto r = config::load_text(text, dir / "k.json");
    REQUIRE(r.errors.size() == 2);
    CHECK(config::format(r.errors[0]) == (dir / "k.json").string() +
                                             ":2:93: channels[0].password_file: \"%d/smpp-password\"" + unset_error);
    CHECK(r.errors[1].message.find("\"${CREDENTIALS_DIRECTORY}/wa.token\" names systemd's credentials directory") !=
          std::string::npos);
  }
  {
    scoped_env env("CREDENTIALS_DIRECTORY", (dir / "elsewhere").c_str());
    const auto r = config::load_text(text, dir / "k.json");
    REQUIRE(r.errors.size() == 2);
    CHECK(r.errors[0].message ==
          "channels[0].password_file: file \"" + (dir / "elsewhere" / "smpp-password").string() + "\" does not exist");
  }
  fs::remove_all(dir);
}
