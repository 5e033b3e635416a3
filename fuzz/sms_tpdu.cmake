# Needs kentongan::modem_pdu, which protocol/CMakeLists.txt wires in with add_subdirectory(modem).
if(TARGET kentongan::modem_pdu)
  kentongan_fuzzer(sms_tpdu SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/sms_tpdu.cpp DEPS kentongan::modem_pdu)
endif()
