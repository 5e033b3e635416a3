# Needs kentongan::modem_at, which protocol/modem/CMakeLists.txt defines.
if(TARGET kentongan::modem_at)
  kentongan_fuzzer(at_response SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/at_response.cpp DEPS kentongan::modem_at kentongan::modem_pdu)
endif()
