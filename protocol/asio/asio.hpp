#pragma once
/// The one way to include Asio in this project. Boost 1.74's asio/awaitable.hpp uses
/// std::exchange without including <utility>; g++ 12 in C++20 needs it included first.

#include <utility>

#include <boost/asio.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
