#include "tests/fakes/fake_main.hpp"

#include <cstdlib>

namespace kentongan::fakes {

std::optional<int> parse_fake_options(int argc, char** argv, const char* program, const char* usage, fake_options& out,
                                      const fake_option_fn& own) {
  unsigned long port = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--help") {
      std::puts(usage);
      return 0;
    }
    if (i + 1 >= argc) {
      std::fprintf(stderr, "%s: %s needs a value (see --help)\n", program, arg.c_str());
      return 2;
    }
    const std::string value = argv[++i];
    if (arg == "--listen") {
      out.address = value;
    } else if (arg == "--port") {
      port = std::strtoul(value.c_str(), nullptr, 10);
    } else if (arg == "--port-file") {
      out.port_file = value;
    } else if (const auto error = own(arg, value); !error) {
      std::fprintf(stderr, "%s: unknown option %s (see --help)\n", program, arg.c_str());
      return 2;
    } else if (!error->empty()) {
      std::fprintf(stderr, "%s: %s\n", program, error->c_str());
      return 2;
    }
  }
  if (port > 65535) {
    std::fprintf(stderr, "%s: port out of range\n", program);
    return 2;
  }
  out.port = static_cast<std::uint16_t>(port);
  return std::nullopt;
}

}  // namespace kentongan::fakes
