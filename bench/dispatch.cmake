# bench_dispatch: a whole broadcast through the real service — scheduler, dispatcher, durable state
# changes with group commit, the simulated channel and its delivery reports (issue 3 target: 50,000/s).
add_executable(bench_dispatch ${CMAKE_CURRENT_SOURCE_DIR}/dispatch.cpp)
target_link_libraries(bench_dispatch PRIVATE kentongan::daemon kentongan::warnings)
