kentongan_fuzzer(intake_command SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/intake_command.cpp DEPS kentongan::intake)
