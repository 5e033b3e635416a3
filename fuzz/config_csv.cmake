kentongan_fuzzer(config_csv SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/config_csv.cpp DEPS kentongan::config)
