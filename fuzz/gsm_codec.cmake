kentongan_fuzzer(gsm_codec SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/gsm_codec.cpp DEPS kentongan::gsm)
