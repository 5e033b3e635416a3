#pragma once
/// What the config tests share: every error of a load as one text, and a scratch folder for configs
/// that name CSV, holiday or secret files.
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "config/config.hpp"

namespace kentongan::config_test {

inline std::string messages(const config::load_result& r) {
  std::string out;
  for (const auto& e : r.errors) out += (out.empty() ? "" : "\n") + config::format(e);
  return out;
}

struct scratch {
  std::filesystem::path dir;
  explicit scratch(const std::string& prefix = "kentongan-config-test-") {
    dir = std::filesystem::temp_directory_path() / (prefix + std::to_string(::getpid()));
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
  }
  ~scratch() { std::filesystem::remove_all(dir); }
  scratch(const scratch&) = delete;
  scratch& operator=(const scratch&) = delete;
  std::filesystem::path write(const std::string& name, const std::string& text) const {
    std::ofstream(dir / name, std::ios::binary) << text;
    return dir / name;
  }
};

}  // namespace kentongan::config_test
