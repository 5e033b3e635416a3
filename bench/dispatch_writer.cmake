# bench_dispatch_writer: the storage writer's own work per dispatched message (claim_due and the result
# writes), in thread CPU time, without the service around it: stable enough to compare changes to the
# SQL on a busy machine, where bench_dispatch's wall-clock figures are not.
add_executable(bench_dispatch_writer ${CMAKE_CURRENT_SOURCE_DIR}/dispatch_writer.cpp)
target_link_libraries(bench_dispatch_writer PRIVATE kentongan::storage kentongan::warnings)
