# bench_smpp: a whole broadcast through the real service and its SMPP channel to the SMSC simulator
# (a forked child process), receipts on, every state change durable (issue 4 target: 50,000/s).
add_executable(bench_smpp ${CMAKE_CURRENT_SOURCE_DIR}/smpp.cpp)
target_link_libraries(bench_smpp PRIVATE kentongan::daemon kentongan::smpp kentongan::warnings)
