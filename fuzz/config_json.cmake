kentongan_fuzzer(config_json SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/config_json.cpp
  DEPS kentongan::config nlohmann_json::nlohmann_json)
