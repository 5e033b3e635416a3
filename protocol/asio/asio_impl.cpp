#include <utility>

#include <boost/asio/impl/src.hpp>
