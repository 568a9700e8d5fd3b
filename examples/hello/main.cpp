// The README's first program: one typed route, served until Ctrl-C.
#include <switchboard/server.hpp>

#include <boost/describe/class.hpp>

#include <iostream>
#include <string>

struct greeting {
    std::string message;
};
BOOST_DESCRIBE_STRUCT(greeting, (), (message))

boost::asio::awaitable<switchboard::reply> hello(switchboard::request& req) {
    auto name = req.param<std::string>("name");
    co_return switchboard::reply::json(greeting{"hello, " + name});
}

int main() {
    switchboard::router routes;
    routes.get("/hello/:name", hello);

    switchboard::server server(std::move(routes), {.port = 8081});
    server.start();
    std::cout << "try: curl http://127.0.0.1:" << server.port() << "/hello/world" << std::endl;
    server.run_until_signal();
}
