// The one translation unit that compiles Asio's and Beast's non-template
// code (BOOST_ASIO_SEPARATE_COMPILATION, BOOST_BEAST_SEPARATE_COMPILATION),
// so every other file only instantiates what it uses. Asio's ssl part has
// its own: the client's https:// and wss:// need it (src/client_net.cpp).
#include <boost/asio/impl/src.hpp>
#include <boost/asio/ssl/impl/src.hpp>
#include <boost/beast/src.hpp>
