#include <utility>

#include <boost/beast/src.hpp>
