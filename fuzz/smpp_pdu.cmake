kentongan_fuzzer(smpp_pdu SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/smpp_pdu.cpp DEPS kentongan::smpp_codec)
