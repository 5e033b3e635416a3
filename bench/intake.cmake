# bench_intake: residents' messages through the real service — admin API /api/sim/inbound, the
# simulated channel, routing, aspiration, reply queued, every change durable with group commit
# (issue 5 targets: 10,000 messages/s; p99 receipt → queued reply under 20 ms at 1,000/s).
add_executable(bench_intake ${CMAKE_CURRENT_SOURCE_DIR}/intake.cpp)
target_link_libraries(bench_intake PRIVATE kentongan::daemon kentongan::warnings SQLiteCpp)
