# bench_expand: expanding a 1,000,000-recipient broadcast into the outbox (issue 3 target: < 5 s, peak RSS < 64 MiB).
add_executable(bench_expand ${CMAKE_CURRENT_SOURCE_DIR}/expand.cpp)
target_link_libraries(bench_expand PRIVATE kentongan::storage kentongan::warnings)
