# bench_webhooks: signed WhatsApp webhooks accepted and durably stored per second through the real
# service's HTTP listener (issue 6 target: 5,000/s on 2 cores), and outbound Cloud API requests per
# second from whatsapp_channel against the fake Graph API (compiled in: benchmarks build without tests).
add_executable(bench_webhooks ${CMAKE_CURRENT_SOURCE_DIR}/webhooks.cpp ${PROJECT_SOURCE_DIR}/tests/fakes/graph_api.cpp)
target_link_libraries(bench_webhooks PRIVATE kentongan::daemon kentongan::whatsapp kentongan::whatsapp_codec
                      nlohmann_json::nlohmann_json kentongan::warnings)
