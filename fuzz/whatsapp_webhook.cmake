if(TARGET kentongan_whatsapp_codec)
  kentongan_fuzzer(whatsapp_webhook SOURCES ${CMAKE_CURRENT_LIST_DIR}/whatsapp_webhook.cpp DEPS kentongan::whatsapp_codec)
endif()
