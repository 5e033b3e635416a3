#include "protocol/channel/channel.hpp"

// The seam is header-only today; this unit keeps the library a real target for its dependents.
namespace kentongan::channel {}
