// bench_dispatch_writer [RECIPIENTS] [MODE] [DIR]
// The storage writer's work per dispatched message, as bench_dispatch makes it, timed in the calling
// thread's CPU time (so other processes on the machine barely move the figure): a broadcast to
// RECIPIENTS subscribers is claimed 2,500 rows per transaction (store::claim_due, as the dispatcher
// does) and each row's result written in the next transaction. MODE 0: submit and report merged
// (mark_submitted_final, bench_dispatch's common case); MODE 1: mark_submitted, then mark_reported by
// provider id; MODE 2: the same with the report naming its row (what the dispatcher does for a
// submit it remembers). Commits are not timed (one fsync per transaction; see bench_dispatch for the whole).
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <optional>
#include <filesystem>
#include <string>
#include <vector>

#include "storage/store.hpp"

using namespace kentongan;

namespace {
double thread_cpu_seconds() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) * 1e-9;
}
}  // namespace

int main(int argc, char** argv) {
  const long recipients = argc > 1 ? std::atol(argv[1]) : 100000;
  const int mode = argc > 2 ? std::atoi(argv[2]) : 0;
  const std::filesystem::path dir =
      argc > 3 ? std::filesystem::path(argv[3]) : std::filesystem::temp_directory_path() / "kentongan-bench-writer";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  storage::store s(dir / "kentongan.db");
  std::vector<core::subscriber> subscribers;
  for (long i = 0; i < recipients; ++i) {
    core::subscriber sub;
    sub.phone = "+62812" + std::to_string(10000000 + i);
    sub.name = "Warga " + std::to_string(i);
    subscribers.push_back(std::move(sub));
  }
  s.begin();
  s.sync_config({}, subscribers, {});
  s.commit();
  storage::broadcast_spec spec;
  spec.text = "Penyuluhan hama kakao di balai desa, Sabtu 08.00";
  spec.all = true;
  s.begin();
  const auto id = s.create_broadcast(spec);
  s.commit();
  for (;;) {
    s.begin();
    const auto inserted = s.expand_broadcast(id, 10000);
    s.commit();
    if (inserted == 0) break;
  }

  const std::string channel = "sim";
  double claim_s = 0, results_s = 0;
  long done = 0, next_provider_id = 1;
  for (;;) {
    s.begin();
    auto t0 = thread_cpu_seconds();
    const auto rows = s.claim_due(core::now(), 2500, true);
    claim_s += thread_cpu_seconds() - t0;
    s.commit();
    if (rows.empty()) break;
    s.begin();
    t0 = thread_cpu_seconds();
    const long first = next_provider_id;
    for (const auto& r : rows) {
      const auto provider_id = "SIM" + std::to_string(next_provider_id++);
      if (mode == 0)
        s.mark_submitted_final(r.id, channel, provider_id, 1, core::message_state::delivered, std::nullopt);
      else
        s.mark_submitted(r.id, channel, provider_id, 1);
    }
    if (mode == 1)
      for (long p = first; p < next_provider_id; ++p)
        s.mark_reported(channel, "SIM" + std::to_string(p), core::message_state::delivered, "DELIVRD");
    if (mode == 2)
      for (std::size_t i = 0; i < rows.size(); ++i)
        s.mark_reported(rows[i].id, channel, "SIM" + std::to_string(first + static_cast<long>(i)),
                        core::message_state::delivered, "DELIVRD");
    results_s += thread_cpu_seconds() - t0;
    s.commit();
    done += static_cast<long>(rows.size());
  }
  const auto counts = s.counts(id);
  const auto per = [done](double seconds) { return seconds * 1e6 / static_cast<double>(done); };
  std::printf("recipients            %ld (delivered %lld)\n", done, static_cast<long long>(counts.delivered));
  std::printf("mode                  %s\n", mode == 0   ? "submit and report merged"
                                                    : mode == 1 ? "submit, then report by provider id"
                                                                : "submit, then report by row");
  std::printf("claim_due             %.2f us/message (thread CPU)\n", per(claim_s));
  std::printf("result writes         %.2f us/message (thread CPU)\n", per(results_s));
  std::printf("writer SQL total      %.2f us/message, a ceiling of %.0f messages/s before commits\n",
              per(claim_s + results_s), 1e6 / per(claim_s + results_s));
  return 0;
}
