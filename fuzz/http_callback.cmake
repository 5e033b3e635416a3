if(TARGET kentongan_http_codec)
  kentongan_fuzzer(http_callback SOURCES ${CMAKE_CURRENT_LIST_DIR}/http_callback.cpp DEPS kentongan::http_codec)
endif()
